package reskit

import (
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Clock is the time source of the resource services.
type Clock interface {
	// Now is cs_timestamp_get: CLOCK_MONOTONIC in nanoseconds. mon stores it in
	// resources.*.last_updated and wd compares it with its own reading.
	Now() uint64
	// AfterFunc calls f once, on a goroutine of its own, after d.
	AfterFunc(d time.Duration, f func()) Stopper
}

// Stopper cancels a pending AfterFunc; *time.Timer is one.
type Stopper interface {
	Stop() bool
}

// SystemClock is the machine's monotonic clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		// CLOCK_MONOTONIC cannot fail on Linux; keep a definite value anyway.
		return 0
	}
	return uint64(ts.Sec)*uint64(time.Second) + uint64(ts.Nsec)
}

func (systemClock) AfterFunc(d time.Duration, f func()) Stopper { return time.AfterFunc(d, f) }

// FakeClock is a Clock that moves only when told to (for tests). Its timers fire during
// Advance, on the caller's goroutine.
type FakeClock struct {
	mu     sync.Mutex
	now    uint64
	seq    uint64
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *FakeClock
	at      uint64
	seq     uint64 // keeps timers due at the same time in arming order
	f       func()
	pending bool
}

// NewFakeClock returns a clock reading start nanoseconds.
func NewFakeClock(start uint64) *FakeClock { return &FakeClock{now: start} }

// Now implements Clock.
func (c *FakeClock) Now() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements Clock.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{c: c, at: c.now + uint64(max(d, 0)), seq: c.seq, f: f, pending: true}
	c.timers = append(c.timers, t)
	return t
}

// Stop implements Stopper.
func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.pending
	t.pending = false
	return was
}

// Advance moves the clock forward by d. Timers due on the way fire in time order, the
// clock reading their due time while they fire; after each, settle (when not nil) runs, so
// that the work a timer started (arming further timers) happens at that time.
func (c *FakeClock) Advance(d time.Duration, settle func()) {
	c.mu.Lock()
	end := c.now + uint64(max(d, 0))
	c.mu.Unlock()
	for {
		c.mu.Lock()
		t := c.nextDue(end)
		if t == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		t.pending = false
		c.now = t.at
		c.mu.Unlock()
		t.f()
		if settle != nil {
			settle()
		}
	}
}

// nextDue returns the earliest pending timer due by end. Called with mu held.
func (c *FakeClock) nextDue(end uint64) *fakeTimer {
	live := c.timers[:0]
	for _, t := range c.timers {
		if t.pending {
			live = append(live, t)
		}
	}
	c.timers = live
	sort.SliceStable(c.timers, func(i, j int) bool {
		a, b := c.timers[i], c.timers[j]
		return a.at < b.at || a.at == b.at && a.seq < b.seq
	})
	if len(c.timers) == 0 || c.timers[0].at > end {
		return nil
	}
	return c.timers[0]
}

// Pending returns how long until each pending timer fires, soonest first.
func (c *FakeClock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, t := range c.timers {
		if t.pending {
			out = append(out, time.Duration(t.at-c.now))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
