package quorum

import (
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"

	"github.com/corosync-go/corosync/ipc/mar"
)

// Event is a notification delivered on Client.Events: a Quorum or a Nodelist.
type Event interface {
	isEvent()
}

// Quorum is a quorum notification: whether this node is quorate, the ring it belongs to
// and the members of the quorum view. It is also res_lib_quorum_v1_quorum_notification,
// the model V1 notification; a model V0 connection gets NotificationV0 on the wire,
// which the client turns into a Quorum whose RingID.NodeID is 0.
type Quorum struct {
	Quorate bool
	RingID  RingID
	Members []uint32
}

// Nodelist is res_lib_quorum_v1_nodelist_notification, sent to model V1 connections
// after every membership change and, with Joined and Left empty, as the first answer to
// TrackStart: the ring's members and the nodes that joined and left since the previous
// ring.
type Nodelist struct {
	RingID  RingID
	Members []uint32
	Joined  []uint32
	Left    []uint32
}

func (Quorum) isEvent()   {}
func (Nodelist) isEvent() {}

// NotificationV0 is res_lib_quorum_notification, the quorum notification of model V0
// connections: the ring's sequence number without its node id.
type NotificationV0 struct {
	Quorate bool
	RingSeq uint64
	Members []uint32
}

// Encode returns the notification's bytes as 3.1.7 sends them: quorate at 24, ring_seq
// at 32, the count at 40, the ids from 44, and sizeof's 4 bytes of tail padding after
// them.
func (n NotificationV0) Encode() []byte {
	e := frame.Response(NotificationV0Bytes + nodeIDBytes*len(n.Members))
	e.U32(boolWord(n.Quorate))
	e.Zero(4)
	e.U64(n.RingSeq)
	e.U32(uint32(len(n.Members)))
	putNodeIDs(e, n.Members)
	e.Zero(4)
	return frame.FinishResponse(e, ResNotification, 0)
}

// DecodeNotificationV0 decodes a model V0 quorum notification. The header's code is not
// used (the daemon always sends CS_OK).
func DecodeNotificationV0(msg []byte) (NotificationV0, error) {
	const what = "quorum notification"
	d, _, err := responseDecoder(msg, ResNotification, NotificationV0Bytes, what)
	if err != nil {
		return NotificationV0{}, err
	}
	var n NotificationV0
	n.Quorate = d.I32() != 0
	d.Skip(4)
	n.RingSeq = d.U64()
	n.Members = nodeIDs(d, d.U32())
	return n, done(d, what)
}

// Encode returns the notification's bytes as 3.1.7 sends them: quorate at 24, the ring
// id at 32 (node id) and 40 (seq), the count at 48, the ids from 52, then 4 bytes of tail
// padding.
func (q Quorum) Encode() []byte {
	e := frame.Response(QuorumNotificationBytes + nodeIDBytes*len(q.Members))
	e.U32(boolWord(q.Quorate))
	e.Zero(4)
	putRingID(e, q.RingID)
	e.U32(uint32(len(q.Members)))
	putNodeIDs(e, q.Members)
	e.Zero(4)
	return frame.FinishResponse(e, ResV1QuorumNotification, 0)
}

// DecodeQuorum decodes a model V1 quorum notification.
func DecodeQuorum(msg []byte) (Quorum, error) {
	const what = "v1 quorum notification"
	d, _, err := responseDecoder(msg, ResV1QuorumNotification, QuorumNotificationBytes, what)
	if err != nil {
		return Quorum{}, err
	}
	var q Quorum
	q.Quorate = d.I32() != 0
	d.Skip(4)
	q.RingID = ringID(d)
	q.Members = nodeIDs(d, d.U32())
	return q, done(d, what)
}

// Encode returns the notification's bytes as 3.1.7 sends them: the ring id at 24 and 32,
// the three counts at 40, 48 and 56, then the member, joined and left ids one after the
// other from 60, and 4 bytes of tail padding.
func (n Nodelist) Encode() []byte {
	e := frame.Response(NodelistNotificationBytes + nodeIDBytes*(len(n.Members)+len(n.Joined)+len(n.Left)))
	putRingID(e, n.RingID)
	e.U32(uint32(len(n.Members)))
	e.Zero(4)
	e.U32(uint32(len(n.Joined)))
	e.Zero(4)
	e.U32(uint32(len(n.Left)))
	putNodeIDs(e, n.Members)
	putNodeIDs(e, n.Joined)
	putNodeIDs(e, n.Left)
	e.Zero(4)
	return frame.FinishResponse(e, ResV1NodelistNotification, 0)
}

// DecodeNodelist decodes a model V1 node list notification; the three counts together
// must not claim more ids than the message holds.
func DecodeNodelist(msg []byte) (Nodelist, error) {
	const what = "v1 nodelist notification"
	d, _, err := responseDecoder(msg, ResV1NodelistNotification, NodelistNotificationBytes, what)
	if err != nil {
		return Nodelist{}, err
	}
	var n Nodelist
	n.RingID = ringID(d)
	members := d.U32()
	d.Skip(4)
	joined := d.U32()
	d.Skip(4)
	left := d.U32()
	if total := uint64(members) + uint64(joined) + uint64(left); total*nodeIDBytes > uint64(d.Remaining()) {
		return Nodelist{}, malformed(what, fmt.Errorf("%d+%d+%d node ids claimed, %d bytes left", members, joined, left, d.Remaining()))
	}
	n.Members = nodeIDs(d, members)
	n.Joined = nodeIDs(d, joined)
	n.Left = nodeIDs(d, left)
	return n, done(d, what)
}

// putRingID writes a mar_quorum_ring_id_t: the node id, 4 bytes of padding, the seq.
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
