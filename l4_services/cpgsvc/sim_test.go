package cpgsvc

import (
	"context"
	"encoding/binary"

	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cpg"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/executive"
)

// The simulation runs real executives (l3+l2 underneath) and cpg engines for several nodes
// over an in-memory network that loses packets at a seeded rate, with cpg clients on every
// node joining, multicasting (agreed and safe), leaving and dying, and nodes crashing,
// leaving and restarting. Every client's events are then checked (checkLogs).

type simNet struct {
	mu    sync.Mutex
	nodes map[evs.NodeID]*executive.Executive
	cut   map[evs.NodeID]bool
	rng   *rand.Rand
	loss  float64
}

func (n *simNet) send(from evs.NodeID) func([]evs.Packet) error {
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
				if n.loss > 0 && n.rng.Float64() < n.loss {
					continue
				}
				x.Receive(from, p.Data)
			}
		}
		return nil
	}
}

type simNode struct {
	id     evs.NodeID
	x      *executive.Executive
	svc    *Service
	cancel context.CancelFunc
	done   chan struct{}
	seq    uint64
	alive  bool
}

// simClient is one libcpg process: a connection to its node's engine.
type simClient struct {
	node  *simNode
	svc   *Service
	c     *client
	pid   uint32
	group string
	rec   *eventLog
	// live: connected and joined (not left, not dead, node up).
	joined, left, dead bool
	sent               int
}

// eventLog decodes and keeps a client's events.
type eventLog struct {
	mu      sync.Mutex
	entries []logEntry
	resp    [][]byte
	// assembly and whole reassemble fragmented deliveries per sender, as libcpg does.
	assembly, whole map[string][]byte
}

// partials are the whole fragmented messages delivered, by sender.
func (l *eventLog) partials() map[string][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range l.whole {
		out[k] = v
	}
	return out
}

type logEntry struct {
	confchg bool
	view    []string // members after a confchg
	left    []string
	joined  []string
	sender  string // deliveries: node:pid
	tag     string
}

func (l *eventLog) Respond(b []byte) error {
	l.mu.Lock()
	l.resp = append(l.resp, append([]byte(nil), b...))
	l.mu.Unlock()
	return nil
}

func (l *eventLog) Event(b []byte) error {
	var e logEntry
	switch int32(binary.LittleEndian.Uint32(b)) {
	case cpg.ResConfChgCallback:
		v, err := cpg.DecodeConfChg(b)
		if err != nil {
			panic(err)
		}
		e = logEntry{confchg: true, view: addrs(v.Members, false), left: addrs(v.Left, true), joined: addrs(v.Joined, true)}
	case cpg.ResPartialDeliver:
		v, err := cpg.DecodePartialDeliver(b)
		if err != nil {
			panic(err)
		}
		from := fmt.Sprintf("%d:%d", v.NodeID, v.PID)
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.assembly == nil {
			l.assembly, l.whole = map[string][]byte{}, map[string][]byte{}
		}
		if v.Type == cpg.PartialFirst {
			l.assembly[from] = nil
		}
		l.assembly[from] = append(l.assembly[from], v.Frag...)
		if v.Type == cpg.PartialLast {
			l.whole[from] = l.assembly[from]
			delete(l.assembly, from)
		}
		return nil
	case cpg.ResDeliverCallback:
		v, err := cpg.DecodeDeliver(b)
		if err != nil {
			panic(err)
		}
		e = logEntry{sender: fmt.Sprintf("%d:%d", v.NodeID, v.PID), tag: string(v.Msg)}
	default:
		return nil
	}
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
	return nil
}

func (l *eventLog) snapshot() []logEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

func (l *eventLog) lastResponse() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.resp) == 0 {
		return nil
	}
	return l.resp[len(l.resp)-1]
}

func addrs(as []cpg.Address, reason bool) []string {
	var out []string
	for _, a := range as {
		s := fmt.Sprintf("%d:%d", a.NodeID, a.PID)
		if reason {
			s += ":" + a.Reason.String()
		}
		out = append(out, s)
	}
	return out
}

type sim struct {
	t       *testing.T
	net     *simNet
	nodes   []*simNode
	clients []*simClient
	nextPID uint32
	log     *slog.Logger
	rng     *rand.Rand

	crashes, leaves, isolations int
}

func newSim(t *testing.T, seed int64, n int) *sim {
	s := &sim{t: t, rng: rand.New(rand.NewSource(seed)), nextPID: 1000,
		net: &simNet{nodes: map[evs.NodeID]*executive.Executive{}, cut: map[evs.NodeID]bool{}, rng: rand.New(rand.NewSource(seed ^ 0x5eed))}}
	s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("CPGSIM_LOG") != "" {
		s.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for i := 1; i <= n; i++ {
		s.nodes = append(s.nodes, &simNode{id: evs.NodeID(i)})
	}
	t.Cleanup(func() {
		for _, nd := range s.nodes {
			s.crash(nd)
		}
	})
	return s
}

func (s *sim) start(nd *simNode) {
	tc := evs.DefaultTotemConfig(nd.id, 300*time.Millisecond)
	tc.NodelistSize = len(s.nodes)
	tc.TokenRetransmit, tc.Hold, tc.Consensus = 0, 0, 0
	tc.Incarnation = uint32(s.rng.Int63())
	nd.svc = New(Config{NodeID: uint32(nd.id), Log: s.log.With("node", nd.id)})
	var mu sync.Mutex
	x, err := executive.New(executive.Config{
		Totem: tc, RingSeq: nd.seq, Send: s.net.send(nd.id), Log: s.log.With("node", nd.id),
		StoreRingSeq: func(q uint64) error { mu.Lock(); nd.seq = max(nd.seq, q); mu.Unlock(); return nil },
	}, nd.svc)
	if err != nil {
		s.t.Fatal(err)
	}
	nd.svc.Bind(x.Endpoint(ServiceID))
	nd.x = x
	s.net.mu.Lock()
	s.net.nodes[nd.id] = x
	delete(s.net.cut, nd.id)
	s.net.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	nd.cancel, nd.done, nd.alive = cancel, make(chan struct{}), true
	go func() { x.Run(ctx); close(nd.done) }()
}

// crash stops a node without a word (kill -9): its clients die with it.
func (s *sim) crash(nd *simNode) {
	if !nd.alive {
		return
	}
	s.net.mu.Lock()
	s.net.cut[nd.id] = true
	delete(s.net.nodes, nd.id)
	s.net.mu.Unlock()
	nd.cancel()
	<-nd.done
	nd.alive = false
	for _, c := range s.clients {
		if c.node == nd {
			c.dead = true
		}
	}
}

// leaveNode stops a node gracefully (SIGTERM): clients disconnect, then the ring is left.
func (s *sim) leaveNode(nd *simNode) {
	for _, c := range s.clients {
		if c.node == nd && !c.dead {
			c.svc.disconnect(c.c)
			c.dead = true
		}
	}
	nd.x.Leave()
	select {
	case <-nd.x.Done():
	case <-time.After(5 * time.Second):
	}
	s.crash(nd)
}

func (s *sim) newClient(nd *simNode, group string) {
	s.nextPID++
	rec := &eventLog{}
	c := &simClient{node: nd, svc: nd.svc, pid: s.nextPID, group: group, rec: rec}
	c.c = nd.svc.connect(rec, nil, 0)
	req, _ := cpg.JoinRequest{Group: group, PID: c.pid, Flags: cpg.DeliverInitialTotemConf}.Encode()
	nd.svc.request(c.c, cpg.ReqJoin, req)
	if cs, err := cpg.DecodeStatusResponse(rec.lastResponse(), cpg.ResJoin); err != nil || cs != ipc.CSOk {
		s.t.Fatalf("join: %v %v", cs, err)
	}
	c.joined = true
	s.clients = append(s.clients, c)
}

func (s *sim) mcast(c *simClient, tag string, g cpg.Guarantee) {
	c.svc.request(c.c, cpg.ReqMcast, cpg.McastRequest{Guarantee: g, Msg: []byte(tag)}.Encode())
	c.sent++
}

func (s *sim) live() []*simClient {
	var out []*simClient
	for _, c := range s.clients {
		if c.joined && !c.left && !c.dead {
			out = append(out, c)
		}
	}
	return out
}

func (s *sim) pick(cs []*simClient) *simClient {
	if len(cs) == 0 {
		return nil
	}
	return cs[s.rng.Intn(len(cs))]
}

func (s *sim) aliveNodes() []*simNode {
	var out []*simNode
	for _, nd := range s.nodes {
		if nd.alive {
			out = append(out, nd)
		}
	}
	return out
}

// settled: every node runs, in one ring of all, synchronised, with nothing held.
func (s *sim) settled() bool {
	want := make([]evs.NodeID, 0, len(s.nodes))
	for _, nd := range s.nodes {
		want = append(want, nd.id)
	}
	for _, nd := range s.nodes {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		snap, err := nd.x.Snapshot(ctx)
		cancel()
		if err != nil || !slices.Equal(snap.Members, want) || snap.State != evs.StateOperational {
			return false
		}
		nd.svc.mu.Lock()
		ok := !nd.svc.window && len(nd.svc.members) == len(want)
		nd.svc.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

func waitUntil(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// run drives one seeded scenario and checks it.
func (s *sim) run(steps int) {
	for _, nd := range s.nodes {
		s.start(nd)
	}
	waitUntil(s.t, "the first ring", 20*time.Second, s.settled)
	groups := []string{"alpha", "beta"}
	for _, nd := range s.nodes {
		s.newClient(nd, groups[0])
	}
	s.net.mu.Lock()
	s.net.loss = s.rng.Float64() * 0.08
	s.net.mu.Unlock()
	msgSeq := 0
	for range steps {
		switch r := s.rng.Intn(100); {
		case r < 15:
			if nd := s.aliveNodes(); len(nd) > 0 {
				s.newClient(nd[s.rng.Intn(len(nd))], groups[s.rng.Intn(len(groups))])
			}
		case r < 60:
			if c := s.pick(s.live()); c != nil {
				for range 1 + s.rng.Intn(6) {
					msgSeq++
					g := cpg.TypeAgreed
					if s.rng.Intn(3) == 0 {
						g = cpg.TypeSafe
					}
					s.mcast(c, fmt.Sprintf("m%d", msgSeq), g)
				}
			}
		case r < 67:
			if c := s.pick(s.live()); c != nil {
				req, _ := cpg.LeaveRequest{Group: c.group, PID: c.pid}.Encode()
				c.svc.request(c.c, cpg.ReqLeave, req)
				if cs, _ := cpg.DecodeStatusResponse(c.rec.lastResponse(), cpg.ResLeave); cs == ipc.CSOk {
					c.left = true
				}
			}
		case r < 74:
			if c := s.pick(s.live()); c != nil {
				c.svc.disconnect(c.c) // the process died
				c.dead = true
			}
		case r < 80:
			if nd := s.aliveNodes(); len(nd) > 2 {
				s.crash(nd[s.rng.Intn(len(nd))])
				s.crashes++
			}
		case r < 84:
			if nd := s.aliveNodes(); len(nd) > 2 {
				s.leaveNode(nd[s.rng.Intn(len(nd))])
				s.leaves++
			}
		case r < 88:
			// Isolate a node for a while: it forms a ring of its own with its clients
			// alive, and merges back (NODEDOWN on both sides, then NODEUP).
			if nd := s.aliveNodes(); len(nd) > 2 {
				id := nd[s.rng.Intn(len(nd))].id
				s.net.mu.Lock()
				s.net.cut[id] = true
				s.net.mu.Unlock()
				s.isolations++
				d := time.Duration(800+s.rng.Intn(1500)) * time.Millisecond
				go func() {
					time.Sleep(d)
					s.net.mu.Lock()
					if s.net.nodes[id] != nil {
						delete(s.net.cut, id)
					}
					s.net.mu.Unlock()
				}()
			}
		case r < 92:
			for _, nd := range s.nodes {
				if !nd.alive {
					s.start(nd)
					break
				}
			}
		default:
			time.Sleep(time.Duration(s.rng.Intn(400)) * time.Millisecond)
		}
		time.Sleep(time.Duration(s.rng.Intn(120)) * time.Millisecond)
	}
	// Heal: no loss, every node back, one ring, then a final round of traffic that every
	// live member must deliver.
	s.net.mu.Lock()
	s.net.loss = 0
	s.net.mu.Unlock()
	for _, nd := range s.nodes {
		s.start2(nd)
	}
	waitUntil(s.t, "one ring of every node after healing", 30*time.Second, s.settled)
	for _, nd := range s.nodes {
		s.newClient(nd, groups[1])
	}
	want := map[string][]string{}
	for _, c := range s.live() {
		want[c.group] = append(want[c.group], fmt.Sprintf("%d:%d", c.node.id, c.pid))
	}
	for g := range want {
		slices.SortFunc(want[g], cmpAddr)
	}
	var why string
	waitUntil(s.t, "every live client to see its group's final membership", 20*time.Second, func() bool {
		for _, c := range s.live() {
			if v := lastView(c.rec.snapshot()); !slices.Equal(v, want[c.group]) {
				if why == "" {
					defer func() { s.t.Log(why) }()
				}
				why = fmt.Sprintf("client %d:%d of %s sees %v, want %v", c.node.id, c.pid, c.group, v, want[c.group])
				for _, nd := range s.nodes {
					nd.svc.mu.Lock()
					why += fmt.Sprintf("\nnode %d procs %v window %v held %d phase %d members %v old %v ring %v", nd.id, nd.svc.procs, nd.svc.window, len(nd.svc.held), nd.svc.phase, nd.svc.members, nd.svc.oldMembers, nd.svc.ring)
					nd.svc.mu.Unlock()
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					snap, err := nd.x.Snapshot(ctx)
					cancel()
					why += fmt.Sprintf(" exec %v %v %v %v tokens rx %d mcast rx %d retx %d rtr %d delivered %d bad %d", snap.State, snap.Ring, snap.Members, err,
						snap.Totem.OrfTokenRx, snap.Totem.McastRx, snap.Totem.McastRetx, snap.Totem.RetransmitRequests, snap.EVS.MessagesDelivered, nd.svc.BadMessages())
				}
				return false
			}
		}
		return true
	})
	var final []string
	for _, c := range s.live() {
		tag := fmt.Sprintf("final-%d", c.pid)
		s.mcast(c, tag, cpg.TypeSafe)
		final = append(final, tag)
	}
	waitUntil(s.t, "the final messages everywhere", 20*time.Second, func() bool {
		for _, c := range s.live() {
			got := 0
			for _, e := range c.rec.snapshot() {
				if !e.confchg && strings.HasPrefix(e.tag, "final-") && slices.Contains(want[c.group], e.sender) {
					got++
				}
			}
			if got < len(want[c.group]) {
				return false
			}
		}
		return true
	})
	if err := s.check(); err != nil {
		s.t.Fatal(err)
	}
	deliveries, confchgs, reasons := 0, 0, map[string]int{}
	for _, c := range s.clients {
		for _, e := range c.rec.snapshot() {
			if !e.confchg {
				deliveries++
				continue
			}
			confchgs++
			for _, a := range append(e.left, e.joined...) {
				reasons[a[strings.LastIndexByte(a, ':')+1:]]++
			}
		}
	}
	s.t.Logf("%d clients, %d deliveries, %d confchgs %v, %d crashes, %d node leaves, %d isolations", len(s.clients), deliveries, confchgs, reasons, s.crashes, s.leaves, s.isolations)
}

// start2 starts a node that is down.
func (s *sim) start2(nd *simNode) {
	if !nd.alive {
		s.start(nd)
	}
}

func cmpAddr(a, b string) int {
	an, ap, _ := strings.Cut(a, ":")
	bn, bp, _ := strings.Cut(b, ":")
	x, _ := strconv.Atoi(an)
	y, _ := strconv.Atoi(bn)
	if x != y {
		return x - y
	}
	x, _ = strconv.Atoi(ap)
	y, _ = strconv.Atoi(bp)
	return x - y
}

func lastView(log []logEntry) []string {
	for i := len(log) - 1; i >= 0; i-- {
		if log[i].confchg {
			return log[i].view
		}
	}
	return nil
}

// check applies checkLogs to every client's log, grouped by group.
func (s *sim) check() error {
	byGroup := map[string]map[string][]logEntry{}
	for _, c := range s.clients {
		if byGroup[c.group] == nil {
			byGroup[c.group] = map[string][]logEntry{}
		}
		byGroup[c.group][fmt.Sprintf("%d:%d", c.node.id, c.pid)] = c.rec.snapshot()
	}
	for g, logs := range byGroup {
		if err := checkLogs(logs); err != nil {
			return fmt.Errorf("group %s: %w", g, err)
		}
	}
	return nil
}

// checkLogs checks the clients' logs of one group:
//   - a client delivers each message once, and only from a member of its current view
//     (so never from a process after its leave, procdown or nodedown, until it is back);
//   - any two clients deliver the messages they share in the same order;
//   - a message is delivered in the same view (member list) by every client that delivers
//     it (virtual synchrony);
//   - every view a client sees lists the members sorted by node and pid, and the left and
//     joined processes of a confchg are outside and inside it.
func checkLogs(logs map[string][]logEntry) error {
	type at struct {
		index int
		view  string
	}
	seen := map[string]map[string]at{} // client → tag → position and view
	for who, log := range logs {
		pos := map[string]at{}
		var view []string
		for i, e := range log {
			if e.confchg {
				if !slices.IsSortedFunc(e.view, cmpAddr) {
					return fmt.Errorf("%s: view %v not sorted", who, e.view)
				}
				for _, l := range e.left {
					if slices.Contains(e.view, trimReason(l)) {
						return fmt.Errorf("%s: %s left but is in the view %v", who, l, e.view)
					}
				}
				for _, j := range e.joined {
					if !slices.Contains(e.view, trimReason(j)) {
						return fmt.Errorf("%s: %s joined but is not in the view %v", who, j, e.view)
					}
				}
				view = e.view
				continue
			}
			if _, dup := pos[e.tag]; dup {
				return fmt.Errorf("%s: %s delivered twice", who, e.tag)
			}
			if !slices.Contains(view, e.sender) {
				return fmt.Errorf("%s: %s from %s, not in the view %v", who, e.tag, e.sender, view)
			}
			pos[e.tag] = at{index: i, view: strings.Join(view, ",")}
		}
		seen[who] = pos
	}
	names := make([]string, 0, len(logs))
	for who := range logs {
		names = append(names, who)
	}
	slices.Sort(names)
	for i, a := range names {
		for _, b := range names[i+1:] {
			last, lastTag := -1, ""
			for _, e := range logs[b] {
				if e.confchg {
					continue
				}
				pa, ok := seen[a][e.tag]
				if !ok {
					continue
				}
				if pa.view != seen[b][e.tag].view {
					return fmt.Errorf("%s delivered %s in view [%s], %s in view [%s]", a, e.tag, pa.view, b, seen[b][e.tag].view)
				}
				if pa.index < last {
					return fmt.Errorf("%s and %s deliver %s and %s in different orders", a, b, lastTag, e.tag)
				}
				last, lastTag = pa.index, e.tag
			}
		}
	}
	return nil
}

func trimReason(a string) string {
	if i := strings.LastIndexByte(a, ':'); i > 0 && strings.Count(a, ":") == 2 {
		return a[:i]
	}
	return a
}

// TestSimulatedClusters runs seeded scenarios (CPGSIM_RUNS of them, CPGSIM_SEED to replay
// one). Timing comes from real goroutines, so a seed fixes the faults and traffic, not
// every interleaving.
func TestSimulatedClusters(t *testing.T) {
	runs := 5
	if v, err := strconv.Atoi(os.Getenv("CPGSIM_RUNS")); err == nil {
		runs = v
	}
	// Not the clock's low digits: on some machines they are always a multiple of 1000.
	first := time.Now().UnixNano() / 1000 % 100000
	if v, err := strconv.ParseInt(os.Getenv("CPGSIM_SEED"), 10, 64); err == nil {
		first, runs = v, 1
	}
	for i := range runs {
		seed := first + int64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("replay with CPGSIM_SEED=%d", seed)
			newSim(t, seed, 4).run(60)
		})
	}
}

func TestCheckerCatchesViolations(t *testing.T) {
	view := logEntry{confchg: true, view: []string{"1:1", "2:2"}}
	ok := map[string][]logEntry{
		"1:1": {view, {sender: "1:1", tag: "a"}, {sender: "2:2", tag: "b"}},
		"2:2": {view, {sender: "1:1", tag: "a"}, {sender: "2:2", tag: "b"}},
	}
	if err := checkLogs(ok); err != nil {
		t.Fatalf("a correct history refused: %v", err)
	}
	for name, logs := range map[string]map[string][]logEntry{
		"order":        {"1:1": ok["1:1"], "2:2": {view, {sender: "2:2", tag: "b"}, {sender: "1:1", tag: "a"}}},
		"duplicate":    {"1:1": append(slices.Clone(ok["1:1"]), logEntry{sender: "1:1", tag: "a"})},
		"not in view":  {"1:1": {view, {sender: "3:3", tag: "c"}}},
		"after leave":  {"1:1": {view, {confchg: true, view: []string{"1:1"}, left: []string{"2:2:leave"}}, {sender: "2:2", tag: "b"}}},
		"view differs": {"1:1": ok["1:1"], "2:2": {{confchg: true, view: []string{"1:1", "2:2", "3:3"}}, {sender: "1:1", tag: "a"}}},
		"left in view": {"1:1": {{confchg: true, view: []string{"1:1", "2:2"}, left: []string{"2:2:nodedown"}}}},
	} {
		if err := checkLogs(logs); err == nil {
			t.Errorf("%s: not caught", name)
		}
	}
}
