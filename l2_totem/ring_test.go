package totem

import (
	"container/heap"
	"fmt"
	"slices"
	"testing"
	"time"
)

// testNet is a minimal deterministic network for l2 tests: fixed delay, optional cut links.
type testNet struct {
	t     *testing.T
	now   time.Duration
	nodes map[NodeID]*Node
	ids   []NodeID
	q     pktQueue
	seq   int
	delay time.Duration
	cut   map[[2]NodeID]bool
	log   map[NodeID][]Delivery // copies
	down  map[NodeID]bool
	drop  func(from, to NodeID, pkt []byte) bool // extra loss rule
	seen  map[NodeID][]string                    // events
}

type queued struct {
	at   time.Duration
	seq  int
	to   NodeID
	data []byte
}

type pktQueue []queued

func (q pktQueue) Len() int { return len(q) }
func (q pktQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q pktQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pktQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *pktQueue) Pop() any     { o := *q; x := o[len(o)-1]; *q = o[:len(o)-1]; return x }

func testConfig(id NodeID) Config {
	c := DefaultConfig(id, 1000*time.Millisecond)
	c.WindowFramesMax = 1024
	c.Incarnation = uint32(id) * 7
	return c
}

func newTestNet(t *testing.T, n int) *testNet {
	tn := &testNet{t: t, nodes: map[NodeID]*Node{}, delay: time.Millisecond, cut: map[[2]NodeID]bool{},
		log: map[NodeID][]Delivery{}, down: map[NodeID]bool{}}
	for i := 1; i <= n; i++ {
		id := NodeID(i)
		node, err := NewNode(testConfig(id), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		tn.nodes[id] = node
		tn.ids = append(tn.ids, id)
	}
	for _, id := range tn.ids {
		tn.flush(id)
	}
	return tn
}

func (tn *testNet) flush(id NodeID) {
	n := tn.nodes[id]
	rd := n.Ready()
	for _, p := range rd.Packets {
		for _, to := range tn.ids {
			if to == id || (p.To != Broadcast && p.To != to) || tn.cut[[2]NodeID{id, to}] ||
				(tn.drop != nil && tn.drop(id, to, p.Data)) {
				continue
			}
			tn.seq++
			heap.Push(&tn.q, queued{at: tn.now + tn.delay, seq: tn.seq, to: to, data: slices.Clone(p.Data)})
		}
	}
	for _, e := range rd.Events {
		if tn.seen == nil {
			tn.seen = map[NodeID][]string{}
		}
		tn.seen[id] = append(tn.seen[id], e.Text)
		if testing.Verbose() {
			tn.t.Logf("%v node %d: %s", e.At, id, e.Text)
		}
	}
	for _, d := range rd.Deliveries {
		d.Payload = slices.Clone(d.Payload)
		tn.log[id] = append(tn.log[id], d)
	}
	n.Advance()
}

// run advances virtual time by d, processing packets and timers in order.
func (tn *testNet) run(d time.Duration) {
	end := tn.now + d
	for steps := 0; steps < 10_000_000; steps++ {
		next := end
		var who NodeID
		for _, id := range tn.ids {
			if tn.down[id] {
				continue
			}
			if dl := tn.nodes[id].NextDeadline(); dl != 0 && dl < next {
				next, who = dl, id
			}
		}
		if len(tn.q) > 0 && tn.q[0].at <= next {
			p := heap.Pop(&tn.q).(queued)
			tn.now = p.at
			if !tn.down[p.to] {
				tn.nodes[p.to].Receive(tn.now, p.data)
				tn.flush(p.to)
			}
			continue
		}
		if who == 0 {
			tn.now = end
			return
		}
		tn.now = next
		tn.nodes[who].Tick(tn.now)
		tn.flush(who)
	}
	tn.t.Fatal("run did not terminate")
}

func (tn *testNet) submit(id NodeID, s string, safe bool) {
	if err := tn.nodes[id].Submit([]byte(s), safe); err != nil {
		tn.t.Fatal(err)
	}
	tn.flush(id)
}

func messages(ds []Delivery, after int) []string {
	var out []string
	for _, d := range ds[after:] {
		if d.Kind == DeliverMessage {
			out = append(out, string(d.Payload))
		}
	}
	return out
}

func lastRegular(ds []Delivery) (*Configuration, int) {
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Kind == DeliverRegular {
			return ds[i].Config, i
		}
	}
	return nil, -1
}

func TestRingFormsAndOrders(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.run(5 * time.Second)
	for _, id := range tn.ids {
		n := tn.nodes[id]
		if n.State() != StateOperational {
			t.Fatalf("node %d in %v", id, n.State())
		}
		c, _ := lastRegular(tn.log[id])
		if c == nil || !slices.Equal(c.Members, []NodeID{1, 2, 3}) {
			t.Fatalf("node %d config %+v", id, c)
		}
	}
	for i := 0; i < 50; i++ {
		tn.submit(NodeID(i%3+1), fmt.Sprintf("m%d", i), i%5 == 0)
	}
	tn.run(2 * time.Second)
	var want []string
	for _, id := range tn.ids {
		_, at := lastRegular(tn.log[id])
		got := messages(tn.log[id], at)
		if len(got) != 50 {
			t.Fatalf("node %d delivered %d of 50: %v", id, len(got), got)
		}
		if want == nil {
			want = got
		} else if !slices.Equal(got, want) {
			t.Fatalf("node %d order differs:\n%v\n%v", id, got, want)
		}
	}
}

func TestPartitionAndMerge(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.run(5 * time.Second)
	// Cut node 3 off.
	for _, a := range tn.ids {
		if a != 3 {
			tn.cut[[2]NodeID{a, 3}], tn.cut[[2]NodeID{3, a}] = true, true
		}
	}
	tn.submit(1, "during", true)
	tn.run(10 * time.Second)
	c, _ := lastRegular(tn.log[1])
	if !slices.Equal(c.Members, []NodeID{1, 2}) {
		t.Fatalf("partition: node 1 sees %v", c.Members)
	}
	c, _ = lastRegular(tn.log[3])
	if !slices.Equal(c.Members, []NodeID{3}) {
		t.Fatalf("partition: node 3 sees %v", c.Members)
	}
	tn.cut = map[[2]NodeID]bool{}
	tn.run(10 * time.Second)
	for _, id := range tn.ids {
		c, _ := lastRegular(tn.log[id])
		if !slices.Equal(c.Members, []NodeID{1, 2, 3}) {
			t.Fatalf("merge: node %d sees %v", id, c.Members)
		}
	}
	tn.submit(3, "after", false)
	tn.run(time.Second)
	for _, id := range tn.ids {
		_, at := lastRegular(tn.log[id])
		if got := messages(tn.log[id], at); !slices.Equal(got, []string{"after"}) {
			t.Fatalf("node %d after merge delivered %v", id, got)
		}
	}
}

// TestIdleRingHoldsToken: with nothing to send, the representative holds the token and the
// ring turns about once per hold interval instead of spinning.
func TestIdleRingHoldsToken(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.run(5 * time.Second)
	before := tn.nodes[1].Stats().OrfTokenTx
	tn.run(10 * time.Second)
	rotations := tn.nodes[1].Stats().OrfTokenTx - before
	hold := tn.nodes[1].cfg.Hold
	// Without hold, 1 ms hops would give ~3300 rotations in 10 s.
	if max := uint64(10*time.Second/hold) + 10; rotations > max || rotations == 0 {
		t.Fatalf("idle ring: %d token passes by the representative in 10 s (hold %v, want at most %d)", rotations, hold, max)
	}
	// New data cancels the hold at once.
	tn.submit(2, "wake", false)
	tn.run(50 * time.Millisecond)
	for _, id := range tn.ids {
		if got := messages(tn.log[id], 0); len(got) == 0 || got[len(got)-1] != "wake" {
			t.Fatalf("node %d did not deliver within 50 ms of a held ring: %v", id, got)
		}
	}
}

// TestLeaveIsSeenBeforeTokenTimeout: a leaving node is removed without waiting for the token
// timeout.
func TestLeaveIsSeenBeforeTokenTimeout(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.run(5 * time.Second)
	tn.nodes[3].Leave()
	tn.flush(3)
	tn.down[3] = true
	tn.run(tn.nodes[1].cfg.Token / 2)
	for _, id := range []NodeID{1, 2} {
		c, _ := lastRegular(tn.log[id])
		if !slices.Equal(c.Members, []NodeID{1, 2}) {
			t.Fatalf("node %d still sees %v half a token timeout after the leave", id, c.Members)
		}
	}
}

// TestTokenLossFormsNewRing: a crashed node is detected by token loss and consensus.
func TestTokenLossFormsNewRing(t *testing.T) {
	tn := newTestNet(t, 4)
	tn.run(5 * time.Second)
	tn.down[2] = true
	tn.submit(1, "before", true)
	cfg := tn.nodes[1].cfg
	tn.run(cfg.Token + cfg.Consensus + time.Second)
	for _, id := range []NodeID{1, 3, 4} {
		c, _ := lastRegular(tn.log[id])
		if !slices.Equal(c.Members, []NodeID{1, 3, 4}) {
			t.Fatalf("node %d sees %v after node 2 crashed", id, c.Members)
		}
		if got := messages(tn.log[id], 0); !slices.Contains(got, "before") {
			t.Fatalf("node %d lost the message sent as node 2 crashed: %v", id, got)
		}
	}
}

func TestTokenCoefficient(t *testing.T) {
	c := DefaultConfig(1, DefaultToken)
	c.NodelistSize = 3
	c.TokenRetransmit, c.Hold, c.Consensus = 0, 0, 0
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// corosync 3.1.7 with three nodes: token 3650 ms, token_retransmit 869 ms, consensus 4380 ms.
	if got := c.EffectiveTokenTimeout(); got != 3650*time.Millisecond {
		t.Fatalf("effective token %v", got)
	}
	if c.TokenRetransmit.Milliseconds() != 869 || c.Consensus != 4380*time.Millisecond {
		t.Fatalf("token_retransmit %v consensus %v", c.TokenRetransmit, c.Consensus)
	}
	d := DefaultConfig(1, DefaultToken) // two nodes or unknown: no scaling; hold as observed (561 ms)
	if d.TokenRetransmit.Milliseconds() != 714 || d.Hold.Milliseconds() != 561 || d.Consensus != 3600*time.Millisecond {
		t.Fatalf("defaults: token_retransmit %v hold %v consensus %v", d.TokenRetransmit, d.Hold, d.Consensus)
	}
}

// TestFailedToReceive: node 3 gets the token but none of node 1's multicasts. It must declare
// FAILED TO RECEIVE, and recovery must still bring it node 1's messages (re-sent by node 2).
func TestFailedToReceive(t *testing.T) {
	tn := newTestNet(t, 3)
	for _, n := range tn.nodes {
		n.cfg.FailRecvConst = 20
	}
	tn.run(5 * time.Second)
	tn.drop = func(from, to NodeID, pkt []byte) bool {
		return from == 1 && to == 3 && len(pkt) > 3 && MsgType(pkt[3]) == MsgMcast
	}
	for i := 0; i < 5; i++ {
		tn.submit(1, fmt.Sprintf("from1-%d", i), false)
	}
	tn.run(3 * time.Second)
	tn.drop = nil
	tn.run(5 * time.Second)
	if !slices.Contains(tn.seen[3], "FAILED TO RECEIVE") {
		t.Fatalf("node 3 never declared FAILED TO RECEIVE: %v", tn.seen[3])
	}
	for _, id := range tn.ids {
		got := messages(tn.log[id], 0)
		for i := 0; i < 5; i++ {
			if !slices.Contains(got, fmt.Sprintf("from1-%d", i)) {
				t.Fatalf("node %d is missing from1-%d: %v", id, i, got)
			}
		}
	}
}
