package transport

import (
	"slices"
	"testing"
	"time"
)

// TestSetNodesAddsAndRemovesPeers: nodes 1 and 2 start without node 3 in their table and
// take it in at run time; then node 1 drops node 2.
func TestSetNodesAddsAndRemovesPeers(t *testing.T) {
	var full []Node
	c := newCluster(t, 3, 1, func(node int, cfg *Config) {
		full = cfg.Nodes
		if node != 3 {
			cfg.Nodes = cfg.Nodes[:2]
		}
	})
	send := func(from int, data string) {
		t.Helper()
		if err := c.nodes[from-1].Send([]Packet{{To: Broadcast, Data: []byte(data)}}); err != nil {
			t.Fatal(err)
		}
	}
	send(3, "before")
	time.Sleep(50 * time.Millisecond)
	if c.boxes[0].count(3) != 0 || c.boxes[1].count(3) != 0 {
		t.Fatal("a node outside the table was heard")
	}

	// Concurrent sends while the table changes (run with -race).
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = c.nodes[0].Send([]Packet{{To: Broadcast, Data: []byte("noise")}})
			c.nodes[0].Stats()
		}
	}()
	for i := 0; i < 2; i++ {
		added, removed, err := c.nodes[i].SetNodes(full)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(added, []NodeID{3}) || len(removed) != 0 {
			t.Fatalf("node %d: added %v removed %v", i+1, added, removed)
		}
	}
	close(stop)
	<-done
	send(3, "after")
	c.boxes[0].wait(t, 3, 1)
	c.boxes[1].wait(t, 3, 1)

	// The same table again changes nothing; node 2 keeps its session with node 1.
	if added, removed, err := c.nodes[0].SetNodes(full); err != nil || len(added)+len(removed) != 0 {
		t.Fatalf("unchanged table: added %v removed %v err %v", added, removed, err)
	}
	before := c.boxes[0].count(2)
	send(2, "still known")
	waitFor(t, "node 2's packet after an unchanged table", func() bool { return c.boxes[0].count(2) > before })

	added, removed, err := c.nodes[0].SetNodes([]Node{full[0], full[2]})
	if err != nil || len(added) != 0 || !slices.Equal(removed, []NodeID{2}) {
		t.Fatalf("removing node 2: added %v removed %v err %v", added, removed, err)
	}
	before2, before3 := c.boxes[1].count(1), c.boxes[2].count(1)
	send(1, "without 2")
	c.boxes[2].wait(t, 1, before3+1)
	time.Sleep(50 * time.Millisecond)
	if c.boxes[1].count(1) != before2 {
		t.Fatal("node 1 still sends to the removed node 2")
	}
	from2 := c.boxes[0].count(2)
	send(2, "to a node that removed me")
	time.Sleep(50 * time.Millisecond)
	if c.boxes[0].count(2) != from2 {
		t.Fatal("node 1 accepted a packet of the removed node 2")
	}
	for _, ls := range c.nodes[0].Stats().Links {
		if ls.Node == 2 {
			t.Fatal("the removed node 2 still has link stats")
		}
	}
}

func TestSetNodesRefusesBadTables(t *testing.T) {
	c := newCluster(t, 2, 1, nil)
	good := []Node{{ID: 1, Name: "node1"}, {ID: 2, Name: "node2"}}
	good[0].Addrs[0], good[1].Addrs[0] = addrOf(1, 0), addrOf(2, 0)
	moved := slices.Clone(good)
	moved[0].Addrs[0] = addrOf(9, 0)
	for name, nodes := range map[string][]Node{
		"no local node":       good[1:],
		"id listed twice":     {good[0], good[1], good[1]},
		"id 0":                {good[0], {ID: 0, Name: "zero"}},
		"local address moved": moved,
	} {
		if _, _, err := c.nodes[0].SetNodes(nodes); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	send := c.nodes[1].Send([]Packet{{To: 1, Data: []byte("x")}})
	if send != nil {
		t.Fatal(send)
	}
	c.boxes[0].wait(t, 2, 1) // the refused tables left node 2 in place
}
