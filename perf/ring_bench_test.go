package perf

import (
	"fmt"
	"testing"
	"time"

	totem "github.com/corosync-go/corosync/l2_totem"
	evs "github.com/corosync-go/corosync/l3_evs"
)

// memRing is a lossless in-memory network of EVS nodes for throughput benchmarks. Packets are
// copied into recycled buffers, so the network itself does not allocate in the steady state.
type memRing struct {
	nodes     []*evs.Node
	queue     []memPacket // FIFO ring
	head, n   int
	spare     [][]byte
	now       time.Duration
	delivered []int // messages delivered per node
}

type memPacket struct {
	to   int
	data []byte
}

func newMemRing(tb testing.TB, size int, mutate func(*totem.Config)) *memRing {
	r := &memRing{queue: make([]memPacket, 1<<16), delivered: make([]int, size)}
	for i := 1; i <= size; i++ {
		c := totem.DefaultConfig(totem.NodeID(i), totem.DefaultToken)
		c.Incarnation = uint32(i)
		if mutate != nil {
			mutate(&c)
		}
		n, err := evs.NewNode(evs.Config{Totem: c}, 0, 0)
		if err != nil {
			tb.Fatal(err)
		}
		r.nodes = append(r.nodes, n)
	}
	// Form the ring: let timers and packets run until every node is operational.
	for step := 0; step < 1_000_000; step++ {
		all := true
		for _, n := range r.nodes {
			all = all && n.Totem().State() == totem.StateOperational && len(memMembers(n)) == size
		}
		if all {
			break
		}
		if r.n == 0 {
			r.fireTimers()
			continue
		}
		r.step()
	}
	for i := range r.delivered {
		r.delivered[i] = 0
	}
	return r
}

func memMembers(n *evs.Node) []totem.NodeID { _, m := n.Totem().Ring(); return m }

func (r *memRing) push(to int, data []byte) {
	if r.n == len(r.queue) {
		panic("memRing queue overflow")
	}
	slot := (r.head + r.n) % len(r.queue)
	var buf []byte
	if k := len(r.spare); k > 0 {
		buf, r.spare = r.spare[k-1][:0], r.spare[:k-1]
	}
	r.queue[slot] = memPacket{to: to, data: append(buf, data...)}
	r.n++
}

func (r *memRing) flush(i int) {
	rd := r.nodes[i].Ready()
	for _, p := range rd.Packets {
		for j := range r.nodes {
			if j != i && (p.To == totem.Broadcast || int(p.To) == j+1) {
				r.push(j, p.Data)
			}
		}
	}
	for k := range rd.Events {
		if rd.Events[k].Kind == evs.EventMessage {
			r.delivered[i]++
		}
	}
	r.nodes[i].Advance()
}

// fireTimers jumps to the earliest deadline and ticks every node.
func (r *memRing) fireTimers() {
	next := time.Duration(0)
	for _, n := range r.nodes {
		if d := n.NextDeadline(); d != 0 && (next == 0 || d < next) {
			next = d
		}
	}
	r.now = max(r.now, next)
	for i, n := range r.nodes {
		n.Tick(r.now)
		r.flush(i)
	}
}

// step delivers one packet; virtual time moves 1µs per packet.
func (r *memRing) step() {
	p := r.queue[r.head]
	r.head = (r.head + 1) % len(r.queue)
	r.n--
	r.now += time.Microsecond
	r.nodes[p.to].Receive(r.now, p.data)
	r.spare = append(r.spare, p.data)
	r.flush(p.to)
}

// run pushes total messages of size bytes through the ring, submitted round robin by every
// node, and returns once every node delivered all of them.
func (r *memRing) run(tb testing.TB, total, size int) {
	msg := make([]byte, size)
	submitted := 0
	want := total
	for guard := 0; ; guard++ {
		if guard > 100_000_000 {
			tb.Fatalf("ring stalled: submitted %d, delivered %v", submitted, r.delivered)
		}
		for submitted < total {
			if err := r.nodes[submitted%len(r.nodes)].Submit(1, msg, evs.Agreed); err != nil {
				break
			}
			submitted++
		}
		for i := range r.nodes {
			r.flush(i)
		}
		done := true
		for _, d := range r.delivered {
			done = done && d >= want
		}
		if done {
			return
		}
		for k := 0; k < 64 && r.n > 0; k++ {
			r.step()
		}
		if r.n == 0 {
			r.fireTimers() // only timers can move the ring now (token hold on an idle ring)
		}
	}
}

// BenchmarkRingOrdered measures ordered (agreed) messages per second through a 3-node
// in-memory ring: every message is packed or fragmented by l3, ordered by l2, and delivered on
// all three nodes. One op is one message; allocs/op is allocations per message.
func BenchmarkRingOrdered(b *testing.B) {
	for _, size := range []int{64, 1024, 64 << 10} {
		for _, cfg := range []struct {
			name   string
			mutate func(*totem.Config)
		}{
			{"defaults", nil},
			{"window=500,max_messages=200", func(c *totem.Config) { c.WindowSize, c.MaxMessages = 500, 200 }},
			{"accelerated", func(c *totem.Config) { c.AcceleratedRing = true }},
		} {
			b.Run(fmt.Sprintf("size=%d/%s", size, cfg.name), func(b *testing.B) {
				r := newMemRing(b, 3, cfg.mutate)
				// Warm up until the send queues have been full once, so buffers are pooled.
				r.run(b, max(2000, 256<<20/size), size)
				for i := range r.delivered {
					r.delivered[i] = 0
				}
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.ResetTimer()
				r.run(b, b.N, size)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// TestMemRingDelivers keeps the benchmark harness honest: every node delivers every message.
func TestMemRingDelivers(t *testing.T) {
	for _, size := range []int{64, 5000} {
		r := newMemRing(t, 3, nil)
		r.run(t, 500, size)
		for i, d := range r.delivered {
			if d != 500 {
				t.Fatalf("size %d: node %d delivered %d of 500", size, i+1, d)
			}
		}
	}
}
