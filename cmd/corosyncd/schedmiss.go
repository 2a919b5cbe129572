package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// schedmissMax is how many events corosync keeps (exec/stats.c MAX_SCHEDMISS_EVENTS); the
// oldest is dropped for a new one.
const schedmissMax = 10

// schedmissEvent is one entry of stats.schedmiss.<i>: when (milliseconds since the epoch)
// and for how long (milliseconds, a C float) the daemon was not scheduled.
type schedmissEvent struct {
	timestamp uint64
	delay     float32
}

// schedMonitor is corosync 3.1.7's scheduler-pause check (exec/main.c,
// timer_function_scheduler_timeout): a timer every token timeout / 3 measures the time
// since its previous run, and a gap above 0.8 × the token timeout is logged and kept in
// stats.schedmiss. Besides its own lateness it reads how long the ring's run loop could
// not act (executive.LoopStall), because that loop is the one that must pass the token:
// the delay of an event is the longer of the two.
type schedMonitor struct {
	// token is the effective token timeout now (it changes on reload); stall returns and
	// resets the run loop's longest stall.
	token func() time.Duration
	stall func() time.Duration
	log   *slog.Logger

	mu        sync.Mutex
	prev      time.Time
	started   bool
	threshold time.Duration
	events    []schedmissEvent // newest first
}

func newSchedMonitor(token, stall func() time.Duration, log *slog.Logger) *schedMonitor {
	return &schedMonitor{token: token, stall: stall, log: log}
}

// period is how long the timer waits before the next check.
func (m *schedMonitor) period() time.Duration { return max(m.token()/3, time.Millisecond) }

// run checks every period until ctx ends.
func (m *schedMonitor) run(ctx context.Context) {
	m.tick(time.Now())
	t := time.NewTimer(m.period())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.tick(time.Now())
			t.Reset(m.period())
		}
	}
}

// tick is one run of the timer at now (which carries the monotonic clock reading for the
// gap and the wall clock for the event's timestamp).
func (m *schedMonitor) tick(now time.Time) {
	stall := m.stall()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started {
		// The first run has nothing to compare with; corosync pretends all is well, and
		// the loop's stall so far belongs to start-up.
		m.started, m.prev, m.threshold = true, now, 0
		stall = 0
	}
	gap := max(now.Sub(m.prev), stall)
	m.prev = now
	if gap > m.threshold {
		ts := uint64(now.UnixMilli())
		delay := float32(gap.Nanoseconds()) / float32(time.Millisecond)
		threshold := float32(m.threshold.Nanoseconds()) / float32(time.Millisecond)
		m.log.Warn(fmt.Sprintf("Corosync main process was not scheduled (@%d) for %0.4f ms (threshold is %0.4f ms). Consider token timeout increase.", ts, float64(delay), float64(threshold)))
		m.events = append([]schedmissEvent{{timestamp: ts, delay: delay}}, m.events[:min(len(m.events), schedmissMax-1)]...)
	}
	// As corosync, the next threshold follows the token timeout, which a reload may change.
	m.threshold = time.Duration(float64(m.token()) * 0.8)
}

// keys adds stats.schedmiss.<i>.timestamp (u64) and .delay (flt), newest first.
func (m *schedMonitor) keys(out map[string]icmap.Value) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range m.events {
		out[fmt.Sprintf("stats.schedmiss.%d.timestamp", i)] = cmap.Uint64(e.timestamp)
		out[fmt.Sprintf("stats.schedmiss.%d.delay", i)] = cmap.Float(e.delay)
	}
}

// clear forgets the events (corosync-cmapctl -C schedmiss).
func (m *schedMonitor) clear() {
	m.mu.Lock()
	m.events = nil
	m.mu.Unlock()
}

// tokenTimeout is the effective token timeout the ring runs with now
// (runtime.config.totem.token, which a reload updates), corosync's totem_config
// token_timeout.
func (d *daemon) tokenTimeout() time.Duration {
	if v, err := d.m.Get("runtime.config.totem.token"); err == nil && v.Type() == cmap.TypeUint32 {
		return time.Duration(v.Uint32()) * time.Millisecond
	}
	return 3 * time.Second // corosync's default token
}
