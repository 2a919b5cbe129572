package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// recordLog keeps the records logged through it.
type recordLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
	return nil
}
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *recordLog) WithGroup(string) slog.Handler      { return l }

func (l *recordLog) take() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.recs
	l.recs = nil
	return r
}

// fakeLoop is the token timeout and the run loop's stall a test sets.
type fakeLoop struct {
	token, stall time.Duration
	reads        int
}

func (f *fakeLoop) tokenTimeout() time.Duration { return f.token }
func (f *fakeLoop) loopStall() time.Duration {
	f.reads++
	s := f.stall
	f.stall = 0
	return s
}

// TestSchedMonitor drives the scheduler-pause check with an injected clock: the first run
// sets the threshold (0.8 × token), a gap or a run-loop stall above it is logged with
// corosync's line and kept as stats.schedmiss.0 (newest first, ten at most), and a clear
// forgets them.
func TestSchedMonitor(t *testing.T) {
	loop := &fakeLoop{token: time.Second, stall: 5 * time.Second} // start-up's stall is ignored
	logs := &recordLog{}
	m := newSchedMonitor(loop.tokenTimeout, loop.loopStall, slog.New(logs))
	if m.period() != time.Second/3 {
		t.Fatalf("period %v, want token/3", m.period())
	}
	base := time.UnixMilli(1_700_000_000_000)
	const ms = time.Millisecond
	now := time.Duration(0)
	tick := func(gap time.Duration) {
		now += gap
		m.tick(base.Add(now))
	}
	keys := func() map[string]string {
		out := map[string]icmap.Value{}
		m.keys(out)
		s := map[string]string{}
		for k, v := range out {
			s[k] = fmt.Sprintf("%s (%d)", v, v.Type())
		}
		return s
	}
	flt, u64 := int(cmap.TypeFloat), int(cmap.TypeUint64)

	tick(0)
	tick(333 * ms)
	tick(800 * ms) // a gap of exactly the threshold is not above it
	if r := logs.take(); len(r) != 0 || len(keys()) != 0 {
		t.Fatalf("events without a pause: %v %v", r, keys())
	}

	// 1200.0456 ms since the last run: corosync's float gives 1200.0455.
	tick(1200*ms + 45600)
	r := logs.take()
	want := "Corosync main process was not scheduled (@1700000002333) for 1200.0455 ms (threshold is 800.0000 ms). Consider token timeout increase."
	if len(r) != 1 || r[0].Message != want || r[0].Level != slog.LevelWarn {
		t.Fatalf("log %v, want one warning %q", r, want)
	}
	wantKeys := map[string]string{
		"stats.schedmiss.0.timestamp": fmt.Sprintf("1700000002333 (%d)", u64),
		"stats.schedmiss.0.delay":     fmt.Sprintf("1200.045532 (%d)", flt),
	}
	if got := keys(); fmt.Sprint(got) != fmt.Sprint(wantKeys) {
		t.Fatalf("keys %v, want %v", got, wantKeys)
	}

	// The run loop stalled although the monitor itself ran on time.
	loop.stall = 900 * ms
	tick(333 * ms)
	if r := logs.take(); len(r) != 1 || r[0].Message != "Corosync main process was not scheduled (@1700000002666) for 900.0000 ms (threshold is 800.0000 ms). Consider token timeout increase." {
		t.Fatalf("stall: %v", r)
	}
	if got := keys(); got["stats.schedmiss.0.delay"] != fmt.Sprintf("900.000000 (%d)", flt) || got["stats.schedmiss.1.delay"] != fmt.Sprintf("1200.045532 (%d)", flt) {
		t.Fatalf("newest first: %v", got)
	}

	// A longer token raises the threshold from the next run on.
	loop.token = 2 * time.Second
	tick(1000 * ms) // above 800: logged, with the old threshold
	tick(1500 * ms) // below 1600
	if r := logs.take(); len(r) != 1 || !strings.Contains(r[0].Message, "for 1000.0000 ms (threshold is 800.0000 ms)") {
		t.Fatalf("threshold change: %v", r)
	}

	// Ten events are kept; the oldest goes. (2011 ms is 2011.000122 as a C float.)
	for i := range 12 {
		tick(2000*ms + time.Duration(i)*ms)
	}
	got := keys()
	if len(got) != 2*schedmissMax {
		t.Fatalf("%d keys, want %d", len(got), 2*schedmissMax)
	}
	if got["stats.schedmiss.0.delay"] != fmt.Sprintf("2011.000122 (%d)", flt) || got["stats.schedmiss.9.delay"] != fmt.Sprintf("2002.000000 (%d)", flt) {
		t.Fatalf("kept %v .. %v", got["stats.schedmiss.0.delay"], got["stats.schedmiss.9.delay"])
	}
	if _, ok := got[fmt.Sprintf("stats.schedmiss.%d.delay", schedmissMax)]; ok {
		t.Fatal("an eleventh event")
	}
	m.clear()
	if len(keys()) != 0 {
		t.Fatal("clear kept events")
	}
	if loop.reads != 19 {
		t.Errorf("the run loop's stall was read %d times, want once per run", loop.reads)
	}
}

// TestSchedMonitorRuns: the goroutine runs the check at once and then every token / 3.
func TestSchedMonitorRuns(t *testing.T) {
	reads := make(chan struct{}, 10)
	m := newSchedMonitor(func() time.Duration { return 30 * time.Millisecond },
		func() time.Duration { reads <- struct{}{}; return 0 }, slog.New(&recordLog{}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.run(ctx); close(done) }()
	for i := range 3 {
		select {
		case <-reads:
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d never happened", i+1)
		}
	}
	cancel()
	<-done
}
