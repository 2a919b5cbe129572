package votequorum

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	vq "github.com/corosync-go/corosync/ipc/votequorum"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// fakeHooks records a core's effects; sends go to its node's outbox.
type fakeHooks struct {
	node    *simNode
	quorums []string
	timers  map[timerKind]time.Duration
}

func (f *fakeHooks) send(id uint16, msg []byte) error {
	f.node.outbox = append(f.node.outbox, simMsg{from: f.node.id, id: id, msg: msg})
	return nil
}
func (f *fakeHooks) setQuorum(members []uint32, quorate bool, ring vq.RingID) {
	f.quorums = append(f.quorums, fmt.Sprintf("%v %v", members, quorate))
}
func (f *fakeHooks) startTimer(k timerKind, d time.Duration) { f.timers[k] = d }
func (f *fakeHooks) stopTimer(k timerKind)                   { delete(f.timers, k) }

type simMsg struct {
	from uint32
	id   uint16
	msg  []byte
}

type simNode struct {
	id     uint32
	c      *core
	fx     *fakeHooks
	m      *icmap.Map
	outbox []simMsg
	events []string
}

// client of a simulated node: records events and answers.
type simClient struct {
	n    *simNode
	resp [][]byte
}

func (s *simClient) event(msg []byte)   { s.n.events = append(s.n.events, fmt.Sprintf("%x", msg[:8])) }
func (s *simClient) respond(msg []byte) { s.resp = append(s.resp, msg) }

// sim is a cluster of votequorum state machines joined by a total order: a ring is
// formed by delivering, to its members in one order, what they sent, as the executive's
// synchronisation does (ConfChg, SyncInit, SyncProcess, the messages, SyncActivate).
type sim struct {
	t     *testing.T
	nodes map[uint32]*simNode
	up    map[uint32]bool
	seq   uint64
	ring  []uint32
	// waitPoll answers a sync that waits for the quorum device's poll.
	waitPoll func(n *simNode)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// conf builds node i's map: an n-node list with votes (default 1) and quorum keys given
// as "key=value" with u8 or u32 types as corosync's parser gives them.
func conf(t *testing.T, n int, i uint32, votes map[uint32]uint32, kv ...string) *icmap.Map {
	m := icmap.New()
	for k := 1; k <= n; k++ {
		m.Set(fmt.Sprintf("nodelist.node.%d.nodeid", k-1), cmap.Uint32(uint32(k)))
		m.Set(fmt.Sprintf("nodelist.node.%d.ring0_addr", k-1), cmap.String(fmt.Sprintf("10.0.0.%d", k)))
		if v, ok := votes[uint32(k)]; ok {
			m.Set(fmt.Sprintf("nodelist.node.%d.quorum_votes", k-1), cmap.Uint32(v))
		}
	}
	if n > 0 {
		m.Set("nodelist.local_node_pos", cmap.Uint32(i-1))
	}
	m.Set("quorum.provider", cmap.String("corosync_votequorum"))
	for _, e := range kv {
		k, v, _ := strings.Cut(e, "=")
		switch k {
		case "quorum.expected_votes", "quorum.votes", "quorum.last_man_standing_window", "quorum.device.votes":
			var u uint32
			fmt.Sscan(v, &u)
			m.Set(k, cmap.Uint32(u))
		case "quorum.auto_tie_breaker_node", "quorum.device.model":
			m.Set(k, cmap.String(v))
		default:
			var u uint8
			fmt.Sscan(v, &u)
			m.Set(k, cmap.Uint8(u))
		}
	}
	return m
}

func newSim(t *testing.T, n int, votes map[uint32]uint32, kv ...string) *sim {
	s := &sim{t: t, nodes: map[uint32]*simNode{}, up: map[uint32]bool{}}
	dir := t.TempDir()
	for i := uint32(1); i <= uint32(n); i++ {
		s.nodes[i] = s.boot(n, i, votes, dir, kv...)
	}
	return s
}

func (s *sim) boot(n int, i uint32, votes map[uint32]uint32, dir string, kv ...string) *simNode {
	sn := &simNode{id: i, m: conf(s.t, n, i, votes, kv...)}
	state := fmt.Sprintf("%s/%d", dir, i)
	if err := os.MkdirAll(state, 0o700); err != nil {
		s.t.Fatal(err)
	}
	sn.fx = &fakeHooks{node: sn, timers: map[timerKind]time.Duration{}}
	sn.c = newCore(sn.m, quiet, sn.fx, i, state)
	return sn
}

func (s *sim) start(ids ...uint32) {
	for _, id := range ids {
		if err := s.nodes[id].c.init(); err != nil {
			s.t.Fatalf("node %d init: %v", id, err)
		}
		s.up[id] = true
	}
}

// form makes a ring of members (which must be up) and synchronises it.
func (s *sim) form(members ...uint32) {
	s.t.Helper()
	slices.Sort(members)
	s.seq += 4
	ring := vq.RingID{NodeID: members[0], Seq: s.seq}
	for _, id := range members {
		s.nodes[id].c.syncInProgress = true // ConfChg
	}
	s.flush(members) // messages sent before the ring (init) go out in it
	for _, id := range members {
		s.nodes[id].c.syncInit(members, ring)
	}
	for _, id := range members {
		if !s.nodes[id].c.syncProcess() {
			if s.waitPoll == nil {
				s.t.Fatalf("node %d: sync not done", id)
			}
			s.waitPoll(s.nodes[id])
			if !s.nodes[id].c.syncProcess() {
				s.t.Fatalf("node %d: sync not done after the poll", id)
			}
		}
	}
	s.flush(members)
	for _, id := range members {
		s.nodes[id].c.syncActivate()
	}
	s.flush(members)
	s.ring = members
}

// flush delivers the members' outboxes in a total order until none sends more.
func (s *sim) flush(members []uint32) {
	for range 100 {
		var all []simMsg
		for _, id := range members {
			all = append(all, s.nodes[id].outbox...)
			s.nodes[id].outbox = nil
		}
		if len(all) == 0 {
			return
		}
		for _, m := range all {
			for _, id := range members {
				s.nodes[id].c.deliver(m.from, m.id, m.msg)
			}
		}
	}
	s.t.Fatal("messages never stop")
}

// kill stops nodes without a word and forms a ring of the others.
func (s *sim) kill(ids ...uint32) {
	for _, id := range ids {
		delete(s.up, id)
		s.nodes[id].outbox = nil
	}
	var rest []uint32
	for _, id := range s.ring {
		if s.up[id] {
			rest = append(rest, id)
		}
	}
	s.form(rest...)
}

// info is GETINFO on node id about itself.
func (s *sim) info(id uint32) vq.Info {
	cl := &simClient{n: s.nodes[id]}
	s.nodes[id].c.getInfo(&conn{c: cl}, vq.GetInfoRequest{})
	r, err := vq.DecodeGetInfoResponse(cl.resp[0])
	if err != nil {
		s.t.Fatal(err)
	}
	return r.Info
}

// check compares node id's quorate flag, expected votes, total votes and quorum.
func (s *sim) check(id uint32, quorate bool, expected, total, quorum uint32) {
	s.t.Helper()
	i := s.info(id)
	if i.Flags&vq.InfoQuorate != 0 != quorate || i.ExpectedVotes != expected || i.TotalVotes != total || i.Quorum != quorum {
		s.t.Fatalf("node %d: quorate %v expected %d total %d quorum %d (flags %v); want %v %d %d %d",
			id, i.Flags&vq.InfoQuorate != 0, i.ExpectedVotes, i.TotalVotes, i.Quorum, i.Flags, quorate, expected, total, quorum)
	}
}

func (s *sim) fireLMS(ids ...uint32) {
	for _, id := range ids {
		n := s.nodes[id]
		if _, ok := n.fx.timers[timerLMS]; !ok {
			s.t.Fatalf("node %d has no last_man_standing timer", id)
		}
		delete(n.fx.timers, timerLMS)
		n.c.timerFired(timerLMS)
	}
	s.flush(s.ring)
}
