package ploadsvc

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/executive"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// loopback delivers what the engine sends back to it, in order, refusing every third
// send with ErrTryAgain to exercise the retries.
type loopback struct {
	mu    sync.Mutex
	e     *Engine
	calls int
	sent  map[uint16]int
	sizes map[int]bool
}

func (l *loopback) Send(id uint16, msg []byte, g evs.Guarantee) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%3 == 0 {
		return executive.ErrTryAgain
	}
	l.sent[id]++
	l.sizes[len(msg)] = true
	l.e.Deliver(1, id, msg)
	return nil
}

// TestLoad: pload.start with the phrase starts the load once; the node sends pload.count
// messages of pload.size bytes (message id included) and, when it has delivered that
// many, logs corosync's result line and exits with 99.
func TestLoad(t *testing.T) {
	m := icmap.New()
	var logs bytes.Buffer
	var logMu sync.Mutex
	exited := make(chan int, 2)
	e := New(Config{Map: m, Log: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil)), Exit: func(s int) { exited <- s }})
	lb := &loopback{e: e, sent: map[uint16]int{}, sizes: map[int]bool{}}
	e.Bind(lb)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	m.Set("pload.count", cmap.Uint32(500))
	m.Set("pload.size", cmap.Uint32(100))
	m.Set("pload.start", cmap.String("yes"))
	time.Sleep(50 * time.Millisecond)
	lb.mu.Lock()
	if lb.sent[execStart] != 0 {
		t.Fatal("started without the phrase")
	}
	lb.mu.Unlock()
	m.Set("pload.start", cmap.String(StartPhrase))
	select {
	case s := <-exited:
		if s != ExitStatus {
			t.Fatalf("exit status %d", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the load never finished")
	}
	m.Set("pload.size", cmap.Uint32(200)) // a change after the start starts nothing
	time.Sleep(50 * time.Millisecond)
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.sent[execStart] != 1 || lb.sent[execMcast] != 500 {
		t.Errorf("sent %d starts and %d messages, want 1 and 500", lb.sent[execStart], lb.sent[execMcast])
	}
	if !lb.sizes[100-headerBytes] {
		t.Errorf("message bodies %v, want %d bytes", lb.sizes, 100-headerBytes)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !regexp.MustCompile(`msg="  500 Writes 100 bytes per write +[0-9.]+ seconds runtime, +[0-9.]+ TP/S, +[0-9.]+ MB/S\."`).Match(logs.Bytes()) ||
		!bytes.Contains(logs.Bytes(), []byte("Starting pload!")) || !bytes.Contains(logs.Bytes(), []byte("Stopping corosync the hard way")) {
		t.Errorf("log:\n%s", logs.String())
	}
}

// TestSizeLimited: a pload.size over corosync's MESSAGE_SIZE_MAX is cut to it, with a
// warning; a start message too short is dropped.
func TestSizeLimited(t *testing.T) {
	m := icmap.New()
	var logs bytes.Buffer
	var logMu sync.Mutex
	e := New(Config{Map: m, Log: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil)), Exit: func(int) {}})
	e.Bind(&loopback{e: e, sent: map[uint16]int{}, sizes: map[int]bool{}})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Set("pload.size", cmap.Uint32(2<<20))
	e.Deliver(2, execStart, []byte{1, 2, 3})
	e.Deliver(2, 9, nil)
	if e.BadMessages() != 2 {
		t.Errorf("%d bad messages counted, want 2", e.BadMessages())
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !bytes.Contains(logs.Bytes(), []byte("pload size limited to 1048576")) || !bytes.Contains(logs.Bytes(), []byte("dropping a pload start message")) {
		t.Errorf("log:\n%s", logs.String())
	}
	if e.started {
		t.Error("a short start message started the load")
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

type stoppedSender struct{}

func (stoppedSender) Send(uint16, []byte, evs.Guarantee) error { return executive.ErrStopped }

// FuzzDeliver: any message, under any id, is handled or dropped without a panic.
func FuzzDeliver(f *testing.F) {
	f.Add(uint16(execStart), []byte{1, 0, 0, 0, 44, 1, 0, 0})
	f.Add(uint16(execMcast), []byte{})
	f.Add(uint16(7), []byte{1})
	f.Fuzz(func(t *testing.T, id uint16, msg []byte) {
		e := New(Config{Map: icmap.New(), Log: slog.New(slog.DiscardHandler), Exit: func(int) {}})
		e.Bind(stoppedSender{})
		e.Deliver(1, id, msg)
		e.Deliver(2, execMcast, nil)
	})
}
