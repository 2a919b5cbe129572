package quorum

import (
	"errors"
	"fmt"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/frame"
	"github.com/corosync-go/corosync/ipc/mar"
)

// Request ids (enum req_quorum_types, include/corosync/ipc_quorum.h of corosync 3.1.7).
const (
	ReqGetQuorate   int32 = 0
	ReqTrackStart   int32 = 1
	ReqTrackStop    int32 = 2
	ReqGetType      int32 = 3
	ReqModelGetType int32 = 4
)

// Response and notification ids (enum res_quorum_types). ResNotification is the model V0
// quorum notification; the V1 ones carry a full ring id and come with a node list event.
const (
	ResGetQuorate             int32 = 0
	ResTrackStart             int32 = 1
	ResTrackStop              int32 = 2
	ResNotification           int32 = 3
	ResGetType                int32 = 4
	ResModelGetType           int32 = 5
	ResV1QuorumNotification   int32 = 6
	ResV1NodelistNotification int32 = 7
)

// Model is the notification model a connection asks for (quorum_model_t,
// enum lib_quorum_model).
type Model uint32

// The models of 3.1.7.
const (
	// ModelV0 is quorum_initialize's model: quorum notifications with the ring's sequence
	// number only, no node list notifications.
	ModelV0 Model = 0
	// ModelV1 is quorum_model_initialize(QUORUM_MODEL_V1): quorum notifications with the
	// whole ring id, and node list notifications (members, joined, left).
	ModelV1 Model = 1
)

// Type says whether a quorum provider is configured (the quorum_type quorum_initialize
// returns).
type Type uint32

// The quorum types (QUORUM_FREE, QUORUM_SET in quorum.h).
const (
	// TypeFree: no provider; the node is always quorate.
	TypeFree Type = 0
	// TypeSet: a provider (corosync_votequorum) decides.
	TypeSet Type = 1
)

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

// Sizes of 3.1.7's structs as gcc lays them out on amd64.
const (
	// HeaderRequestBytes is a request that is only a header (GETQUORATE, TRACKSTOP,
	// GETTYPE).
	HeaderRequestBytes = 16
	// TrackStartRequestBytes is req_lib_quorum_trackstart.
	TrackStartRequestBytes = 24
	// ModelGetTypeRequestBytes is req_lib_quorum_model_gettype.
	ModelGetTypeRequestBytes = 24
	// StatusResponseBytes is a bare response header (TRACKSTART, TRACKSTOP answers).
	StatusResponseBytes = 24
	// WordResponseBytes is res_lib_quorum_getquorate, res_lib_quorum_gettype and
	// res_lib_quorum_model_gettype.
	WordResponseBytes = 32
	// NotificationV0Bytes is sizeof(res_lib_quorum_notification); the list starts 4
	// bytes before its end, at 44, so the daemon's messages end with 4 padding bytes.
	NotificationV0Bytes = 48
	// QuorumNotificationBytes is sizeof(res_lib_quorum_v1_quorum_notification); the list
	// starts at 52.
	QuorumNotificationBytes = 56
	// NodelistNotificationBytes is sizeof(res_lib_quorum_v1_nodelist_notification); the
	// lists start at 60.
	NodelistNotificationBytes = 64

	reqHdr      = ipc.RequestHeaderBytes
	resHdr      = ipc.ResponseHeaderBytes
	nodeIDBytes = 4
)

// RingID identifies a membership (struct quorum_ring_id, mar_quorum_ring_id_t): the node
// that formed the ring and its sequence number.
type RingID struct {
	NodeID uint32
	Seq    uint64
}

// String formats the ring id as corosync logs it.
func (r RingID) String() string { return fmt.Sprintf("%d.%d", r.NodeID, r.Seq) }

// ErrMalformed is wrapped by the errors of messages that do not have their type's layout.
var ErrMalformed = errors.New("quorum: malformed message")

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

// nodeIDs reads n 32-bit node ids, failing the decoder when the message holds fewer
// (before allocating, so a lying count cannot make it allocate much).
func nodeIDs(d *mar.Decoder, n uint32) []uint32 {
	if uint64(n)*nodeIDBytes > uint64(d.Remaining()) {
		d.Fail(fmt.Errorf("%d node ids claimed, %d bytes left", n, d.Remaining()))
		return nil
	}
	if n == 0 {
		return nil
	}
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = d.U32()
	}
	return ids
}

func putNodeIDs(e *mar.Encoder, ids []uint32) {
	for _, id := range ids {
		e.U32(id)
	}
}

func boolWord(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
