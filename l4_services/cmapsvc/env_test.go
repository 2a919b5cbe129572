package cmapsvc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/refcorosync"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// env is our service behind a real ipc.Server in a namespace of the test's own.
type env struct {
	ns  *refcorosync.Netns
	svc *Service
	m   *icmap.Map
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv serves cfg's map (a new one when nil) in a fresh namespace; at the end of the
// test it stops the server and checks that /dev/shm holds nothing of ours.
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	ns := refcorosync.NewNetns(t)
	if cfg.Map == nil {
		cfg.Map = icmap.New()
	}
	if cfg.Log == nil {
		cfg.Log = quietLog()
	}
	before := refcorosync.ShmNames()
	svc := New(cfg)
	srv := ipc.NewServer(ipc.Config{Log: cfg.Log})
	var ln *net.UnixListener
	if err := ns.Do(func() (err error) { ln, err = srv.Listen(svc); return err }); err != nil {
		svc.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeOn(ctx, ln, svc) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("ipc server did not stop")
		}
		svc.Close()
		if left := shmLeftovers(before, 5*time.Second); len(left) > 0 {
			t.Errorf("left in /dev/shm: %v", left)
		}
	})
	return &env{ns: ns, svc: svc, m: cfg.Map}
}

// shmLeftovers waits up to limit for /dev/shm to hold no connection directory that before
// lacked whose server or client is this process, and returns those still there.
func shmLeftovers(before map[string]bool, limit time.Duration) []string {
	server := fmt.Sprintf("qb-%d-", os.Getpid())
	deadline := time.Now().Add(limit)
	for {
		var extra []string
		for name := range refcorosync.ShmNames() {
			if !before[name] && strings.HasPrefix(name, server) {
				extra = append(extra, name)
			}
		}
		extra = append(extra, refcorosync.ShmLeftovers(before, 0)...)
		if len(extra) == 0 || time.Now().After(deadline) {
			return extra
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial connects our Go client inside the namespace (to the stats map when stats).
func (e *env) dial(t testing.TB, stats bool) *cmap.Client {
	t.Helper()
	return dialIn(t, e.ns, stats)
}

// dialIn connects the Go client to whatever cmap serves ns.
func dialIn(t testing.TB, ns *refcorosync.Netns, stats bool) *cmap.Client {
	t.Helper()
	ctx := testCtx(t)
	var c *cmap.Client
	err := ns.Do(func() (err error) {
		if stats {
			c, err = cmap.DialMap(ctx, cmap.MapStats)
		} else {
			c, err = cmap.Dial(ctx)
		}
		return err
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// raw connects a bare IPC client, for requests the Go cmap client would not send.
func (e *env) raw(t testing.TB) *ipc.Client {
	t.Helper()
	return rawIn(t, e.ns)
}

// rawIn connects a bare IPC client to whatever cmap serves ns.
func rawIn(t testing.TB, ns *refcorosync.Netns) *ipc.Client {
	t.Helper()
	ctx := testCtx(t)
	var c *ipc.Client
	if err := ns.Do(func() (err error) { c, err = ipc.Dial(ctx, "cmap"); return err }); err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// call sends one raw request and returns a copy of the answer.
func call(t testing.TB, c *ipc.Client, req []byte) []byte {
	t.Helper()
	res, err := c.Request(testCtx(t), req)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	return append([]byte(nil), res...)
}

// encoder is a cmap request or answer whose encoding can fail (a key too long).
type encoder interface{ Encode() ([]byte, error) }

func encode(t testing.TB, r encoder) []byte {
	t.Helper()
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nextNote waits for one notification.
func nextNote(t testing.TB, c *cmap.Client, within time.Duration) cmap.Notification {
	t.Helper()
	select {
	case n, ok := <-c.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return n
	case <-time.After(within):
		t.Fatalf("no notification within %v", within)
	}
	return cmap.Notification{}
}

// noNote checks that no notification comes within d.
func noNote(t testing.TB, c *cmap.Client, d time.Duration) {
	t.Helper()
	select {
	case n := <-c.Events():
		t.Fatalf("unexpected notification %v %q new=%v old=%v", n.Event, n.Key, n.New, n.Old)
	case <-time.After(d):
	}
}

// fakeStats is a StatsSource whose values the test changes.
type fakeStats struct {
	mu      sync.Mutex
	values  map[string]icmap.Value
	cleared []string
}

func newFakeStats(kv map[string]icmap.Value) *fakeStats {
	f := &fakeStats{values: map[string]icmap.Value{}}
	for k, v := range kv {
		f.values[k] = v
	}
	return f
}

func (f *fakeStats) Keys(prefix string) []icmap.KeyInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []icmap.KeyInfo
	for k, v := range f.values {
		if strings.HasPrefix(k, prefix) {
			n := v.Len()
			if v.Type() == cmap.TypeString {
				n = 0 // as 3.1.7's stats iteration reports strings
			}
			out = append(out, icmap.KeyInfo{Key: k, Type: v.Type(), Bytes: n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (f *fakeStats) Get(key string) (icmap.Value, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.values[key]
	if !ok {
		return icmap.Value{}, ipc.CSErrNotExist
	}
	return v, nil
}

func (f *fakeStats) put(key string, v icmap.Value) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[key] = v
}

func (f *fakeStats) remove(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.values, key)
}

func (f *fakeStats) ClearStats(what string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleared = append(f.cleared, what)
	return nil
}

func (f *fakeStats) clearedList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cleared...)
}

// cmapctl runs Debian's corosync-cmapctl in ns, bounded by timeout(1).
func cmapctl(ns *refcorosync.Netns, args ...string) (string, error) {
	out, err := ns.Command("timeout", append([]string{"15", "corosync-cmapctl"}, args...)...).CombinedOutput()
	return string(out), err
}

func needCmapctl(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("corosync-cmapctl"); err != nil {
		t.Skip("skipping: corosync-cmapctl not installed (Debian package corosync)")
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
