package sam

import (
	"sync"
	"time"

	"github.com/corosync-go/corosync/ipc"
)

// hcLoop is libsam's hc_callback_thread: while started, it sends a health check every
// quarter interval and asks the callback every fourth successful one; a callback that
// fails stops it for good, so the server's timer kills the child.
type hcLoop struct {
	s      *SAM
	period time.Duration
	cmds   chan bool // true: started, false: stopped
	done   chan struct{}
	once   sync.Once

	mu sync.Mutex
	cb func() error
}

// HCCallbackRegister is sam_hc_callback_register: event-driven health checking. Once
// registered, Start and Stop drive a goroutine that sends the health checks itself every
// quarter interval and calls cb every fourth one; cb returning an error stops the checks,
// so the child is killed after the interval. A nil cb after the first registration goes
// back to application-driven checks (HCSend). It needs a non-zero interval and may be
// called only between Register and Start.
func (s *SAM) HCCallbackRegister(cb func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != registered {
		return ipc.CSErrBadHandle
	}
	if s.interval == 0 {
		return ipc.CSErrInvalid
	}
	if s.hc != nil {
		s.hc.mu.Lock()
		s.hc.cb = cb
		s.hc.mu.Unlock()
		return nil
	}
	if cb == nil {
		return ipc.CSErrInvalid
	}
	// libsam shifts the interval in milliseconds right by two.
	period := time.Duration(s.intervalMs()>>2) * time.Millisecond
	s.hc = &hcLoop{s: s, period: period, cmds: make(chan bool, 4), done: make(chan struct{}), cb: cb}
	go s.hc.run()
	return nil
}

// notify tells the loop about Start (true) and Stop (false); without a callback the loop
// is not told, as in libsam.
func (h *hcLoop) notify(start bool) {
	if h == nil {
		return
	}
	h.mu.Lock()
	cb := h.cb
	h.mu.Unlock()
	if cb == nil {
		return
	}
	select {
	case h.cmds <- start:
	case <-h.done:
	}
}

func (h *hcLoop) close() {
	if h != nil {
		h.once.Do(func() { close(h.done) })
	}
}

const (
	hcStopped = 0
	hcStarted = 1
	hcFailed  = 3 // the callback failed: nothing more is sent
)

func (h *hcLoop) run() {
	state, counter := hcStopped, 0
	var tick <-chan time.Time
	var timer *time.Timer
	for {
		if state == hcStarted {
			if timer == nil {
				timer = time.NewTimer(max(h.period, time.Millisecond))
			} else {
				timer.Reset(max(h.period, time.Millisecond))
			}
			tick = timer.C
		} else {
			tick = nil
		}
		select {
		case <-h.done:
			if timer != nil {
				timer.Stop()
			}
			return
		case start := <-h.cmds:
			if timer != nil {
				timer.Stop()
			}
			switch {
			case state == hcStopped && start:
				state = hcStarted
			case state == hcStarted && !start:
				state = hcStopped
			}
		case <-tick:
			if h.s.HCSend() == nil {
				counter++
			}
			if counter >= 4 {
				h.mu.Lock()
				cb := h.cb
				h.mu.Unlock()
				if cb != nil && cb() != nil {
					state = hcFailed
				}
				counter = 0
			}
		}
	}
}
