package executive

import (
	"sync/atomic"
	"time"
)

// stallMeter keeps the longest time the run loop could not act since it was last read:
// either one iteration's work, or how late the loop woke for a timer that was due.
// corosync's main loop is what its scheduler-pause check watches; here the loop is
// the goroutine that must serve the token on time.
type stallMeter struct {
	longest atomic.Int64 // nanoseconds
}

func (m *stallMeter) note(d time.Duration) {
	for {
		cur := m.longest.Load()
		if int64(d) <= cur || m.longest.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// LoopStall returns the longest time the run loop could not act (an iteration's work, or
// its lateness for a due timer) since the previous call, and starts a new measurement.
// Safe from any goroutine.
func (x *Executive) LoopStall() time.Duration {
	return time.Duration(x.stall.longest.Swap(0))
}
