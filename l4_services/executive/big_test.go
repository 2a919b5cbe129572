package executive

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand"
	"sync"
	"testing"
	"time"

	evs "github.com/corosync-go/corosync/l3_evs"
)

// bigEngine keeps copies of the messages it is delivered, by sender.
type bigEngine struct {
	mu  sync.Mutex
	got map[evs.NodeID][][]byte
}

func (e *bigEngine) ID() uint16   { return 9 }
func (e *bigEngine) Name() string { return "big" }
func (e *bigEngine) Deliver(s evs.NodeID, id uint16, m []byte) {
	e.mu.Lock()
	e.got[s] = append(e.got[s], bytes.Clone(m))
	e.mu.Unlock()
}

// TestFragmentedMessagesIntact: messages of many frames, from every node at once, arrive
// whole on every node. A Ready whose ring deliveries made no event (fragments of a message
// not complete yet) must still be advanced, or l3 appends those fragments again.
func TestFragmentedMessagesIntact(t *testing.T) {
	n := &net{nodes: map[evs.NodeID]*Executive{}, cut: map[evs.NodeID]bool{}}
	var xs []*Executive
	var es []*bigEngine
	for id := evs.NodeID(1); id <= 3; id++ {
		tc := evs.DefaultTotemConfig(id, 300*time.Millisecond)
		tc.NodelistSize = 3
		tc.TokenRetransmit, tc.Hold, tc.Consensus = 0, 0, 0
		e := &bigEngine{got: map[evs.NodeID][][]byte{}}
		x, err := New(Config{Totem: tc, Send: n.send(id), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, e)
		if err != nil {
			t.Fatal(err)
		}
		n.mu.Lock()
		n.nodes[id] = x
		n.mu.Unlock()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { x.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		xs, es = append(xs, x), append(es, e)
	}
	for _, x := range xs {
		select {
		case <-x.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("no ring")
		}
	}
	waitFor(t, "a three-member ring", 10*time.Second, func() bool {
		s, err := xs[0].Snapshot(context.Background())
		return err == nil && len(s.Members) == 3
	})
	var sent [][]byte
	for i, x := range xs {
		for k := range 3 {
			m := make([]byte, 50000+k*150000)
			rand.New(rand.NewSource(int64(i*10 + k))).Read(m)
			sent = append(sent, m)
			for x.Endpoint(9).Send(1, m, evs.Agreed) != nil {
				time.Sleep(time.Millisecond)
			}
		}
	}
	waitFor(t, "every message everywhere", 20*time.Second, func() bool {
		for _, e := range es {
			e.mu.Lock()
			k := len(e.got[1]) + len(e.got[2]) + len(e.got[3])
			e.mu.Unlock()
			if k < len(sent) {
				return false
			}
		}
		return true
	})
	for i, e := range es {
		e.mu.Lock()
		for s, l := range e.got {
			for k, m := range l {
				if !bytes.Equal(m, sent[int(s-1)*3+k]) {
					t.Errorf("node %d: message %d from node %d differs (%d bytes)", i+1, k, s, len(m))
				}
			}
		}
		e.mu.Unlock()
	}
}
