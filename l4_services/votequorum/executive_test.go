package votequorum

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	vq "github.com/corosync-go/corosync/ipc/votequorum"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/executive"
)

// xnet is an in-memory network between executives; nodes in different groups do not
// hear each other (a partition), and group -1 is a dead node.
type xnet struct {
	mu    sync.Mutex
	nodes map[evs.NodeID]*executive.Executive
	group map[evs.NodeID]int
}

func (n *xnet) send(from evs.NodeID) func([]evs.Packet) error {
	return func(pkts []evs.Packet) error {
		n.mu.Lock()
		defer n.mu.Unlock()
		g := n.group[from]
		if g < 0 {
			return nil
		}
		for _, p := range pkts {
			for id, x := range n.nodes {
				if id == from || n.group[id] != g || (p.To != evs.Broadcast && p.To != id) {
					continue
				}
				x.Receive(from, p.Data)
			}
		}
		return nil
	}
}

func (n *xnet) partition(groups ...[]evs.NodeID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for g, ids := range groups {
		for _, id := range ids {
			n.group[id] = g
		}
	}
}

type xmember struct {
	e      *Engine
	x      *executive.Executive
	cancel context.CancelFunc
	done   chan struct{}
}

type xcluster struct {
	t    *testing.T
	net  *xnet
	size int
	kv   []string
	dir  string
	m    map[evs.NodeID]*xmember
}

func newXCluster(t *testing.T, size int, kv ...string) *xcluster {
	return &xcluster{t: t, net: &xnet{nodes: map[evs.NodeID]*executive.Executive{}, group: map[evs.NodeID]int{}},
		size: size, kv: kv, dir: t.TempDir(), m: map[evs.NodeID]*xmember{}}
}

// start runs node id (again).
func (c *xcluster) start(id evs.NodeID) *xmember {
	t := c.t
	t.Helper()
	tc := evs.DefaultTotemConfig(id, 200*time.Millisecond)
	tc.NodelistSize = c.size
	tc.TokenRetransmit, tc.Hold, tc.Consensus = 0, 0, 0
	tc.Incarnation = uint32(time.Now().UnixNano())
	e := New(Config{NodeID: uint32(id), Map: conf(t, c.size, uint32(id), nil, c.kv...), StateDir: c.dir, Log: quiet})
	x, err := executive.New(executive.Config{Totem: tc, Send: c.net.send(id), Log: quiet}, e)
	if err != nil {
		t.Fatal(err)
	}
	e.Bind(x.Endpoint(ServiceID))
	if err := e.Init(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	m := &xmember{e: e, x: x, cancel: cancel, done: make(chan struct{})}
	c.net.mu.Lock()
	c.net.nodes[id] = x
	c.net.group[id] = 0
	c.net.mu.Unlock()
	go func() { x.Run(ctx); close(m.done) }()
	t.Cleanup(func() { cancel(); <-m.done })
	c.m[id] = m
	return m
}

// kill stops node id without a word.
func (c *xcluster) kill(id evs.NodeID) {
	c.net.mu.Lock()
	c.net.group[id] = -1
	delete(c.net.nodes, id)
	c.net.mu.Unlock()
	c.m[id].cancel()
	<-c.m[id].done
}

// wait waits until node id's GETINFO shows quorate, expected votes and total votes.
func (c *xcluster) wait(id evs.NodeID, quorate bool, expected, total uint32) {
	c.t.Helper()
	var i vq.Info
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		i, _ = c.m[id].e.Info(0)
		if i.Flags&vq.InfoQuorate != 0 == quorate && i.ExpectedVotes == expected && i.TotalVotes == total {
			return
		}
	}
	c.t.Fatalf("node %d: %+v; want quorate %v expected %d total %d", id, i, quorate, expected, total)
}

func ids(n int) []evs.NodeID {
	var out []evs.NodeID
	for i := 1; i <= n; i++ {
		out = append(out, evs.NodeID(i))
	}
	return out
}

// TestExecutiveScenarios runs votequorum's features on real rings: executives over an
// in-memory network, with kills, restarts and partitions.
func TestExecutiveScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("rings take seconds to form")
	}
	t.Run("kill and restart", func(t *testing.T) {
		c := newXCluster(t, 3)
		for _, id := range ids(3) {
			c.start(id)
		}
		c.wait(1, true, 3, 3)
		c.kill(3)
		c.wait(1, true, 3, 2)
		c.kill(2)
		c.wait(1, false, 3, 1)
		c.start(2)
		c.wait(1, true, 3, 2)
		c.wait(2, true, 3, 2)
	})
	t.Run("two_node", func(t *testing.T) {
		c := newXCluster(t, 2, "quorum.two_node=1")
		c.start(1)
		time.Sleep(time.Second)
		c.wait(1, false, 2, 1) // waits for all
		c.start(2)
		c.wait(1, true, 2, 2)
		c.kill(2)
		c.wait(1, true, 2, 1)
	})
	t.Run("wait_for_all", func(t *testing.T) {
		c := newXCluster(t, 3, "quorum.wait_for_all=1")
		c.start(1)
		c.start(2)
		time.Sleep(time.Second)
		c.wait(1, false, 3, 2)
		c.start(3)
		c.wait(1, true, 3, 3)
		c.kill(3)
		c.wait(2, true, 3, 2)
	})
	t.Run("last_man_standing", func(t *testing.T) {
		c := newXCluster(t, 4, "quorum.last_man_standing=1", "quorum.last_man_standing_window=500")
		for _, id := range ids(4) {
			c.start(id)
		}
		c.wait(1, true, 4, 4)
		c.kill(4)
		c.wait(1, true, 3, 3) // after the window
		c.kill(3)
		c.wait(1, true, 2, 2)
		c.kill(2)
		c.wait(1, false, 2, 1)
	})
	for _, tc := range []struct {
		name   string
		kv     []string
		winner evs.NodeID
		loser  evs.NodeID
	}{
		{"auto_tie_breaker lowest", []string{"quorum.auto_tie_breaker=1"}, 1, 3},
		{"auto_tie_breaker highest", []string{"quorum.auto_tie_breaker=1", "quorum.auto_tie_breaker_node=highest"}, 3, 1},
		{"auto_tie_breaker list", []string{"quorum.auto_tie_breaker=1", "quorum.auto_tie_breaker_node=4 1"}, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newXCluster(t, 4, tc.kv...)
			for _, id := range ids(4) {
				c.start(id)
			}
			c.wait(1, true, 4, 4)
			c.net.partition([]evs.NodeID{1, 2}, []evs.NodeID{3, 4})
			c.wait(tc.winner, true, 4, 2)
			c.wait(tc.loser, false, 4, 2)
		})
	}
	t.Run("setexpected and setvotes", func(t *testing.T) {
		c := newXCluster(t, 3)
		for _, id := range ids(3) {
			c.start(id)
		}
		c.wait(3, true, 3, 3)
		lib := func(id evs.NodeID, req []byte, reqID int32) ipc.CS {
			cl := &recorder{}
			e := c.m[id].e
			e.mu.Lock()
			e.core.request(&conn{c: cl}, reqID, req)
			e.mu.Unlock()
			cs, err := vq.DecodeStatusResponse(cl.last)
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}
		if cs := lib(1, vq.SetExpectedRequest{ExpectedVotes: 5}.Encode(), vq.ReqSetExpected); cs != ipc.CSOk {
			t.Fatal(cs)
		}
		c.wait(3, true, 5, 3)
		if cs := lib(2, vq.SetVotesRequest{NodeID: 3, Votes: 2}.Encode(), vq.ReqSetVotes); cs != ipc.CSOk {
			t.Fatal(cs)
		}
		c.wait(1, true, 5, 4)
		if i, _ := c.m[1].e.Info(3); i.Votes != 2 {
			t.Fatalf("node 3 seen with %d votes", i.Votes)
		}
		// A reload of quorum.expected_votes on one node reaches all.
		c.m[2].e.cfg.Map.Set("quorum.expected_votes", cmap.Uint32(6))
		c.wait(3, true, 6, 4)
		if got := fmt.Sprint(c.m[3].e.cfg.Map.Get("runtime.votequorum.ev_barrier")); got != "6 <nil>" {
			t.Fatalf("ev_barrier %s", got)
		}
	})
}
