package executive

import (
	"context"
	"maps"

	evs "github.com/corosync-go/corosync/l3_evs"
)

// Endpoint sends an engine's messages to every member in the cluster's total order.
type Endpoint struct {
	x       *Executive
	service uint16
}

// Endpoint returns the sender for service.
func (x *Executive) Endpoint(service uint16) Endpoint { return Endpoint{x: x, service: service} }

// Send multicasts msg under msgID with guarantee g; msg is copied. Safe from any
// goroutine, including the engine's own delivery callbacks. ErrTryAgain means the queue is
// full; ErrMessageTooLarge that msg can never be sent.
func (e Endpoint) Send(msgID uint16, msg []byte, g evs.Guarantee) error {
	return e.x.submit(e.service, msgID, msg, g, false)
}

// SendSync multicasts a synchronisation message: while a new configuration is being
// synchronised it goes out at once, when messages of Send wait until every engine has
// synchronised (so that they apply to the same state on every member). Engines use it
// for what SyncProcess sends, and for messages that synchronisation may wait for.
// Outside synchronisation it behaves as Send, in the same order.
func (e Endpoint) SendSync(msgID uint16, msg []byte, g evs.Guarantee) error {
	return e.x.submit(e.service, msgID, msg, g, true)
}

// Snapshot is the node's state at one moment.
type Snapshot struct {
	State   evs.State
	Ring    evs.RingID
	Members []evs.NodeID
	Totem   evs.TotemStats
	Token   evs.TokenTiming
	EVS     evs.Stats
	// InboxDropped counts packets dropped because the loop fell behind.
	InboxDropped uint64
	// MsgQueueAvail is the ring's free send-queue entries (corosync's totemsrp_avail,
	// stats.pg.msg_queue_avail) and MsgReserved the entries reserved by running IPC
	// handlers plus totempg's base reservation of one (stats.pg.msg_reserved).
	MsgQueueAvail, MsgReserved int
}

// Snapshot returns the node's state, read on the executive's goroutine.
func (x *Executive) Snapshot(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	err := x.Do(ctx, func() {
		n := x.node
		s.State = n.State()
		ring, members := n.Ring()
		s.Ring = ring
		s.Members = append([]evs.NodeID(nil), members...)
		s.Totem = n.TotemStats()
		s.Token = n.TokenTiming(x.now())
		s.Totem.DecodeErrorsByReason = maps.Clone(s.Totem.DecodeErrorsByReason)
		s.EVS = x.node.Stats()
		s.EVS.BadFramesByReason = maps.Clone(s.EVS.BadFramesByReason)
		s.MsgQueueAvail = n.PendingRoom()
	})
	s.MsgReserved = baseReserved + int(x.pg.reserved.Load())
	x.mu.Lock()
	s.InboxDropped = x.dropped
	x.mu.Unlock()
	return s, err
}
