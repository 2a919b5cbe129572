package executive

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	evs "github.com/corosync-go/corosync/l3_evs"
)

// startAlone runs a one-node executive whose ring queue holds pending frames.
func startAlone(t *testing.T, pending int) *Executive {
	t.Helper()
	tc := evs.DefaultTotemConfig(1, 300*time.Millisecond)
	tc.PendingFramesMax = pending
	x, err := New(Config{Totem: tc, Send: func([]evs.Packet) error { return nil }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-x.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("a ring of one never became ready")
	}
	return x
}

// TestReserveAndQueueFigures: IPC reservations are counted in entries of one frame as
// totempg counts them, on top of its base reservation of one, and refused when the ring's
// queue has no room or the message could never be sent.
func TestReserveAndQueueFigures(t *testing.T) {
	x := startAlone(t, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	figures := func() (int, int) {
		s, err := x.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s.MsgQueueAvail, s.MsgReserved
	}
	if avail, reserved := figures(); avail != 6 || reserved != 1 {
		t.Fatalf("idle ring: avail %d reserved %d, want 6 and 1", avail, reserved)
	}
	frame := evs.DefaultTotemConfig(1, time.Second).FrameBytesMax
	a := x.Reserve(100)
	b := x.Reserve(2*frame + 1)
	if a != 1 || b != 3 {
		t.Fatalf("reserved %d and %d entries, want 1 and 3", a, b)
	}
	if _, reserved := figures(); reserved != 5 {
		t.Errorf("reserved %d, want 1+1+3", reserved)
	}
	if got := x.Reserve(6 * frame); got != 0 {
		t.Errorf("7 entries from a queue of 6: %d", got)
	}
	if got := x.Reserve(x.cfg.MessageBytesMax + 1); got != -1 {
		t.Errorf("a message too large for the ring: %d", got)
	}
	x.Release(a)
	x.Release(b)
	x.Release(0)
	x.Release(-1)
	if _, reserved := figures(); reserved != 1 {
		t.Errorf("after release: %d", reserved)
	}
}

// TestLoopStall: a long iteration of the run loop is reported once, then the
// measurement starts again.
func TestLoopStall(t *testing.T) {
	x := startAlone(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const busy = 80 * time.Millisecond
	if err := x.Do(ctx, func() { time.Sleep(busy) }); err != nil {
		t.Fatal(err)
	}
	// The iteration ends after the function; wait for the loop to go round once more.
	if err := x.Do(ctx, func() {}); err != nil {
		t.Fatal(err)
	}
	if got := x.LoopStall(); got < busy {
		t.Errorf("loop stall %v, want at least %v", got, busy)
	}
}

func TestStallMeterKeepsTheLongest(t *testing.T) {
	var m stallMeter
	for _, d := range []time.Duration{5, 50, 20, -3} {
		m.note(d)
	}
	if got := time.Duration(m.longest.Swap(0)); got != 50 {
		t.Fatalf("longest %v", got)
	}
	m.note(7)
	if got := time.Duration(m.longest.Load()); got != 7 {
		t.Fatalf("after a read: %v", got)
	}
}

// TestSendBuffersAreReused: once the ring has copied a message, its buffer serves the
// next one instead of a fresh allocation per message.
func TestSendBuffersAreReused(t *testing.T) {
	n := &net{nodes: map[evs.NodeID]*Executive{}, cut: map[evs.NodeID]bool{}}
	x, err := New(Config{Totem: evs.DefaultTotemConfig(1, time.Second), Send: n.send(1),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.submit(9, 1, []byte("first message"), evs.Agreed, false); err != nil {
		t.Fatal(err)
	}
	first := &x.queue[0].msg[0]
	x.takeQueue()
	if len(x.queue) != 0 {
		t.Fatalf("%d messages still queued", len(x.queue))
	}
	if err := x.submit(9, 1, []byte("second"), evs.Agreed, false); err != nil {
		t.Fatal(err)
	}
	if &x.queue[0].msg[0] != first {
		t.Fatal("the second message got a new buffer")
	}
	if got := string(x.queue[0].msg[msgHeaderBytes:]); got != "second" {
		t.Fatalf("reused buffer holds %q", got)
	}
}
