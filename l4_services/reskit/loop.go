package reskit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrClosed is returned for work offered to a loop that has stopped.
var ErrClosed = errors.New("reskit: loop stopped")

// Loop runs posted work one piece at a time on the goroutine of Run, as corosync's main
// loop runs its callbacks. Post never blocks, so icmap notification callbacks may use it.
type Loop struct {
	clock Clock

	mu     sync.Mutex
	queue  []func()
	closed bool
	wake   chan struct{}
	done   chan struct{} // closed when Run returns
}

// NewLoop returns a loop whose timers run on clock (SystemClock when nil).
func NewLoop(clock Clock) *Loop {
	if clock == nil {
		clock = SystemClock()
	}
	return &Loop{clock: clock, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Now is the loop clock's reading (cs_timestamp_get).
func (l *Loop) Now() uint64 { return l.clock.Now() }

// Run runs posted work until ctx ends; then the loop drops what is queued and refuses
// more work. Call it once.
func (l *Loop) Run(ctx context.Context) {
	defer func() {
		l.mu.Lock()
		l.closed = true
		l.queue = nil
		l.mu.Unlock()
		close(l.done)
	}()
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-l.wake:
			}
			continue
		}
		f := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		f()
	}
}

// Post queues f; it reports false when the loop has stopped.
func (l *Loop) Post(f func()) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.queue = append(l.queue, f)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return true
}

// Do runs f on the loop and waits for it to finish; ErrClosed if the loop stops first.
func (l *Loop) Do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	if !l.Post(func() { f(); close(done) }) {
		return ErrClosed
	}
	select {
	case <-done:
		return nil
	case <-l.done:
		select {
		case <-done: // it ran just before the loop stopped
			return nil
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Idle waits until the loop has nothing queued: the work posted so far and the work it
// posted in turn have run. Timers that fire later post more.
func (l *Loop) Idle(ctx context.Context) error {
	for {
		empty := false
		err := l.Do(ctx, func() {
			l.mu.Lock()
			empty = len(l.queue) == 0
			l.mu.Unlock()
		})
		if err != nil || empty {
			return err
		}
	}
}

// Timer is a timer of the loop (corosync_timer_handle_t). Its zero value and nil are
// stopped timers.
type Timer struct {
	stopper Stopper
	dead    bool
}

// After arms a timer that runs f on the loop after d. Call it from the loop.
func (l *Loop) After(d time.Duration, f func()) *Timer {
	t := &Timer{}
	t.stopper = l.clock.AfterFunc(d, func() {
		l.Post(func() {
			if t.dead {
				return
			}
			t.dead = true
			f()
		})
	})
	return t
}

// Stop cancels the timer, also when it has fired and its work is still queued. Call it
// from the loop.
func (t *Timer) Stop() {
	if t == nil || t.dead {
		return
	}
	t.dead = true
	if t.stopper != nil {
		t.stopper.Stop()
	}
}

// Active reports whether the timer is armed and has not run.
func (t *Timer) Active() bool { return t != nil && !t.dead && t.stopper != nil }
