package executive

import "sync/atomic"

// queueFigures are totempg's queue statistics (stats.pg.*) and send reservations.
// IPC handlers reserve room from their goroutines, so the loop publishes the ring's free
// room where they can read it without waiting for it.
type queueFigures struct {
	// room is the ring's free send-queue entries as the loop last saw them.
	room atomic.Int64
	// reserved is what running IPC handlers have reserved, in queue entries.
	reserved atomic.Int64
}

// baseReserved is totempg's reservation before any request: its totempg_reserved starts
// at 1.
const baseReserved = 1

// Reserve is corosync's totempg_groups_joined_reserve, called for each IPC request before
// its handler runs: it reserves the queue entries a message of msgBytes would need
// (msgBytes / frame + 1). It returns the entries reserved, 0 when the queue has not that
// much room (corosync then refuses flow-controlled requests with CS_ERR_TRY_AGAIN), or -1
// when no message that large can ever be sent (corosync counts the request invalid).
// Hand the result to Release when the handler returns. Safe from any goroutine.
func (x *Executive) Reserve(msgBytes int) int {
	if msgBytes > x.cfg.MessageBytesMax {
		return -1
	}
	entries := msgBytes/x.cfg.Totem.FrameBytesMax + 1 // Validate keeps the frame at 64 bytes or more
	if x.pg.room.Load() < int64(entries) {
		return 0
	}
	x.pg.reserved.Add(int64(entries))
	return entries
}

// Release returns what Reserve reserved (totempg_groups_joined_release).
func (x *Executive) Release(entries int) {
	if entries > 0 {
		x.pg.reserved.Add(-int64(entries))
	}
}

// publishRoom records the ring's free send-queue entries; called on the loop.
func (x *Executive) publishRoom() {
	x.pg.room.Store(int64(x.node.PendingRoom()))
}
