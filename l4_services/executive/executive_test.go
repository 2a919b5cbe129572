package executive

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	evs "github.com/corosync-go/corosync/l3_evs"
)

// net is an in-memory network between executives.
type net struct {
	mu    sync.Mutex
	nodes map[evs.NodeID]*Executive
	cut   map[evs.NodeID]bool
}

func (n *net) send(from evs.NodeID) func([]evs.Packet) error {
	return func(pkts []evs.Packet) error {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.cut[from] {
			return nil
		}
		for _, p := range pkts {
			for id, x := range n.nodes {
				if id == from || n.cut[id] || (p.To != evs.Broadcast && p.To != id) {
					continue
				}
				x.Receive(from, p.Data)
			}
		}
		return nil
	}
}

// testEngine exchanges one message per member during sync and records everything in order.
type testEngine struct {
	id     evs.NodeID
	ep     Endpoint
	mu     sync.Mutex
	log    []string
	synced int
	want   []evs.NodeID
	got    map[evs.NodeID]bool
	sent   bool
	// syncing: between a regular configuration and SyncActivate; early counts the
	// ordinary messages delivered meanwhile.
	syncing bool
	early   int
}

func (e *testEngine) ID() uint16   { return 9 }
func (e *testEngine) Name() string { return "test service" }

func (e *testEngine) Deliver(sender evs.NodeID, id uint16, msg []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if id == 1 {
		if e.got != nil {
			e.got[sender] = true
		}
		return
	}
	if e.syncing {
		e.early++
	}
	e.log = append(e.log, fmt.Sprintf("%d:%s", sender, msg))
}

func (e *testEngine) ConfChg(c *evs.Configuration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !c.Transitional {
		e.log = append(e.log, fmt.Sprintf("regular %v", c.Members))
		e.syncing = true
	}
}

func (e *testEngine) SyncInit(trans, members []evs.NodeID, ring evs.RingID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.want, e.got, e.sent = members, map[evs.NodeID]bool{}, false
}

func (e *testEngine) SyncProcess() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.sent {
		if e.ep.SendSync(1, []byte{1}, evs.Agreed) == nil {
			e.sent = true
		}
		return false
	}
	for _, m := range e.want {
		if !e.got[m] {
			return false
		}
	}
	return true
}

func (e *testEngine) SyncActivate() {
	e.mu.Lock()
	e.synced++
	e.syncing = false
	e.mu.Unlock()
}

func (e *testEngine) SyncAbort() {}

func (e *testEngine) messages() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, l := range e.log {
		if l[0] != 'r' {
			out = append(out, l)
		}
	}
	return out
}

func (e *testEngine) lastRegular() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.log) - 1; i >= 0; i-- {
		if e.log[i][0] == 'r' {
			return e.log[i]
		}
	}
	return ""
}

type member struct {
	x      *Executive
	e      *testEngine
	cancel context.CancelFunc
	done   chan error
	seqs   []uint64
}

func startMember(t *testing.T, n *net, id evs.NodeID, size int) *member {
	t.Helper()
	tc := evs.DefaultTotemConfig(id, 300*time.Millisecond)
	tc.NodelistSize = size
	tc.TokenRetransmit, tc.Hold, tc.Consensus = 0, 0, 0 // derived again for the nodelist size
	tc.Incarnation = uint32(time.Now().UnixNano())
	m := &member{e: &testEngine{id: id}, done: make(chan error, 1)}
	var mu sync.Mutex
	x, err := New(Config{
		Totem: tc,
		Send:  n.send(id),
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		StoreRingSeq: func(seq uint64) error {
			mu.Lock()
			m.seqs = append(m.seqs, seq)
			mu.Unlock()
			return nil
		},
	}, m.e)
	if err != nil {
		t.Fatal(err)
	}
	m.x = x
	m.e.ep = x.Endpoint(9)
	n.mu.Lock()
	n.nodes[id] = x
	delete(n.cut, id)
	n.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() { m.done <- x.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-m.done })
	return m
}

// startThree starts nodes 1, 2 and 3 and waits until each has the three-member ring.
func startThree(t *testing.T) (*net, []*member) {
	n := &net{nodes: map[evs.NodeID]*Executive{}, cut: map[evs.NodeID]bool{}}
	var ms []*member
	for id := evs.NodeID(1); id <= 3; id++ {
		ms = append(ms, startMember(t, n, id, 3))
	}
	waitFor(t, "a three-member ring", 10*time.Second, func() bool {
		for _, m := range ms {
			if m.e.lastRegular() != "regular [1 2 3]" {
				return false
			}
		}
		return true
	})
	return n, ms
}

// stopNode3 stops node 3 without a word and waits until 1 and 2 have a ring of their own.
func stopNode3(t *testing.T, n *net, ms []*member) {
	n.mu.Lock()
	n.cut[3] = true
	n.mu.Unlock()
	ms[2].cancel()
	waitFor(t, "a ring without node 3", 15*time.Second, func() bool {
		return ms[0].e.lastRegular() == "regular [1 2]" && ms[1].e.lastRegular() == "regular [1 2]"
	})
}

func waitFor(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRingSyncAndOrder(t *testing.T) {
	n := &net{nodes: map[evs.NodeID]*Executive{}, cut: map[evs.NodeID]bool{}}
	var ms []*member
	for id := evs.NodeID(1); id <= 3; id++ {
		ms = append(ms, startMember(t, n, id, 3))
	}
	for _, m := range ms {
		select {
		case <-m.x.Ready():
		case <-time.After(10 * time.Second):
			t.Fatalf("node %d never completed synchronisation", m.e.id)
		}
	}
	waitFor(t, "a three-member ring", 10*time.Second, func() bool {
		for _, m := range ms {
			if m.e.lastRegular() != "regular [1 2 3]" {
				return false
			}
		}
		return true
	})
	// Concurrent senders: every node must deliver the same sequence.
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				for m.e.ep.Send(0, []byte(fmt.Sprint(i)), evs.Agreed) != nil {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, "150 deliveries everywhere", 10*time.Second, func() bool {
		for _, m := range ms {
			if len(m.e.messages()) < 150 {
				return false
			}
		}
		return true
	})
	first := ms[0].e.messages()
	for _, m := range ms[1:] {
		if !slices.Equal(first, m.e.messages()) {
			t.Fatalf("node %d delivered a different order", m.e.id)
		}
	}
	counters, _ := ms[0].x.Counters(context.Background())
	if i := slices.IndexFunc(counters, func(c ServiceCounter) bool { return c.Service == 9 && c.MsgID == 0 }); i < 0 || counters[i].TX != 50 || counters[i].RX != 150 {
		t.Errorf("counters %+v, want tx 50 rx 150 for service 9 id 0", counters)
	}

	// A node that stops without leaving is removed after the token timeout, and the
	// survivors synchronise again.
	before := ms[0].e.synced
	stopNode3(t, n, ms)
	waitFor(t, "a new synchronisation", 5*time.Second, func() bool {
		ms[0].e.mu.Lock()
		defer ms[0].e.mu.Unlock()
		return ms[0].e.synced > before
	})
	snap, err := ms[0].x.Snapshot(context.Background())
	if err != nil || !slices.Equal(snap.Members, []evs.NodeID{1, 2}) || snap.State != evs.StateOperational {
		t.Errorf("snapshot %+v %v", snap, err)
	}
	if len(ms[0].seqs) == 0 {
		t.Error("the ring sequence was never stored")
	}
}

// TestMessagesWaitForSynchronisation: messages queued when the configuration changes,
// and messages sent during synchronisation, are delivered only after every engine has
// synchronised (corosync's waiting_trans_ack), so every member applies them to the
// synchronised state; synchronisation messages (SendSync) go out meanwhile.
func TestMessagesWaitForSynchronisation(t *testing.T) {
	n, ms := startThree(t)
	// Nodes 1 and 2 keep sending while node 3 stops: their queues fill during the token
	// timeout and consensus, and hold messages when the new ring forms.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	sent := make([]int, 2)
	for i, m := range ms[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 20000; k++ {
				select {
				case <-stop:
					return
				case <-time.After(500 * time.Microsecond):
				}
				if m.e.ep.Send(0, []byte(fmt.Sprint(k)), evs.Agreed) == nil {
					sent[i]++
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	stopNode3(t, n, ms)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	total := sent[0] + sent[1]
	waitFor(t, "every message on both survivors", 20*time.Second, func() bool {
		return len(ms[0].e.messages()) >= total && len(ms[1].e.messages()) >= total
	})
	for _, m := range ms[:2] {
		m.e.mu.Lock()
		early, syncs := m.e.early, m.e.synced
		m.e.mu.Unlock()
		if early > 0 {
			t.Errorf("node %d delivered %d messages during synchronisation", m.e.id, early)
		}
		if syncs < 2 {
			t.Errorf("node %d synchronised %d times, want 2", m.e.id, syncs)
		}
	}
	if !slices.Equal(ms[0].e.messages(), ms[1].e.messages()) {
		t.Error("the survivors delivered different sequences")
	}
	t.Logf("%d messages sent", total)
}

func TestLeaveIsSeenAtOnce(t *testing.T) {
	n, ms := startThree(t)
	ms[2].x.Leave()
	select {
	case err := <-ms[2].done:
		ms[2].done <- err
		if err != nil {
			t.Fatalf("Run after Leave: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Leave")
	}
	n.mu.Lock()
	n.cut[3] = true
	n.mu.Unlock()
	// token 300 ms with 3 nodes: 950 ms effective, plus 1140 ms consensus. A leave is
	// seen well within one token timeout.
	start := time.Now()
	waitFor(t, "the others to drop node 3", 10*time.Second, func() bool {
		return ms[0].e.lastRegular() == "regular [1 2]" && ms[1].e.lastRegular() == "regular [1 2]"
	})
	t.Logf("leave seen after %v", time.Since(start))
}

func TestBarrierFromAnotherRingIgnored(t *testing.T) {
	x, err := New(Config{Totem: evs.DefaultTotemConfig(1, time.Second), Send: func([]evs.Packet) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	x.sync = syncState{running: true, ring: evs.RingID{Rep: 1, Seq: 8}, members: []evs.NodeID{1}, barriers: map[int]map[evs.NodeID]bool{}}
	b := make([]byte, barrierBytes)
	binary.LittleEndian.PutUint32(b, 1)
	binary.LittleEndian.PutUint64(b[4:], 4)
	x.barrier(1, b)
	if len(x.sync.barriers) != 0 {
		t.Fatal("a barrier of ring 1.4 counted on ring 1.8")
	}
	x.barrier(1, b[:5])
	binary.LittleEndian.PutUint64(b[4:], 8)
	x.barrier(1, b)
	if !x.sync.barriers[0][1] {
		t.Fatal("the barrier of the current ring was not counted")
	}
}
