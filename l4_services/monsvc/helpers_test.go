package monsvc

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
	"github.com/corosync-go/corosync/l4_services/reskit"
)

// fakeStats returns figures the test sets.
type fakeStats struct {
	mu     sync.Mutex
	mem    int32
	load   float64
	memErr error
	reads  int
}

func (f *fakeStats) MemoryUsed() (int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.mem, f.memErr
}

func (f *fakeStats) Load15() (float64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.load, nil
}

func (f *fakeStats) setMem(v int32) { f.mu.Lock(); f.mem = v; f.mu.Unlock() }

// records keeps log lines as "priority [SUBSYS] message".
type records struct {
	mu    *sync.Mutex
	lines *[]string
	sub   string
}

func newRecords() *records { return &records{mu: &sync.Mutex{}, lines: &[]string{}} }

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.lines = append(*r.lines, logsys.PriorityOf(rec.Level).String()+" ["+r.sub+"] "+rec.Message)
	return nil
}
func (r *records) WithAttrs(as []slog.Attr) slog.Handler {
	n := *r
	for _, a := range as {
		if a.Key == logsys.SubsysKey {
			n.sub = a.Value.String()
		}
	}
	return &n
}
func (r *records) WithGroup(string) slog.Handler { return r }

// take returns the lines logged since the last take.
func (r *records) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(*r.lines, "\n")
	*r.lines = nil
	return s
}

// env is a mon engine on a fake clock and fake figures.
type env struct {
	t     *testing.T
	ctx   context.Context
	m     *icmap.Map
	clock *reskit.FakeClock
	loop  *reskit.Loop
	stats *fakeStats
	log   *records
	svc   *Service
}

const start = uint64(5000 * time.Second) // the fake monotonic clock at the start

func newEnv(t *testing.T, keys map[string]cmap.Value) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	e := &env{t: t, ctx: ctx, m: icmap.New(), clock: reskit.NewFakeClock(start), stats: &fakeStats{mem: 40, load: 0.5}, log: newRecords()}
	for k, v := range keys {
		e.m.Set(k, v)
	}
	e.loop = reskit.NewLoop(e.clock)
	done := make(chan struct{})
	go func() { e.loop.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	e.svc = New(Config{Map: e.m, Loop: e.loop, Stats: e.stats, Log: slog.New(e.log)})
	if err := e.svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// settle waits until the engine has handled everything so far.
func (e *env) settle() {
	if err := e.loop.Idle(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) advance(d time.Duration) { e.clock.Advance(d, e.settle) }

func (e *env) set(key string, v cmap.Value) {
	e.t.Helper()
	if err := e.m.Set(key, v); err != nil {
		e.t.Fatal(err)
	}
	e.settle()
}

// get prints a key as corosync-cmapctl does: "(type) = value".
func (e *env) get(key string) string {
	v, err := e.m.Get(key)
	if err != nil {
		return "absent"
	}
	if v.Type() == cmap.TypeDouble {
		return fmt.Sprintf("(dbl) = %f", v.Double())
	}
	return "(" + v.Type().String() + ") = " + v.String()
}

func (e *env) state(name string) reskit.State {
	st, err := e.svc.States(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return st[name]
}
