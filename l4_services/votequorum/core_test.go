package votequorum

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	vq "github.com/corosync-go/corosync/ipc/votequorum"
)

// TestFormula: quorum = max((highest expected+2)/2, (total votes+2)/2), never lower
// than before unless allowed, 1 in two_node mode with at most two voters
// (votequorum(5): "expected_votes ... quorum is expected_votes/2+1").
func TestFormula(t *testing.T) {
	for _, tc := range []struct {
		name          string
		expected      []uint32 // per member
		votes         []uint32
		old           uint32
		allowDecrease bool
		twoNode       bool
		maxExpected   uint32
		want          uint32
	}{
		{"3 of 3", []uint32{3, 3, 3}, []uint32{1, 1, 1}, 0, false, false, 0, 2},
		{"4 nodes", []uint32{4, 4, 4, 4}, []uint32{1, 1, 1, 1}, 0, false, false, 0, 3},
		{"5 nodes", []uint32{5, 5, 5, 5, 5}, []uint32{1, 1, 1, 1, 1}, 0, false, false, 0, 3},
		{"8 nodes", []uint32{8, 8}, []uint32{1, 1}, 0, false, false, 0, 5},
		{"highest expected wins", []uint32{3, 7}, []uint32{1, 1}, 0, false, false, 0, 4},
		{"votes above expected", []uint32{2, 2}, []uint32{5, 5}, 0, false, false, 0, 6},
		{"never decreases", []uint32{3, 3}, []uint32{1, 1}, 5, false, false, 0, 5},
		{"decrease allowed", []uint32{3, 3}, []uint32{1, 1}, 5, true, false, 0, 2},
		{"max expected overrides", []uint32{8, 8}, []uint32{1, 1}, 0, true, false, 2, 2},
		{"two_node", []uint32{2, 2}, []uint32{1, 1}, 0, false, true, 0, 1},
		{"two_node alone", []uint32{2}, []uint32{1}, 0, false, true, 0, 1},
		{"two_node off with 3 voters", []uint32{3, 3, 3}, []uint32{1, 1, 1}, 0, false, true, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bareCore(t)
			c.nodes = nil
			for i := range tc.expected {
				c.nodes = append(c.nodes, &node{id: uint32(i + 1), state: vq.NodeStateMember, votes: tc.votes[i], expected: tc.expected[i]})
			}
			c.us = c.nodes[0]
			c.quorum, c.twoNode = tc.old, tc.twoNode
			if got, _ := c.calculateQuorum(tc.allowDecrease, tc.maxExpected); got != tc.want {
				t.Fatalf("quorum %d, want %d", got, tc.want)
			}
		})
	}
}

func bareCore(t *testing.T) *core {
	sn := &simNode{id: 1}
	sn.fx = &fakeHooks{node: sn, timers: map[timerKind]time.Duration{}}
	sn.m = conf(t, 3, 1, nil)
	sn.c = newCore(sn.m, quiet, sn.fx, 1, t.TempDir())
	return sn.c
}

func TestNodesKilled(t *testing.T) {
	s := newSim(t, 3, nil)
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	s.check(1, true, 3, 3, 2)
	s.check(3, true, 3, 3, 2)
	s.kill(3)
	s.check(1, true, 3, 2, 2)
	s.kill(2)
	s.check(1, false, 3, 1, 2)
	if got := s.nodes[1].fx.quorums; len(got) == 0 || got[len(got)-1] != "[1] false" {
		t.Fatalf("quorum callbacks %v", got)
	}
}

func TestTwoNode(t *testing.T) {
	s := newSim(t, 2, nil, "quorum.two_node=1")
	s.start(1)
	s.form(1)
	s.check(1, false, 2, 1, 1) // wait_for_all follows two_node
	if i := s.info(1); i.Flags&(vq.InfoTwoNode|vq.InfoWaitForAll) != vq.InfoTwoNode|vq.InfoWaitForAll {
		t.Fatalf("flags %v", i.Flags)
	}
	s.start(2)
	s.form(1, 2)
	s.check(1, true, 2, 2, 1)
	s.kill(2)
	s.check(1, true, 2, 1, 1)

	// With wait_for_all off explicitly a lone node is quorate at once.
	s = newSim(t, 2, nil, "quorum.two_node=1", "quorum.wait_for_all=0")
	s.start(1)
	s.form(1)
	s.check(1, true, 2, 1, 1)

	// More than two voters: two_node does not lower quorum.
	s = newSim(t, 3, nil, "quorum.two_node=1")
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	s.kill(3)
	s.check(1, true, 3, 2, 1) // two voters left: two_node applies again
	s.kill(2)
	s.check(1, true, 3, 1, 1)
}

func TestWaitForAll(t *testing.T) {
	s := newSim(t, 3, nil, "quorum.wait_for_all=1")
	s.start(1, 2)
	s.form(1, 2)
	s.check(1, false, 3, 2, 2)
	if v, _ := s.nodes[1].m.Get("runtime.votequorum.wait_for_all_status"); v.Uint8() != 1 {
		t.Fatal("wait_for_all_status not set")
	}
	s.start(3)
	s.form(1, 2, 3)
	s.check(1, true, 3, 3, 2)
	s.kill(3)
	s.check(1, true, 3, 2, 2) // once quorate, no more waiting
	// Losing quorum means waiting for all again: two isolated nodes meeting again are
	// not enough.
	s.form(1)
	s.form(2)
	s.check(1, false, 3, 1, 2)
	s.form(1, 2)
	s.check(1, false, 3, 2, 2)

	// cancel_wait_for_all releases a partition that waits.
	s = newSim(t, 3, nil, "quorum.wait_for_all=1")
	s.start(1, 2)
	s.form(1, 2)
	s.check(2, false, 3, 2, 2)
	s.nodes[1].m.Set("quorum.cancel_wait_for_all", cmap.Uint8(1))
	s.nodes[1].c.refresh("quorum.cancel_wait_for_all")
	s.flush(s.ring)
	s.check(1, true, 3, 2, 2)
	s.check(2, true, 3, 2, 2)
	if v, _ := s.nodes[1].m.Get("quorum.cancel_wait_for_all"); v.Uint8() != 0 {
		t.Fatal("cancel_wait_for_all not reset")
	}
}

// TestLastManStanding is votequorum(5)'s example: after each loss, once the window
// passes, expected votes follow the nodes that remain, down to two.
func TestLastManStanding(t *testing.T) {
	s := newSim(t, 5, nil, "quorum.last_man_standing=1", "quorum.last_man_standing_window=20000")
	s.start(1, 2, 3, 4, 5)
	s.form(1, 2, 3, 4, 5)
	if len(s.nodes[1].fx.timers) != 0 {
		t.Fatal("timer armed with nobody gone")
	}
	s.kill(5)
	if d := s.nodes[1].fx.timers[timerLMS]; d != 20*time.Second {
		t.Fatalf("lms timer %v", d)
	}
	s.check(1, true, 5, 4, 3) // before the window
	s.fireLMS(1, 2, 3, 4)
	s.check(1, true, 4, 4, 3)
	s.kill(4)
	s.fireLMS(1, 2, 3)
	s.check(1, true, 3, 3, 2)
	s.kill(3)
	s.fireLMS(1, 2)
	s.check(1, true, 2, 2, 2)
	s.kill(2)
	s.check(1, false, 2, 1, 2)
	if _, armed := s.nodes[1].fx.timers[timerLMS]; armed {
		t.Fatal("lms timer armed below quorum")
	}

	// A node with more than one vote disables it.
	s = newSim(t, 3, map[uint32]uint32{2: 2}, "quorum.last_man_standing=1")
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	if s.nodes[1].c.lms {
		t.Fatal("last_man_standing still on with a 2-vote node")
	}
}

// TestLastManStandingWithATB goes down to one node (votequorum(5)).
func TestLastManStandingWithATB(t *testing.T) {
	s := newSim(t, 4, nil, "quorum.last_man_standing=1", "quorum.auto_tie_breaker=1")
	s.start(1, 2, 3, 4)
	s.form(1, 2, 3, 4)
	s.kill(4)
	s.fireLMS(1, 2, 3)
	s.kill(3)
	s.fireLMS(1, 2)
	s.check(1, true, 2, 2, 2)
	s.kill(2)
	s.fireLMS(1) // the lowest node id is here: the timer runs below quorum too
	s.check(1, true, 1, 1, 1)
}

func TestAutoTieBreaker(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kv     []string
		a, b   []uint32
		aWins  bool
		bWins  bool
		atType uint32
	}{
		{"lowest", []string{"quorum.auto_tie_breaker=1"}, []uint32{1, 2}, []uint32{3, 4}, true, false, atbLowest},
		{"lowest with 1 and 3", []string{"quorum.auto_tie_breaker=1"}, []uint32{2, 4}, []uint32{1, 3}, false, true, atbLowest},
		{"highest", []string{"quorum.auto_tie_breaker=1", "quorum.auto_tie_breaker_node=highest"}, []uint32{1, 2}, []uint32{3, 4}, false, true, atbHighest},
		{"list 3 1", []string{"quorum.auto_tie_breaker=1", "quorum.auto_tie_breaker_node=3 1"}, []uint32{1, 2}, []uint32{3, 4}, false, true, atbList},
		{"list 2 4", []string{"quorum.auto_tie_breaker=1", "quorum.auto_tie_breaker_node=2 4"}, []uint32{1, 3}, []uint32{2, 4}, false, true, atbList},
		{"off", nil, []uint32{1, 2}, []uint32{3, 4}, false, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, 4, nil, tc.kv...)
			s.start(1, 2, 3, 4)
			s.form(1, 2, 3, 4)
			s.form(tc.a...)
			s.form(tc.b...)
			s.check(tc.a[0], tc.aWins, 4, 2, 3)
			s.check(tc.b[0], tc.bWins, 4, 2, 3)
			if v, err := s.nodes[1].m.Get("runtime.votequorum.atb_type"); tc.atType != 0 && (err != nil || v.Uint32() != tc.atType) {
				t.Fatalf("atb_type %v %v", v, err)
			}
		})
	}
	// An odd cluster without wait_for_all disables it.
	s := newSim(t, 3, nil, "quorum.auto_tie_breaker=1")
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	if s.info(1).Flags&vq.InfoAutoTieBreaker != 0 {
		t.Fatal("auto_tie_breaker on in an odd cluster without wait_for_all")
	}
	s = newSim(t, 3, nil, "quorum.auto_tie_breaker=1", "quorum.wait_for_all=1")
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	if s.info(1).Flags&vq.InfoAutoTieBreaker == 0 {
		t.Fatal("auto_tie_breaker off with wait_for_all")
	}
}

func lib(s *sim, id uint32, call func(c *core, to *conn)) ipc.CS {
	cl := &simClient{n: s.nodes[id]}
	call(s.nodes[id].c, &conn{c: cl})
	s.flush(s.ring)
	if len(cl.resp) == 0 {
		s.t.Fatal("no answer")
	}
	cs, err := vq.DecodeStatusResponse(cl.resp[0])
	if err != nil {
		s.t.Fatal(err)
	}
	return cs
}

func TestSetExpectedAndVotes(t *testing.T) {
	s := newSim(t, 3, nil)
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	set := func(id, ev uint32) ipc.CS {
		return lib(s, id, func(c *core, to *conn) { c.setExpected(to, vq.SetExpectedRequest{ExpectedVotes: ev}) })
	}
	if cs := set(1, 2); cs != ipc.CSErrInvalid {
		t.Fatalf("expected below total votes: %v", cs)
	}
	if cs := set(1, 7); cs != ipc.CSErrInvalid {
		t.Fatalf("expected that would lose quorum: %v", cs)
	}
	if cs := set(2, 5); cs != ipc.CSOk {
		t.Fatalf("setexpected 5: %v", cs)
	}
	s.check(3, true, 5, 3, 3)
	s.kill(3)
	s.check(1, false, 5, 2, 3)
	// An administrator lowers expected votes of the survivors to regain quorum.
	if cs := set(1, 3); cs != ipc.CSOk {
		t.Fatalf("setexpected 3: %v", cs)
	}
	s.check(2, true, 3, 2, 2)

	votes := func(id, node, v uint32) ipc.CS {
		return lib(s, id, func(c *core, to *conn) { c.setVotes(to, vq.SetVotesRequest{NodeID: node, Votes: v}) })
	}
	if cs := votes(1, 9, 1); cs != ipc.CSErrNameNotFound {
		t.Fatalf("votes of an unknown node: %v", cs)
	}
	if cs := votes(1, 2, 3); cs != ipc.CSOk {
		t.Fatalf("setvotes: %v", cs)
	}
	s.check(1, true, 4, 4, 3)
	if i := s.info(2); i.Votes != 3 {
		t.Fatalf("node 2 sees its votes as %d", i.Votes)
	}
	if cs := votes(1, 2, 0); cs != ipc.CSErrInvalid {
		t.Fatalf("votes making quorum unreachable: %v", cs)
	}
}

func TestAllowDownscaleAndEVTracking(t *testing.T) {
	s := newSim(t, 3, nil, "quorum.allow_downscale=1")
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	b, err := os.ReadFile(filepath.Join(s.nodes[1].c.state, "ev_tracking"))
	if err != nil || len(b) != 4 || b[0] != 3 {
		t.Fatalf("ev_tracking file %x %v", b, err)
	}
	if !s.nodes[3].c.leaving() {
		t.Fatal("leaving not sent")
	}
	s.flush(s.ring)
	if n := s.nodes[1].c.find(3); n.state != vq.NodeStateLeaving {
		t.Fatalf("node 3 state %v", n.state)
	}
	// The members' expected votes follow the remaining nodes; quorum stays at the
	// barrier's (ev_barrier 3: quorum 2).
	s.check(1, true, 2, 2, 2)
	s.kill(3)
	s.check(1, true, 2, 2, 2)

	// expected_votes_tracking: a node restarted with a smaller node list keeps the
	// highest expected votes seen.
	dir := t.TempDir()
	s = newSim(t, 3, nil, "quorum.expected_votes_tracking=1")
	for id := uint32(1); id <= 3; id++ {
		s.nodes[id] = s.boot(3, id, nil, dir, "quorum.expected_votes_tracking=1")
	}
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	n := s.boot(2, 1, nil, dir, "quorum.expected_votes_tracking=1")
	if err := n.c.init(); err != nil {
		t.Fatal(err)
	}
	if n.c.us.expected != 3 {
		t.Fatalf("restarted node expects %d votes, want 3 from ev_tracking", n.c.us.expected)
	}
	if v, _ := n.m.Get("runtime.votequorum.ev_tracking_barrier"); v.Uint32() != 3 {
		t.Fatalf("ev_tracking_barrier %v", v)
	}
}

func TestRuntimeKeys(t *testing.T) {
	s := newSim(t, 2, nil, "quorum.two_node=1")
	s.start(1, 2)
	s.form(1, 2)
	m := s.nodes[2].m
	for k, want := range map[string]string{
		"runtime.votequorum.this_node_id":        "2",
		"runtime.votequorum.two_node":            "1",
		"runtime.votequorum.wait_for_all_status": "0",
		"runtime.votequorum.ev_barrier":          "2",
		"runtime.votequorum.lowest_node_id":      "1",
		"runtime.votequorum.highest_node_id":     "2",
	} {
		if v, err := m.Get(k); err != nil || v.String() != want {
			t.Errorf("%s = %v (%v), want %s", k, v, err, want)
		}
	}
	if !m.ReadOnly("quorum.wait_for_all") || m.ReadOnly("quorum.two_node") {
		t.Error("read-only keys wrong")
	}
}

// TestReload: quorum.two_node, expected_votes and node votes change at run time.
func TestReload(t *testing.T) {
	s := newSim(t, 2, nil)
	s.start(1, 2)
	s.form(1, 2)
	s.check(1, true, 2, 2, 2)
	for id := uint32(1); id <= 2; id++ {
		s.nodes[id].m.Set("quorum.two_node", cmap.Uint8(1))
		s.nodes[id].c.refresh("quorum.two_node")
	}
	s.flush(s.ring)
	s.check(1, true, 2, 2, 1)
	s.kill(2)
	s.check(1, true, 2, 1, 1)

	s = newSim(t, 3, nil)
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	for id := uint32(1); id <= 3; id++ {
		s.nodes[id].m.Set("nodelist.node.0.quorum_votes", cmap.Uint32(3))
		s.nodes[id].c.refresh("nodelist.node.0.quorum_votes")
	}
	s.flush(s.ring)
	s.check(2, true, 5, 5, 3)
	if i := s.info(1); i.Votes != 3 {
		t.Fatalf("node 1 votes %d", i.Votes)
	}
	s.nodes[1].m.Set("quorum.expected_votes", cmap.Uint32(6))
	s.nodes[1].c.refresh("quorum.expected_votes")
	s.flush(s.ring)
	s.check(3, true, 6, 5, 4)
	// During a reload nothing happens until it completes; then the end of the reload
	// applies everything, unless the reload failed.
	m := s.nodes[1].m
	m.Set("config.totemconfig_reload_in_progress", cmap.Uint8(1))
	m.Set("quorum.expected_votes", cmap.Uint32(9))
	s.nodes[1].c.refresh("quorum.expected_votes")
	if len(s.nodes[1].outbox) != 0 {
		t.Fatal("refresh during a reload")
	}
	m.Set("config.reload_status", cmap.Int32(int32(ipc.CSErrInvalid)))
	m.Set("config.totemconfig_reload_in_progress", cmap.Uint8(0))
	s.nodes[1].c.refresh("config.totemconfig_reload_in_progress")
	if len(s.nodes[1].outbox) != 0 {
		t.Fatal("a failed reload applied")
	}
	m.Set("config.reload_status", cmap.Int32(int32(ipc.CSOk)))
	s.nodes[1].c.refresh("config.totemconfig_reload_in_progress")
	s.flush(s.ring)
	s.check(3, true, 9, 5, 5)
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		n    int
		kv   []string
		want string
	}{
		{0, nil, "nodelist or quorum.expected_votes must be configured"},
		{2, []string{"quorum.two_node=1", "quorum.device.model=net"}, "two_node and quorum device"},
		{3, []string{"quorum.auto_tie_breaker=1", "quorum.last_man_standing=1"}, "auto_tie_breaker & last_man_standing"},
		{4, []string{"quorum.device.model=net", "quorum.last_man_standing=1"}, "not compatible with last_man_standing"},
		{4, []string{"quorum.device.model=net", "quorum.expected_votes=4"}, "quorum.device.votes must be specified when quorum.expected_votes"},
		{4, []string{"quorum.device.model=net", "quorum.device.votes=3", "quorum.expected_votes=4"}, "too high"},
	} {
		sn := &simNode{id: 1, m: conf(t, tc.n, 1, nil, tc.kv...)}
		sn.fx = &fakeHooks{node: sn, timers: map[timerKind]time.Duration{}}
		sn.c = newCore(sn.m, quiet, sn.fx, 1, t.TempDir())
		if err := sn.c.init(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.kv, err, tc.want)
		}
	}
	// quorum.expected_votes alone (no node list) is enough.
	sn := &simNode{id: 1, m: conf(t, 0, 1, nil, "quorum.expected_votes=1")}
	sn.fx = &fakeHooks{node: sn, timers: map[timerKind]time.Duration{}}
	sn.c = newCore(sn.m, quiet, sn.fx, 1, t.TempDir())
	if err := sn.c.init(); err != nil || !sn.c.quorate {
		t.Fatalf("expected_votes 1: %v quorate %v", err, sn.c.quorate)
	}
}

func TestQdevice(t *testing.T) {
	s := newSim(t, 2, nil, "quorum.device.model=net")
	s.start(1, 2)
	s.form(1, 2)
	s.check(1, true, 3, 2, 2) // device votes 1 (nodes - 1), expected 2+1
	call := func(f func(c *core, to *conn)) ipc.CS { return lib(s, 1, f) }
	if cs := call(func(c *core, to *conn) { c.qdevicePoll(to, vq.QdevicePollRequest{Name: "dev"}) }); cs != ipc.CSErrNotExist {
		t.Fatalf("poll unregistered: %v", cs)
	}
	if cs := call(func(c *core, to *conn) { c.qdeviceRegister(to, vq.QdeviceRegisterRequest{Name: "dev"}) }); cs != ipc.CSOk {
		t.Fatalf("register: %v", cs)
	}
	if s.nodes[2].c.qdeviceName != "dev" {
		t.Fatal("node 2 did not record the device's name")
	}
	ring := s.nodes[1].c.ring
	if cs := call(func(c *core, to *conn) {
		c.qdevicePoll(to, vq.QdevicePollRequest{Name: "dev", CastVote: true, RingID: vq.RingID{NodeID: 9}})
	}); cs != ipc.CSErrMessage {
		t.Fatalf("poll with an old ring: %v", cs)
	}
	if cs := call(func(c *core, to *conn) {
		c.qdevicePoll(to, vq.QdevicePollRequest{Name: "dev", CastVote: true, RingID: ring})
	}); cs != ipc.CSOk {
		t.Fatalf("poll: %v", cs)
	}
	s.check(1, true, 3, 3, 2)
	if f := s.info(1).Flags; f&(vq.InfoQdeviceRegistered|vq.InfoQdeviceAlive|vq.InfoQdeviceCastVote) != vq.InfoQdeviceRegistered|vq.InfoQdeviceAlive|vq.InfoQdeviceCastVote {
		t.Fatalf("flags %v", f)
	}
	if d := s.nodes[1].fx.timers[timerQdevice]; d != 10*time.Second {
		t.Fatalf("qdevice timer %v", d)
	}
	// The device and node 1 keep quorum when node 2 goes (2 of 3 votes); the sync waits
	// for the device's poll with the new ring id.
	waited := false
	s.waitPoll = func(n *simNode) {
		waited = true
		cl := &simClient{n: n}
		n.c.qdevicePoll(&conn{c: cl}, vq.QdevicePollRequest{Name: "dev", CastVote: true, RingID: n.c.ring})
		if cs, _ := vq.DecodeStatusResponse(cl.resp[0]); cs != ipc.CSOk {
			t.Fatalf("poll during sync: %v", cs)
		}
	}
	s.kill(2)
	if !waited {
		t.Fatal("sync did not wait for the device's poll")
	}
	s.check(1, true, 3, 2, 2)
	if cs := call(func(c *core, to *conn) {
		c.qdeviceMasterWinsReq(to, vq.QdeviceMasterWinsRequest{Name: "dev", Allow: true})
	}); cs != ipc.CSOk {
		t.Fatalf("master wins: %v", cs)
	}
	// The device stops polling: its vote goes.
	s.nodes[1].c.timerFired(timerQdevice)
	s.flush(s.ring)
	s.check(1, false, 3, 1, 2)
	if cs := call(func(c *core, to *conn) { c.qdeviceUpdate(to, vq.QdeviceUpdateRequest{OldName: "dev", NewName: "dev2"}) }); cs != ipc.CSOk || s.nodes[1].c.qdeviceName != "dev2" {
		t.Fatalf("rename: %v %q", cs, s.nodes[1].c.qdeviceName)
	}
	if cs := call(func(c *core, to *conn) { c.qdeviceUnregister(to, vq.QdeviceUnregisterRequest{Name: "dev2"}) }); cs != ipc.CSOk {
		t.Fatalf("unregister: %v", cs)
	}
	if s.info(1).Flags&vq.InfoQdeviceRegistered != 0 || s.nodes[1].c.qdeviceName != "" {
		t.Fatal("still registered")
	}
}

// TestTracking: a tracker gets the node list and quorum at trackstart and on every
// change, and expected votes notifications; trackstop ends it.
func TestTracking(t *testing.T) {
	s := newSim(t, 3, nil)
	s.start(1, 2, 3)
	s.form(1, 2, 3)
	cl := &simClient{n: s.nodes[1]}
	to := &conn{c: cl}
	s.nodes[1].c.trackStart(to, vq.TrackStartRequest{Context: 7, Flags: vq.TrackChanges})
	if len(cl.n.events) != 2 {
		t.Fatalf("initial events %v", cl.n.events)
	}
	s.nodes[1].c.trackStart(to, vq.TrackStartRequest{Flags: vq.TrackChanges})
	if cs, _ := vq.DecodeStatusResponse(cl.resp[1]); cs != ipc.CSErrExist {
		t.Fatalf("second trackstart: %v", cs)
	}
	cl.n.events = nil
	s.kill(3)
	if len(cl.n.events) != 2 { // node list during sync, quorum at activation
		t.Fatalf("events after a kill: %v", cl.n.events)
	}
	cl.n.events = nil
	lib(s, 2, func(c *core, to *conn) { c.setExpected(to, vq.SetExpectedRequest{ExpectedVotes: 2}) })
	if len(cl.n.events) == 0 {
		t.Fatal("no expected votes notification")
	}
	s.nodes[1].c.trackStop(to)
	cl.n.events = nil
	s.kill(2)
	if len(cl.n.events) != 0 {
		t.Fatalf("events after trackstop: %v", cl.n.events)
	}
}

// TestNodeOrder: the node table keeps 3.1.7's insertion quirk, which quorum
// notifications show.
func TestNodeOrder(t *testing.T) {
	for _, tc := range []struct {
		arrivals []uint32
		want     []uint32
	}{
		{[]uint32{1, 2, 3}, []uint32{2, 3, 1}},
		{[]uint32{1, 3, 2}, []uint32{2, 3, 1}},
		{[]uint32{2, 1, 3}, []uint32{1, 3, 2}},
		{[]uint32{3, 1, 2, 4}, []uint32{1, 2, 4, 3}},
		{[]uint32{1, 0x80000001}, []uint32{0x80000001, 1}},
	} {
		c := bareCore(t)
		c.nodes = nil
		for _, id := range tc.arrivals {
			c.allocate(id)
		}
		var got []uint32
		for _, n := range c.nodes {
			got = append(got, n.id)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("arrivals %v: order %v, want %v", tc.arrivals, got, tc.want)
		}
	}
}
