package wdsvc

import (
	"context"
	"errors"
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

// fakeDevice is a watchdog that only counts: tests never touch a real one.
type fakeDevice struct {
	mu         sync.Mutex
	timeout    uint32
	options    uint32
	keepalives int
	enabled    bool
	closed     bool
	calls      []string
}

func (d *fakeDevice) note(s string) { d.calls = append(d.calls, s) }

func (d *fakeDevice) Info() (Info, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Info{Options: d.options, Identity: "fake watchdog"}, nil
}

func (d *fakeDevice) Timeout() (uint32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.timeout, nil
}

func (d *fakeDevice) SetTimeout(sec uint32) (uint32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.note(fmt.Sprintf("set %d", sec))
	d.timeout = sec
	return sec, nil
}

func (d *fakeDevice) Keepalive() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keepalives++
	return nil
}

func (d *fakeDevice) Enable() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.enabled = true
	return nil
}

func (d *fakeDevice) MagicClose() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}

func (d *fakeDevice) Fd() int { return 9 }

func (d *fakeDevice) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.keepalives
}

// fakeDevices hands out one fake device.
type fakeDevices struct {
	mu       sync.Mutex
	writable bool
	openErr  error
	dev      *fakeDevice
	opened   []string
}

func (f *fakeDevices) Writable(string) bool { return f.writable }

func (f *fakeDevices) Open(path string) (Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = append(f.opened, path)
	if f.openErr != nil {
		return nil, f.openErr
	}
	return f.dev, nil
}

// fakeHost counts the reboots it was asked for.
type fakeHost struct {
	mu                sync.Mutex
	reboots, poweroff int
}

func (h *fakeHost) Reboot() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reboots++
	return errors.New("not really")
}

func (h *fakeHost) PowerOff() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.poweroff++
	return nil
}

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

func (r *records) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(*r.lines, "\n")
	*r.lines = nil
	return s
}

const start = uint64(5000 * time.Second)

type env struct {
	t       *testing.T
	ctx     context.Context
	m       *icmap.Map
	clock   *reskit.FakeClock
	loop    *reskit.Loop
	log     *records
	devices *fakeDevices
	host    *fakeHost
	svc     *Service
}

// newEnv starts a wd engine on keys; devices may be nil (no device can be opened).
func newEnv(t *testing.T, keys map[string]cmap.Value, devices *fakeDevices) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	e := &env{t: t, ctx: ctx, m: icmap.New(), clock: reskit.NewFakeClock(start), log: newRecords(), devices: devices, host: &fakeHost{}}
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
	cfg := Config{Map: e.m, Loop: e.loop, Host: e.host, Log: slog.New(e.log)}
	if devices != nil {
		cfg.Devices = devices
	}
	e.svc = New(cfg)
	if err := e.svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

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

func (e *env) del(key string) {
	e.t.Helper()
	if err := e.m.Delete(key); err != nil {
		e.t.Fatal(err)
	}
	e.settle()
}

func (e *env) status() Status {
	st, err := e.svc.Status(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) expectLog(want ...string) {
	e.t.Helper()
	if got := e.log.take(); got != strings.Join(want, "\n") {
		e.t.Errorf("log:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
