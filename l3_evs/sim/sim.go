// Package sim runs seeded whole-cluster simulations of the real l2 (Totem) and l3 (EVS) code
// over an in-memory network with a virtual clock, injecting loss, duplication, reordering,
// delay, symmetric and asymmetric partitions, crashes and restarts (with and without the
// persisted ring sequence) and pauses longer than the token timeout, and checks the EVS
// properties after every step. A run is a pure function of its Options: the same seed
// replays bit for bit.
package sim

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand"
	"slices"
	"strings"
	"time"

	totem "github.com/corosync-go/corosync/l2_totem"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l3_evs/evscheck"
)

// Bugs that can be planted in the simulated delivery path (never in the real code) to prove
// that the checker catches them.
var Bugs = []string{"skip-delivery", "swap-order", "deliver-after-leave"}

// Options configure one run.
type Options struct {
	Seed int64
	// Nodes is the cluster size; 0 picks 3 to 7 from the seed.
	Nodes int
	// Chaos is the virtual time with faults and load; Quiet the fault-free time after it in
	// which the cluster must converge and deliver everything.
	Chaos, Quiet time.Duration
	// Bug plants one of Bugs at node 1.
	Bug string
	// TraceEvents is how many recent events a failure report shows.
	TraceEvents int
}

// Result is the outcome of one run.
type Result struct {
	Seed       int64
	Nodes      int
	Err        error  // the first violation, nil if the run passed
	Trace      string // recent events, on failure
	Deliveries uint64
	Configs    uint64
	Packets    uint64
	Faults     []string // what was injected, in order
	BugFired   int      // how often the planted bug changed what was delivered
	VirtualEnd time.Duration
}

const (
	tokenTimeout    = 1000 * time.Millisecond
	msgHeaderBytes  = 16
	inboxMax        = 4096
	stepLimit       = 20_000_000
	serviceSimulate = 7
)

type simNode struct {
	id        totem.NodeID
	inc       uint32
	node      *evs.Node
	up        bool
	pausedTil time.Duration
	inbox     [][]byte
	persist   bool   // this incarnation was started with the persisted ring seq
	ringSeq   uint64 // what the driver persisted
	counter   uint64
	backlog   []pendingMsg // submissions refused with TryAgain, retried in order
	delivered int
	held      []evs.Event // bug machinery
}

type pendingMsg struct {
	id      evscheck.MsgID
	payload []byte
	safe    bool
}

type packet struct {
	at   time.Duration
	seq  uint64
	from totem.NodeID
	to   totem.NodeID
	data []byte
}

type packetQueue []packet

func (q packetQueue) Len() int { return len(q) }
func (q packetQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q packetQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *packetQueue) Push(x any)   { *q = append(*q, x.(packet)) }
func (q *packetQueue) Pop() any {
	o := *q
	x := o[len(o)-1]
	*q = o[:len(o)-1]
	return x
}

type world struct {
	opt     Options
	rng     *rand.Rand
	now     time.Duration
	nodes   []*simNode
	q       packetQueue
	pktSeq  uint64
	checker *evscheck.Checker
	res     Result
	err     error
	trace   []string
	traceAt int

	// Network faults.
	blocked  map[[2]totem.NodeID]bool
	loss     float64
	dup      float64
	delayMin time.Duration
	delayMax time.Duration
	// Load.
	submitting bool
}

// Run executes one simulation.
func Run(opt Options) Result {
	if opt.Chaos == 0 {
		opt.Chaos = 40 * time.Second
	}
	if opt.Quiet == 0 {
		opt.Quiet = 40 * time.Second
	}
	if opt.TraceEvents == 0 {
		opt.TraceEvents = 60
	}
	w := &world{opt: opt, rng: rand.New(rand.NewSource(opt.Seed)), checker: evscheck.New(),
		blocked: map[[2]totem.NodeID]bool{}}
	w.res.Seed = opt.Seed
	n := opt.Nodes
	if n == 0 {
		n = 3 + w.rng.Intn(5)
	}
	w.res.Nodes = n
	w.delayMin, w.delayMax = 200*time.Microsecond, 3*time.Millisecond
	w.checker.SetHasFrame(func(q totem.NodeID, ring totem.RingID, seq uint64) (bool, bool) {
		sn := w.nodes[q-1]
		if !sn.up {
			return false, false
		}
		return sn.node.Totem().HasFrame(ring, seq)
	})
	for i := 1; i <= n; i++ {
		sn := &simNode{id: totem.NodeID(i)}
		w.nodes = append(w.nodes, sn)
		w.start(sn, true)
	}
	w.runPhase(opt.Chaos, true)
	if w.err == nil {
		w.healAll()
		w.runPhase(opt.Quiet, false)
	}
	if w.err == nil {
		var alive []evscheck.Proc
		for _, sn := range w.nodes {
			if sn.up {
				alive = append(alive, evscheck.Proc{Node: sn.id, Inc: sn.inc})
			}
		}
		if errs := w.checker.Final(alive); len(errs) > 0 {
			w.fail(errs[0])
		}
	}
	w.res.Err = w.err
	if w.err != nil || opt.TraceEvents > 1000 {
		w.res.Trace = w.traceString()
	}
	w.res.VirtualEnd = w.now
	return w.res
}

func (w *world) fail(err error) {
	if w.err == nil {
		w.err = err
		w.tracef("VIOLATION: %v", err)
	}
}

func (w *world) tracef(format string, args ...any) {
	if len(w.trace) < w.opt.TraceEvents {
		w.trace = append(w.trace, "")
	}
	w.trace[w.traceAt%w.opt.TraceEvents] = fmt.Sprintf("%12v ", w.now) + fmt.Sprintf(format, args...)
	w.traceAt++
}

func (w *world) traceString() string {
	var b strings.Builder
	n := len(w.trace)
	for i := 0; i < n; i++ {
		b.WriteString(w.trace[(w.traceAt-n+i)%w.opt.TraceEvents])
		b.WriteByte('\n')
	}
	return b.String()
}

// start boots a node: a new incarnation, with or without the persisted ring sequence.
func (w *world) start(sn *simNode, persist bool) {
	sn.inc++
	cfg := totem.DefaultConfig(sn.id, tokenTimeout)
	cfg.Incarnation = w.rng.Uint32()
	cfg.WindowFramesMax = 2048
	cfg.AcceleratedRing = w.opt.Seed%4 == 1
	seq := uint64(0)
	if persist {
		seq = sn.ringSeq
	}
	node, err := evs.NewNode(evs.Config{Totem: cfg, MessageBytesMax: 64 << 10}, seq, w.now)
	if err != nil {
		panic(err)
	}
	sn.node, sn.up, sn.persist, sn.pausedTil, sn.inbox = node, true, persist, 0, nil
	sn.counter, sn.backlog, sn.delivered, sn.held = 0, nil, 0, nil
	w.checker.Started(evscheck.Proc{Node: sn.id, Inc: sn.inc})
	w.tracef("node %d starts incarnation %d (persisted ring seq %v)", sn.id, sn.inc, persist)
	w.flush(sn)
}

func (w *world) crash(sn *simNode) {
	sn.up = false
	sn.inbox = nil
	w.checker.Crashed(evscheck.Proc{Node: sn.id, Inc: sn.inc})
	w.tracef("node %d crashes", sn.id)
}

// runPhase advances virtual time by d; with chaos, faults and load are injected.
func (w *world) runPhase(d time.Duration, chaos bool) {
	end := w.now + d
	w.submitting = chaos
	nextAction := w.now
	for steps := 0; w.err == nil; steps++ {
		if steps > stepLimit {
			w.fail(fmt.Errorf("simulation did not make progress: %d steps by %v", steps, w.now))
			return
		}
		// The earliest of: a packet, a node timer, a paused node waking, an action, the end.
		next := end
		if chaos && nextAction < next {
			next = nextAction
		}
		var timerNode *simNode
		for _, sn := range w.nodes {
			if !sn.up {
				continue
			}
			if sn.pausedTil > w.now {
				if sn.pausedTil < next {
					next, timerNode = sn.pausedTil, sn
				}
				continue
			}
			if dl := sn.node.NextDeadline(); dl != 0 && dl < next {
				next, timerNode = dl, sn
			}
		}
		if len(w.q) > 0 && w.q[0].at <= next {
			p := heap.Pop(&w.q).(packet)
			w.now = max(w.now, p.at)
			w.deliverPacket(p)
			continue
		}
		w.now = max(w.now, next)
		if timerNode != nil && next < end {
			w.wake(timerNode)
			continue
		}
		if chaos && nextAction <= w.now && w.now < end {
			w.action()
			nextAction = w.now + time.Duration(w.rng.Int63n(int64(200*time.Millisecond)))
			continue
		}
		return
	}
}

func (w *world) wake(sn *simNode) {
	if sn.pausedTil != 0 && sn.pausedTil <= w.now {
		sn.pausedTil = 0
		w.tracef("node %d resumes with %d queued packets", sn.id, len(sn.inbox))
		inbox := sn.inbox
		sn.inbox = nil
		sn.node.Tick(w.now)
		w.flush(sn)
		for _, p := range inbox {
			if !sn.up {
				return
			}
			sn.node.Receive(w.now, p)
			w.flush(sn)
		}
		return
	}
	sn.node.Tick(w.now)
	w.flush(sn)
}

func (w *world) deliverPacket(p packet) {
	sn := w.nodes[p.to-1]
	if !sn.up {
		return
	}
	if sn.pausedTil > w.now {
		if len(sn.inbox) < inboxMax {
			sn.inbox = append(sn.inbox, p.data)
		}
		return
	}
	sn.node.Receive(w.now, p.data)
	w.flush(sn)
}

// send puts a packet on the simulated network with the current faults.
func (w *world) send(from totem.NodeID, p totem.Packet) {
	for _, to := range w.nodes {
		if to.id == from || (p.To != totem.Broadcast && p.To != to.id) {
			continue
		}
		w.res.Packets++
		if w.blocked[[2]totem.NodeID{from, to.id}] || w.rng.Float64() < w.loss {
			continue
		}
		copies := 1
		if w.rng.Float64() < w.dup {
			copies = 2
		}
		for c := 0; c < copies; c++ {
			delay := w.delayMin + time.Duration(w.rng.Int63n(int64(w.delayMax-w.delayMin)+1))
			w.pktSeq++
			heap.Push(&w.q, packet{at: w.now + delay, seq: w.pktSeq, from: from, to: to.id, data: slices.Clone(p.Data)})
		}
	}
}

// flush collects a node's outputs: persists, sends, checks deliveries.
func (w *world) flush(sn *simNode) {
	if !sn.up {
		return
	}
	w.retryBacklog(sn)
	rd := sn.node.Ready()
	if rd.PersistRingSeq != 0 {
		sn.ringSeq = rd.PersistRingSeq
	}
	for _, p := range rd.Packets {
		w.send(sn.id, p)
	}
	for _, e := range rd.Log {
		w.tracef("node %d: %s", sn.id, e.Text)
	}
	events := w.plantBug(sn, rd.Events)
	proc := evscheck.Proc{Node: sn.id, Inc: sn.inc}
	for i := range events {
		if w.err != nil {
			break
		}
		e := &events[i]
		switch e.Kind {
		case evs.EventMessage:
			w.res.Deliveries++
			id, ok := decodeID(e.Payload)
			if !ok {
				w.fail(fmt.Errorf("node %d delivered a message without a valid id (%d bytes)", sn.id, len(e.Payload)))
				break
			}
			if w.opt.TraceEvents > 1000 { // full traces also list every delivery
				w.tracef("node %d delivers %v safe=%v frame %s/%d", sn.id, id, e.Safe, e.Ring, e.Seq)
			}
			if err := w.checker.Message(proc, id, e.Safe, digest(e.Payload), e.Ring, e.Seq); err != nil {
				w.fail(err)
			}
		case evs.EventTransitional, evs.EventRegular:
			w.res.Configs++
			c := e.Config
			w.tracef("node %d delivers %s config %s members %v left %v joined %v", sn.id,
				map[bool]string{true: "transitional", false: "regular"}[c.Transitional], c.Ring, c.Members, c.Left, c.Joined)
			if err := w.checker.Config(proc, *c); err != nil {
				w.fail(err)
			}
		}
	}
	sn.node.Advance()
}

// plantBug alters what node 1 delivers, in the simulator only.
func (w *world) plantBug(sn *simNode, events []evs.Event) []evs.Event {
	if w.opt.Bug == "" || sn.id != 1 {
		return events
	}
	switch w.opt.Bug {
	case "skip-delivery":
		// Drop one of node 1's own messages: EVS obliges every process to deliver its own
		// (an agreed message of another node need not be delivered by a process that then
		// continues alone, so skipping one of those can be legal).
		for i := range events {
			if events[i].Kind == evs.EventMessage && events[i].Sender == 1 {
				sn.delivered++
				if sn.delivered == 10 {
					w.res.BugFired++
					w.tracef("BUG skip-delivery: node 1 drops a delivery")
					return slices.Delete(slices.Clone(events), i, i+1)
				}
			}
		}
	case "swap-order":
		for i := 0; i+1 < len(events); i++ {
			if events[i].Kind == evs.EventMessage && events[i+1].Kind == evs.EventMessage {
				sn.delivered++
				if sn.delivered == 5 {
					w.res.BugFired++
					w.tracef("BUG swap-order: node 1 swaps two deliveries")
					out := slices.Clone(events)
					out[i], out[i+1] = out[i+1], out[i]
					return out
				}
			}
		}
	case "deliver-after-leave":
		// A message from a node that the following transitional configuration lists as left
		// is moved after the next regular configuration.
		for i, e := range events {
			if e.Kind != evs.EventMessage {
				continue
			}
			for j := i + 1; j < len(events); j++ {
				if events[j].Kind == evs.EventTransitional && slices.Contains(events[j].Config.Left, e.Sender) {
					for k := j + 1; k < len(events); k++ {
						if events[k].Kind == evs.EventRegular {
							w.res.BugFired++
							w.tracef("BUG deliver-after-leave: node 1 delivers a message from left node %d late", e.Sender)
							out := slices.Clone(events[:i])
							out = append(out, events[i+1:k+1]...)
							out = append(out, e)
							return append(out, events[k+1:]...)
						}
					}
				}
			}
		}
	}
	return events
}

// Message payloads start with their id: node u32, incarnation u32, counter u64.
func decodeID(p []byte) (evscheck.MsgID, bool) {
	if len(p) < msgHeaderBytes {
		return evscheck.MsgID{}, false
	}
	return evscheck.MsgID{
		Node:    totem.NodeID(binary.LittleEndian.Uint32(p)),
		Inc:     binary.LittleEndian.Uint32(p[4:]),
		Counter: binary.LittleEndian.Uint64(p[8:]),
	}, true
}

func digest(p []byte) uint64 {
	h := fnv.New64a()
	h.Write(p)
	return h.Sum64()
}

// submit creates a message at sn; refused ones wait in the node's backlog, in order.
func (w *world) submit(sn *simNode) {
	sn.counter++
	size := msgHeaderBytes + w.rng.Intn(200)
	switch r := w.rng.Intn(100); {
	case r < 3:
		size = msgHeaderBytes + 2000 + w.rng.Intn(30000) // fragmented
	case r < 10:
		size = msgHeaderBytes + 1400 + w.rng.Intn(2000)
	}
	p := make([]byte, size)
	binary.LittleEndian.PutUint32(p, uint32(sn.id))
	binary.LittleEndian.PutUint32(p[4:], sn.inc)
	binary.LittleEndian.PutUint64(p[8:], sn.counter)
	w.rng.Read(p[msgHeaderBytes:])
	id, _ := decodeID(p)
	sn.backlog = append(sn.backlog, pendingMsg{id: id, payload: p, safe: w.rng.Intn(3) == 0})
	w.retryBacklog(sn)
}

func (w *world) retryBacklog(sn *simNode) {
	for len(sn.backlog) > 0 {
		m := sn.backlog[0]
		g := evs.Agreed
		if m.safe {
			g = evs.Safe
		}
		if err := sn.node.Submit(serviceSimulate, m.payload, g); err != nil {
			return
		}
		w.checker.Submitted(evscheck.Proc{Node: sn.id, Inc: sn.inc}, m.id, m.safe, digest(m.payload))
		sn.backlog = sn.backlog[1:]
	}
}

// action injects one random fault or load step.
func (w *world) action() {
	r := w.rng.Intn(100)
	pick := w.nodes[w.rng.Intn(len(w.nodes))]
	switch {
	case r < 55: // load
		if pick.up && pick.pausedTil <= w.now {
			for k := 1 + w.rng.Intn(12); k > 0; k-- {
				w.submit(pick)
			}
			w.flush(pick)
		}
	case r < 62:
		w.loss = []float64{0, 0.01, 0.05, 0.1, 0.2, 0.3}[w.rng.Intn(6)]
		w.dup = []float64{0, 0, 0.02, 0.05}[w.rng.Intn(4)]
		w.delayMax = []time.Duration{time.Millisecond, 3 * time.Millisecond, 20 * time.Millisecond}[w.rng.Intn(3)]
		w.fault("network: loss %.0f%% dup %.0f%% delay up to %v", w.loss*100, w.dup*100, w.delayMax)
	case r < 70:
		w.partition(w.rng.Intn(3) == 0)
	case r < 78:
		w.blocked = map[[2]totem.NodeID]bool{}
		w.fault("partition healed")
	case r < 83:
		// With a planted bug, node 1 never crashes, so that what it delivered stays checkable.
		if pick.up && w.upCount() > 1 && (w.opt.Bug == "" || pick.id != 1) {
			if pick.pausedTil <= w.now && w.rng.Intn(2) == 0 {
				// A graceful stop (SIGTERM): the node announces that it leaves, then exits.
				pick.node.Leave()
				w.flush(pick)
				w.crash(pick)
				w.fault("node %d left gracefully", pick.id)
			} else {
				w.crash(pick)
				w.fault("node %d crashed", pick.id)
			}
		}
	case r < 90:
		if !pick.up {
			persist := w.rng.Intn(3) != 0
			w.fault("node %d restarted (persisted ring seq: %v)", pick.id, persist)
			w.start(pick, persist)
		}
	case r < 94:
		if pick.up && pick.pausedTil <= w.now {
			pause := tokenTimeout + time.Duration(w.rng.Int63n(int64(3*tokenTimeout)))
			pick.pausedTil = w.now + pause
			w.fault("node %d paused for %v", pick.id, pause)
		}
	default: // a quiet moment
	}
}

func (w *world) fault(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	w.res.Faults = append(w.res.Faults, fmt.Sprintf("%v %s", w.now, s))
	w.tracef("FAULT %s", s)
}

func (w *world) upCount() int {
	c := 0
	for _, sn := range w.nodes {
		if sn.up {
			c++
		}
	}
	return c
}

// partition splits the nodes in two groups; asymmetric cuts only one direction.
func (w *world) partition(asymmetric bool) {
	var a, b []totem.NodeID
	for _, sn := range w.nodes {
		if w.rng.Intn(2) == 0 {
			a = append(a, sn.id)
		} else {
			b = append(b, sn.id)
		}
	}
	if len(a) == 0 || len(b) == 0 {
		return
	}
	w.blocked = map[[2]totem.NodeID]bool{}
	for _, x := range a {
		for _, y := range b {
			w.blocked[[2]totem.NodeID{x, y}] = true
			if !asymmetric {
				w.blocked[[2]totem.NodeID{y, x}] = true
			}
		}
	}
	w.fault("partition %v | %v (asymmetric: %v)", a, b, asymmetric)
}

// healAll ends every fault: the network is clean, paused nodes resume, crashed ones restart.
func (w *world) healAll() {
	w.blocked = map[[2]totem.NodeID]bool{}
	w.loss, w.dup = 0, 0
	w.delayMax = 3 * time.Millisecond
	for _, sn := range w.nodes {
		if !sn.up {
			w.start(sn, true)
		}
		if sn.pausedTil > w.now {
			sn.pausedTil = w.now
			w.wake(sn)
		}
	}
	w.fault("all faults healed")
}
