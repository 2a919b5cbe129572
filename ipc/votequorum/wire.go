package votequorum

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/frame"
	"github.com/corosync-go/corosync/ipc/mar"
)

// Request ids (enum req_votequorum_types, include/corosync/ipc_votequorum.h of corosync
// 3.1.7). Id 9 is QDEVICE_MASTER_WINS; releases before 2.x had QDEVICE_GETINFO there.
const (
	ReqGetInfo           int32 = 0
	ReqSetExpected       int32 = 1
	ReqSetVotes          int32 = 2
	ReqTrackStart        int32 = 3
	ReqTrackStop         int32 = 4
	ReqQdeviceRegister   int32 = 5
	ReqQdeviceUnregister int32 = 6
	ReqQdeviceUpdate     int32 = 7
	ReqQdevicePoll       int32 = 8
	ReqQdeviceMasterWins int32 = 9
)

// Response and notification ids (enum res_votequorum_types). Every request but GETINFO is
// answered with ResStatus, TRACKSTART included: 3.1.7 never sends ResTrackStart.
const (
	ResStatus                    int32 = 0
	ResGetInfo                   int32 = 1
	ResTrackStart                int32 = 2
	ResQuorumNotification        int32 = 3
	ResExpectedVotesNotification int32 = 4
	ResNodelistNotification      int32 = 5
)

// InfoFlags are the VOTEQUORUM_INFO_* bits of Info.Flags.
type InfoFlags uint32

// The flags of 3.1.7's votequorum.h.
const (
	InfoTwoNode           InfoFlags = 1
	InfoQuorate           InfoFlags = 2
	InfoWaitForAll        InfoFlags = 4
	InfoLastManStanding   InfoFlags = 8
	InfoAutoTieBreaker    InfoFlags = 16
	InfoAllowDownscale    InfoFlags = 32
	InfoQdeviceRegistered InfoFlags = 64
	InfoQdeviceAlive      InfoFlags = 128
	InfoQdeviceCastVote   InfoFlags = 256
	InfoQdeviceMasterWins InfoFlags = 512
)

var infoFlagNames = []struct {
	f    InfoFlags
	name string
}{
	{InfoTwoNode, "2Node"}, {InfoQuorate, "Quorate"}, {InfoWaitForAll, "WaitForAll"},
	{InfoLastManStanding, "LastManStanding"}, {InfoAutoTieBreaker, "AutoTieBreaker"},
	{InfoAllowDownscale, "AllowDownscale"}, {InfoQdeviceRegistered, "Qdevice"},
	{InfoQdeviceAlive, "QdeviceAlive"}, {InfoQdeviceCastVote, "QdeviceCastVote"},
	{InfoQdeviceMasterWins, "QdeviceMasterWins"},
}

// String lists the set flags by the names corosync-quorumtool prints, separated by
// spaces.
func (f InfoFlags) String() string {
	var names []string
	for _, n := range infoFlagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("0x%x", uint32(f)))
	}
	return strings.Join(names, " ")
}

// NodeState is a node's VOTEQUORUM_NODESTATE_*.
type NodeState uint32

// The node states.
const (
	NodeStateMember  NodeState = 1
	NodeStateDead    NodeState = 2
	NodeStateLeaving NodeState = 3
)

// String names the state as corosync-quorumtool does.
func (s NodeState) String() string {
	switch s {
	case NodeStateMember:
		return "Member"
	case NodeStateDead:
		return "Dead"
	case NodeStateLeaving:
		return "Leaving"
	}
	return fmt.Sprintf("NodeState(%d)", uint32(s))
}

// TrackFlags select what TrackStart delivers (CS_TRACK_* of corotypes.h).
type TrackFlags uint32

// The tracking flags.
const (
	// TrackCurrent sends the current state at once.
	TrackCurrent TrackFlags = 0x01
	// TrackChanges sends the current state at once and every change after it.
	TrackChanges TrackFlags = 0x02
	// TrackChangesOnly sends changes only.
	TrackChangesOnly TrackFlags = 0x04
)

// Limits of 3.1.7 (votequorum.h).
const (
	// QdeviceNodeID is the node id votequorum gives a quorum device (and GETINFO's id of
	// the local node).
	QdeviceNodeID = 0
	// QdeviceMaxNameLen is VOTEQUORUM_QDEVICE_MAX_NAME_LEN, a device name field's size
	// (NUL included).
	QdeviceMaxNameLen = 255
	// QdeviceDefaultTimeout is VOTEQUORUM_QDEVICE_DEFAULT_TIMEOUT in milliseconds: a
	// device that does not poll again within quorum.device.timeout loses its vote.
	QdeviceDefaultTimeout = 10000
	// QdeviceDefaultSyncTimeout is VOTEQUORUM_QDEVICE_DEFAULT_SYNC_TIMEOUT in
	// milliseconds.
	QdeviceDefaultSyncTimeout = 30000
)

// Sizes of 3.1.7's structs as gcc lays them out on amd64.
const (
	// HeaderRequestBytes is req_lib_votequorum_general (TRACKSTOP).
	HeaderRequestBytes = 16
	// WordRequestBytes is req_lib_votequorum_getinfo, _setexpected and _setvotes.
	WordRequestBytes = 24
	// TrackStartRequestBytes is req_lib_votequorum_trackstart.
	TrackStartRequestBytes = 32
	// QdeviceNameRequestBytes is req_lib_votequorum_qdevice_register and _unregister.
	QdeviceNameRequestBytes = 272
	// QdeviceUpdateRequestBytes is req_lib_votequorum_qdevice_update.
	QdeviceUpdateRequestBytes = 528
	// QdevicePollRequestBytes is req_lib_votequorum_qdevice_poll.
	QdevicePollRequestBytes = 296
	// QdeviceMasterWinsRequestBytes is req_lib_votequorum_qdevice_master_wins.
	QdeviceMasterWinsRequestBytes = 280
	// StatusResponseBytes is res_lib_votequorum_status.
	StatusResponseBytes = 24
	// GetInfoResponseBytes is res_lib_votequorum_getinfo.
	GetInfoResponseBytes = 320
	// QuorumNotificationBytes is res_lib_votequorum_quorum_notification without its
	// 8-byte node entries.
	QuorumNotificationBytes = 48
	// NodelistNotificationBytes is res_lib_votequorum_nodelist_notification without its
	// 4-byte node ids.
	NodelistNotificationBytes = 56
	// ExpectedVotesNotificationBytes is res_lib_votequorum_expectedvotes_notification.
	ExpectedVotesNotificationBytes = 40

	reqHdr        = ipc.RequestHeaderBytes
	resHdr        = ipc.ResponseHeaderBytes
	nodeIDBytes   = 4
	nodeEntrySize = 8
)

// RingID identifies a membership (votequorum_ring_id_t, struct mar_votequorum_ring_id):
// the node that formed the ring and its sequence number. QdevicePoll must name the
// current one, which Nodelist notifications carry.
type RingID struct {
	NodeID uint32
	Seq    uint64
}

// String formats the ring id as corosync logs it.
func (r RingID) String() string { return fmt.Sprintf("%d.%d", r.NodeID, r.Seq) }

// ErrMalformed is wrapped by the errors of messages that do not have their type's layout.
var ErrMalformed = errors.New("votequorum: malformed message")

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
}

// requestDecoder checks a request's header and minimum length (frame.RequestBody).
func requestDecoder(msg []byte, id int32, min int, what string) (*mar.Decoder, error) {
	d, err := frame.RequestBody(msg, id, reqHdr, min)
	if err != nil {
		return nil, malformed(what, err)
	}
	return d, nil
}

// responseDecoder checks a response's or event's header and minimum length
// (frame.ResponseBody).
func responseDecoder(msg []byte, id int32, min int, what string) (*mar.Decoder, ipc.CS, error) {
	d, cs, err := frame.ResponseBody(msg, id, min)
	if err != nil {
		return nil, 0, malformed(what, err)
	}
	return d, cs, nil
}

func done(d *mar.Decoder, what string) error {
	if err := d.Err(); err != nil {
		return malformed(what, err)
	}
	return nil
}

// checkName reports whether a device name fits its 255-byte C string field.
func checkName(what, s string) error {
	if len(s) >= QdeviceMaxNameLen {
		return fmt.Errorf("votequorum: %s of %d bytes does not fit its %d-byte field: %w", what, len(s), QdeviceMaxNameLen, ipc.CSErrInvalid)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("votequorum: %s holds a NUL: %w", what, ipc.CSErrInvalid)
	}
	return nil
}

// putName writes a checked name NUL-padded into a device name field.
func putName(e *mar.Encoder, s string) { e.Fixed([]byte(s), QdeviceMaxNameLen) }

// readName reads a device name field, which must hold its NUL: the daemon uses it as a C
// string.
func readName(d *mar.Decoder) string {
	b := d.Bytes(QdeviceMaxNameLen)
	if d.Err() != nil {
		return ""
	}
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		d.Fail(fmt.Errorf("%d-byte name field without its NUL", QdeviceMaxNameLen))
		return ""
	}
	return string(b[:i])
}

func putRingID(e *mar.Encoder, r RingID) {
	e.U32(r.NodeID)
	e.Zero(4)
	e.U64(r.Seq)
}

func ringID(d *mar.Decoder) RingID {
	var r RingID
	r.NodeID = d.U32()
	d.Skip(4)
	r.Seq = d.U64()
	return r
}

func boolWord(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
