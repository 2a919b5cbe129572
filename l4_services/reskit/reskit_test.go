package reskit

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
	"github.com/corosync-go/corosync/l4_services/logsys"
)

func startLoop(t *testing.T, c Clock) *Loop {
	t.Helper()
	l := NewLoop(c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("loop did not stop")
		}
	})
	return l
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLoopRunsInOrderAndIdleWaitsForNestedWork(t *testing.T) {
	l := startLoop(t, NewFakeClock(0))
	var got []int
	for i := 0; i < 3; i++ {
		l.Post(func() {
			got = append(got, i)
			if i == 1 {
				l.Post(func() { got = append(got, 10) }) // queued behind 2
			}
		})
	}
	if err := l.Idle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	var seen []int
	l.Do(testCtx(t), func() { seen = append(seen, got...) })
	if fmt.Sprint(seen) != "[0 1 2 10]" {
		t.Errorf("order %v", seen)
	}
}

func TestLoopRefusesWorkAfterStop(t *testing.T) {
	l := NewLoop(NewFakeClock(0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	cancel()
	<-done
	if l.Post(func() {}) {
		t.Error("Post accepted after the loop stopped")
	}
	if err := l.Do(context.Background(), func() {}); err != ErrClosed {
		t.Errorf("Do after stop: %v", err)
	}
}

func TestTimersFireInOrderAndStopCancelsQueuedFiring(t *testing.T) {
	c := NewFakeClock(1000)
	l := startLoop(t, c)
	ctx := testCtx(t)
	var mu sync.Mutex
	var fired []string
	note := func(s string) func() {
		return func() { mu.Lock(); fired = append(fired, fmt.Sprintf("%s@%d", s, c.Now())); mu.Unlock() }
	}
	var stopMe *Timer
	l.Do(ctx, func() {
		l.After(3*time.Millisecond, note("b"))
		l.After(1*time.Millisecond, note("a"))
		stopMe = l.After(2*time.Millisecond, note("never"))
	})
	if p := c.Pending(); len(p) != 3 || p[0] != time.Millisecond {
		t.Fatalf("pending %v", p)
	}
	l.Do(ctx, func() { stopMe.Stop() })
	c.Advance(5*time.Millisecond, func() { l.Idle(ctx) })
	mu.Lock()
	got := strings.Join(fired, " ")
	mu.Unlock()
	if got != "a@1001000 b@3001000" {
		t.Errorf("fired %q", got)
	}
	if c.Now() != 1000+5*uint64(time.Millisecond) {
		t.Errorf("now %d", c.Now())
	}

	var stopped, done bool
	var tm *Timer
	l.Do(ctx, func() {
		tm = l.After(time.Millisecond, func() {})
		t2 := l.After(time.Millisecond, func() {})
		t2.Stop()
		stopped = !t2.Active() && tm.Active()
	})
	c.Advance(time.Millisecond, func() { l.Idle(ctx) })
	l.Do(ctx, func() { done = !tm.Active() })
	if !stopped || !done {
		t.Errorf("Active: stopped timer inactive and armed one active %v, fired one inactive %v", stopped, done)
	}
}

func TestStopBeatsAQueuedFiring(t *testing.T) {
	c := NewFakeClock(0)
	l := startLoop(t, c)
	ctx := testCtx(t)
	ran := false
	hold, held := make(chan struct{}), make(chan struct{})
	var tm *Timer
	l.Do(ctx, func() { tm = l.After(time.Millisecond, func() { ran = true }) })
	l.Post(func() { close(held); <-hold })
	<-held
	c.Advance(time.Millisecond, nil) // queues the firing behind the held work
	close(hold)
	l.Idle(ctx)
	if !ran {
		t.Fatal("the timer did not fire")
	}

	ran = false
	hold2, held2 := make(chan struct{}), make(chan struct{})
	l.Do(ctx, func() { tm = l.After(time.Millisecond, func() { ran = true }) })
	l.Post(func() { close(held2); <-hold2; tm.Stop() }) // stops while the firing waits in the queue
	<-held2
	c.Advance(time.Millisecond, nil)
	close(hold2)
	l.Idle(ctx)
	if ran {
		t.Error("a timer stopped while its firing was queued still ran")
	}
}

type records struct {
	mu    sync.Mutex
	lines []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, logsys.PriorityOf(rec.Level).String()+" "+rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func TestFSMTableAndLogLines(t *testing.T) {
	rec := &records{}
	f := NewFSM("memory_used", slog.New(rec))
	if f.State() != Stopped {
		t.Fatal("not stopped at start")
	}
	if f.Process(Failure) {
		t.Error("failure has a handler while stopped")
	}
	if !f.Process(ConfigChanged) || !f.Set(Running) {
		t.Fatal("stopped -> running refused")
	}
	if !f.Process(Failure) || f.Set(Stopped) {
		t.Error("the failure row allowed stopped")
	}
	if !f.Set(Failed) || f.State() != Failed {
		t.Fatal("running -> failed refused")
	}
	if f.Process(Failure) {
		t.Error("failure has a handler while failed")
	}
	f.Process(ConfigChanged)
	f.Set(Failed) // staying is silent
	f.Set(Stopped)
	want := []string{
		`info Fsm:memory_used event "config_changed", state "stopped" --> "running"`,
		`crit Fsm:memory_used Can't change state from "running" to "stopped" (event was "failure")`,
		`info Fsm:memory_used event "failure", state "running" --> "failed"`,
		`info Fsm:memory_used event "config_changed", state "failed" --> "stopped"`,
	}
	if strings.Join(rec.lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(rec.lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestGettersNeedTheType(t *testing.T) {
	m := icmap.New()
	m.Set("a.str", cmap.String("x"))
	m.Set("a.u32", cmap.Uint32(7))
	m.Set("a.u64", cmap.Uint64(8))
	if v, ok := String(m, "a.str"); !ok || v != "x" {
		t.Error("string")
	}
	if _, ok := String(m, "a.u32"); ok {
		t.Error("a u32 read as string")
	}
	if v, ok := Uint32(m, "a.u32"); !ok || v != 7 {
		t.Error("u32")
	}
	if _, ok := Uint32(m, "a.u64"); ok {
		t.Error("a u64 read as u32")
	}
	if v, ok := Uint64(m, "a.u64"); !ok || v != 8 {
		t.Error("u64")
	}
	if _, ok := Uint64(m, "a.none"); ok {
		t.Error("absent key found")
	}
}

func TestSystemClockIsMonotonicNanoseconds(t *testing.T) {
	c := SystemClock()
	a := c.Now()
	time.Sleep(2 * time.Millisecond)
	b := c.Now()
	if b-a < uint64(2*time.Millisecond) || b-a > uint64(time.Second) {
		t.Errorf("2 ms measured as %d ns", b-a)
	}
	fired := make(chan struct{})
	c.AfterFunc(time.Millisecond, func() { close(fired) })
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Error("AfterFunc never fired")
	}
}

// TestDoReturnsWhenTheLoopStops: work accepted just before the stop is dropped, and Do
// says so instead of waiting for its context.
func TestDoReturnsWhenTheLoopStops(t *testing.T) {
	l := NewLoop(NewFakeClock(0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	hold := make(chan struct{})
	l.Post(func() { cancel(); <-hold }) // the loop stops after this work
	errc := make(chan error, 1)
	go func() { errc <- l.Do(context.Background(), func() {}) }()
	time.Sleep(10 * time.Millisecond) // let Do queue its work behind the held one
	close(hold)
	select {
	case err := <-errc:
		if err != ErrClosed {
			t.Errorf("Do: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Do waited on a stopped loop")
	}
	<-done
}
