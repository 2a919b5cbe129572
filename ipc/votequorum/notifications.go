package votequorum

import (
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"

	"github.com/corosync-go/corosync/ipc/mar"
)

// Event is a notification delivered on Client.Events: a Quorum, a Nodelist or an
// ExpectedVotes. Each carries the Context given to TrackStart.
type Event interface {
	isEvent()
}

// Node is a votequorum_node: a node known to votequorum and its state. A registered
// quorum device appears as node 0 (QdeviceNodeID).
type Node struct {
	NodeID uint32
	State  NodeState
}

// Quorum is res_lib_votequorum_quorum_notification: whether the cluster is quorate and
// every node votequorum knows of, with its state.
type Quorum struct {
	Context uint64
	Quorate bool
	Nodes   []Node
}

// Nodelist is res_lib_votequorum_nodelist_notification: the members of a new ring,
// sent during each membership change (and first in answer to TrackStart), before the
// ring's quorum is known.
type Nodelist struct {
	Context uint64
	RingID  RingID
	Members []uint32
}

// ExpectedVotes is res_lib_votequorum_expectedvotes_notification: the local node's
// expected votes changed.
type ExpectedVotes struct {
	Context       uint64
	ExpectedVotes uint32
}

func (Quorum) isEvent()        {}
func (Nodelist) isEvent()      {}
func (ExpectedVotes) isEvent() {}

// Encode returns the notification's bytes: quorate at 24, the context at 32, the count
// at 40, then {node id, state} pairs from 48.
func (q Quorum) Encode() []byte {
	e := frame.Response(QuorumNotificationBytes + nodeEntrySize*len(q.Nodes))
	e.U32(boolWord(q.Quorate))
	e.Zero(4)
	e.U64(q.Context)
	e.U32(uint32(len(q.Nodes)))
	e.Zero(4)
	for _, n := range q.Nodes {
		e.U32(n.NodeID)
		e.U32(uint32(n.State))
	}
	return frame.FinishResponse(e, ResQuorumNotification, 0)
}

// DecodeQuorum decodes a quorum notification; the count must not claim more nodes than
// the message holds. The header's code is not used (the daemon always sends CS_OK).
func DecodeQuorum(msg []byte) (Quorum, error) {
	const what = "quorum notification"
	d, _, err := responseDecoder(msg, ResQuorumNotification, QuorumNotificationBytes, what)
	if err != nil {
		return Quorum{}, err
	}
	var q Quorum
	q.Quorate = d.U32() != 0
	d.Skip(4)
	q.Context = d.U64()
	n := d.U32()
	d.Skip(4)
	if uint64(n)*nodeEntrySize > uint64(d.Remaining()) {
		return Quorum{}, malformed(what, fmt.Errorf("%d nodes claimed, %d bytes left", n, d.Remaining()))
	}
	if n > 0 {
		q.Nodes = make([]Node, n)
	}
	for i := range q.Nodes {
		q.Nodes[i].NodeID = d.U32()
		q.Nodes[i].State = NodeState(d.U32())
	}
	return q, done(d, what)
}

// Encode returns the notification's bytes: the context at 24, the ring id at 32 and 40,
// the count at 48, then the node ids from 56.
func (n Nodelist) Encode() []byte {
	e := frame.Response(NodelistNotificationBytes + nodeIDBytes*len(n.Members))
	e.U64(n.Context)
	putRingID(e, n.RingID)
	e.U32(uint32(len(n.Members)))
	e.Zero(4)
	for _, id := range n.Members {
		e.U32(id)
	}
	return frame.FinishResponse(e, ResNodelistNotification, 0)
}

// DecodeNodelist decodes a node list notification; the count must not claim more ids
// than the message holds.
func DecodeNodelist(msg []byte) (Nodelist, error) {
	const what = "nodelist notification"
	d, _, err := responseDecoder(msg, ResNodelistNotification, NodelistNotificationBytes, what)
	if err != nil {
		return Nodelist{}, err
	}
	var nl Nodelist
	nl.Context = d.U64()
	nl.RingID = ringID(d)
	count := d.U32()
	d.Skip(4)
	nl.Members = nodeIDs(d, count)
	return nl, done(d, what)
}

// Encode returns the notification's bytes: the context at 24, the expected votes at 32,
// then padding.
func (x ExpectedVotes) Encode() []byte {
	e := frame.Response(ExpectedVotesNotificationBytes)
	e.U64(x.Context)
	e.U32(x.ExpectedVotes)
	e.Zero(4)
	return frame.FinishResponse(e, ResExpectedVotesNotification, 0)
}

// DecodeExpectedVotes decodes an expected votes notification.
func DecodeExpectedVotes(msg []byte) (ExpectedVotes, error) {
	const what = "expected votes notification"
	d, _, err := responseDecoder(msg, ResExpectedVotesNotification, ExpectedVotesNotificationBytes, what)
	if err != nil {
		return ExpectedVotes{}, err
	}
	var x ExpectedVotes
	x.Context = d.U64()
	x.ExpectedVotes = d.U32()
	return x, done(d, what)
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
