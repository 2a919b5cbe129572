package totem

import (
	"testing"
	"time"
)

// TestTokenVisitsAverageAsCorosync feeds visits to the record and checks the averages that
// corosync 3.1.7's stats updater would compute from the same array: the oldest visit only
// anchors the first interval, a dropped token with no time passed is skipped, and the ring
// keeps its last 100 entries.
func TestTokenVisitsAverageAsCorosync(t *testing.T) {
	n := &Node{}
	ms := time.Millisecond
	if tt := n.TokenTiming(50 * ms); tt != (TokenTiming{SinceLastToken: 50 * ms}) {
		t.Fatalf("no visits: %+v", tt)
	}
	// Visits every 10 ms, held 2 ms, backlogs 0, 4, 8.
	for i, b := range []int{0, 4, 8} {
		at := time.Duration(i) * 10 * ms
		n.visits.received(at)
		n.visits.backlog(b)
		n.visits.sent(at + 2*ms)
	}
	// The first visit anchors: averages over visits 2 and 3.
	want := TokenTiming{MeanRotation: 10 * ms, MeanHold: 2 * ms, MeanBacklog: 6, SinceLastToken: 7 * ms}
	if tt := n.TokenTiming(27 * ms); tt != want {
		t.Fatalf("three visits: got %+v, want %+v", tt, want)
	}
	// A token dropped in the same millisecond (no tx, no time passed) does not count.
	n.visits.received(20 * ms)
	if tt := n.TokenTiming(27 * ms); tt.MeanRotation != 10*ms || tt.MeanBacklog != 6 {
		t.Fatalf("after a dropped token: %+v", tt)
	}
	// 300 more visits 5 ms apart: only the latest 100 entries (99 intervals) remain.
	for i := range 300 {
		at := 100*ms + time.Duration(i)*5*ms
		n.visits.received(at)
		n.visits.backlog(1)
		n.visits.sent(at)
	}
	if tt := n.TokenTiming(100*ms + 299*5*ms); tt != (TokenTiming{MeanRotation: 5 * ms, MeanBacklog: 1}) {
		t.Fatalf("after wrapping: %+v", tt)
	}
}

// TestTokenTimingFollowsTheRing: on a 3-node ring with 1 ms hops the token comes round every
// 3 ms while there is traffic, and a node's backlog at its visits shows in the average.
func TestTokenTimingFollowsTheRing(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.run(5 * time.Second)
	for i := range 400 {
		if err := tn.nodes[1].Submit([]byte{byte(i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	tn.flush(1)
	// Keep the ring busy so that nobody holds the token.
	for range 100 {
		tn.submit(2, "x", false)
		tn.run(3 * time.Millisecond)
	}
	busy := tn.nodes[1].TokenTiming(tn.now)
	if busy.MeanRotation != 3*time.Millisecond || busy.MeanBacklog == 0 || busy.SinceLastToken > 3*time.Millisecond {
		t.Fatalf("busy ring, node 1: %+v (want 3 ms rotation and a backlog)", busy)
	}
	tn.run(10 * time.Second)
	idle := tn.nodes[2].TokenTiming(tn.now)
	if idle.MeanRotation < tn.nodes[1].cfg.Hold/2 || idle.MeanBacklog != 0 {
		t.Fatalf("idle ring, node 2: %+v (hold %v)", idle, tn.nodes[1].cfg.Hold)
	}
}

// TestTokenLostCountersByState: losing the token in commit or recovery is counted under the
// state it was lost in, consensus timeouts count as lost gather tokens, and the run of
// gather restarts ends when a ring forms.
func TestTokenLostCountersByState(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.run(3 * time.Second)
	pktType := func(p []byte) MsgType { return MsgType(p[3]) }

	// Commit tokens vanish: the representative loses its commit token.
	tn.drop = func(from, to NodeID, p []byte) bool { return pktType(p) == MsgCommit }
	tn.nodes[1].ForceGather()
	tn.flush(1)
	maxGather := uint64(0)
	for range 40 {
		tn.run(100 * time.Millisecond)
		maxGather = max(maxGather, tn.nodes[2].Stats().ContinuousGather)
	}
	if s := tn.nodes[1].Stats(); s.CommitTokenLost == 0 {
		t.Fatalf("commit tokens dropped, node 1: commit_token_lost 0 (%+v)", s)
	}
	if s := tn.nodes[2].Stats(); s.GatherTokenLost == 0 || maxGather == 0 {
		t.Fatalf("no ring forming, node 2: gather_token_lost %d, continuous_gather peaked at %d", s.GatherTokenLost, maxGather)
	}

	// Tokens vanish during recovery.
	tn.drop = func(from, to NodeID, p []byte) bool {
		return pktType(p) == MsgToken && tn.nodes[from].State() == StateRecovery
	}
	tn.run(4 * time.Second)
	lost := uint64(0)
	for _, id := range tn.ids {
		lost += tn.nodes[id].Stats().RecoveryTokenLost
	}
	if lost == 0 {
		t.Fatal("recovery tokens dropped: no node counted recovery_token_lost")
	}

	tn.drop = nil
	tn.run(5 * time.Second)
	for _, id := range tn.ids {
		if s := tn.nodes[id].Stats(); tn.nodes[id].State() != StateOperational || s.ContinuousGather != 0 {
			t.Fatalf("node %d after healing: state %v, continuous_gather %d", id, tn.nodes[id].State(), s.ContinuousGather)
		}
	}
}
