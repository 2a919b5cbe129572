package totem

import (
	"slices"
	"testing"
	"time"
)

// TestReconfigureTokenTimeout: after the survivors raise their token timeout at run time, a
// crash is detected at the new timeout, not the old one.
func TestReconfigureTokenTimeout(t *testing.T) {
	tn := newTestNet(t, 4)
	tn.run(5 * time.Second)
	for _, id := range tn.ids {
		c := tn.nodes[id].Config()
		c.Token = 4 * time.Second
		c.TokenRetransmit, c.Hold, c.Consensus = 0, 0, 0 // derived again from the new token
		if err := tn.nodes[id].Reconfigure(c); err != nil {
			t.Fatal(err)
		}
		if got := tn.nodes[id].Config().Consensus; got != 4800*time.Millisecond {
			t.Fatalf("consensus %v after reconfigure, want 4.8s", got)
		}
	}
	tn.run(2 * time.Second) // timers armed before the change keep their deadlines
	tn.down[2] = true
	// With the old token (1 s) the loss plus the new consensus (4.8 s) would have formed a
	// new ring by now; with the new one it comes at about 8.8 s.
	tn.run(6500 * time.Millisecond)
	if c, _ := lastRegular(tn.log[1]); !slices.Contains(c.Members, 2) {
		t.Fatalf("node 1 reconfigured after 6.5 s with a 4 s token and 4.8 s consensus: %v", c.Members)
	}
	tn.run(4 * time.Second)
	for _, id := range []NodeID{1, 3, 4} {
		if c, _ := lastRegular(tn.log[id]); !slices.Equal(c.Members, []NodeID{1, 3, 4}) {
			t.Fatalf("node %d sees %v after the 4 s token timed out", id, c.Members)
		}
	}
}

func TestReconfigureRefusesStructuralChanges(t *testing.T) {
	n, err := NewNode(testConfig(1), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Config){
		"nodeid":       func(c *Config) { c.NodeID = 2 },
		"frame size":   func(c *Config) { c.FrameBytesMax = 9000 },
		"pending":      func(c *Config) { c.PendingFramesMax = 1 },
		"window":       func(c *Config) { c.WindowFramesMax = 2048 },
		"invalid join": func(c *Config) { c.Join = 0 },
	} {
		c := n.Config()
		change(&c)
		if err := n.Reconfigure(c); err == nil {
			t.Errorf("%s: change accepted", name)
		}
	}
	if n.Config().Join != DefaultJoin || n.Config().NodeID != 1 {
		t.Fatal("a refused reconfiguration changed the node")
	}
	c := n.Config()
	c.Incarnation++
	c.WindowSize, c.MaxMessages = 100, 30
	if err := n.Reconfigure(c); err != nil {
		t.Fatal(err)
	}
	if got := n.Config(); got.WindowSize != 100 || got.MaxMessages != 30 || got.Incarnation != testConfig(1).Incarnation {
		t.Fatalf("after reconfigure: window %d max %d incarnation %d", got.WindowSize, got.MaxMessages, got.Incarnation)
	}
}

func TestForceGatherReformsTheRing(t *testing.T) {
	tn := newTestNet(t, 3)
	tn.run(3 * time.Second)
	before, _ := lastRegular(tn.log[2])
	tn.nodes[1].ForceGather()
	tn.flush(1)
	tn.run(3 * time.Second)
	for _, id := range tn.ids {
		c, _ := lastRegular(tn.log[id])
		if c.Ring == before.Ring || !slices.Equal(c.Members, []NodeID{1, 2, 3}) {
			t.Fatalf("node %d: ring %v members %v after a forced gather (before: %v)", id, c.Ring, c.Members, before.Ring)
		}
	}
}
