package evscheck

import (
	"strings"
	"testing"

	totem "github.com/corosync-go/corosync/l2_totem"
)

var (
	r1 = totem.RingID{Rep: 1, Seq: 4}
	r2 = totem.RingID{Rep: 1, Seq: 8}
	p1 = Proc{Node: 1, Inc: 1}
	p2 = Proc{Node: 2, Inc: 1}
	p3 = Proc{Node: 3, Inc: 1}
)

func reg(ring totem.RingID, m ...totem.NodeID) totem.Configuration {
	return totem.Configuration{Ring: ring, Members: m}
}

func trans(ring totem.RingID, m ...totem.NodeID) totem.Configuration {
	return totem.Configuration{Transitional: true, Ring: ring, Members: m}
}

// world builds a checker with three processes in regular configuration r1.
func world(t *testing.T) *Checker {
	c := New()
	for _, p := range []Proc{p1, p2, p3} {
		c.Started(p)
		must(t, c.Config(p, trans(r1, p.Node)))
		must(t, c.Config(p, reg(r1, 1, 2, 3)))
	}
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func want(t *testing.T, err error, property string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), property) {
		t.Fatalf("want a %q violation, got %v", property, err)
	}
}

func id(n totem.NodeID, c uint64) MsgID { return MsgID{Node: n, Inc: 1, Counter: c} }

func TestCleanRunPasses(t *testing.T) {
	c := world(t)
	c.Submitted(p1, id(1, 1), false, 11)
	c.Submitted(p2, id(2, 1), true, 21)
	c.SetHasFrame(func(totem.NodeID, totem.RingID, uint64) (bool, bool) { return true, true })
	for _, p := range []Proc{p1, p2, p3} {
		must(t, c.Message(p, id(1, 1), false, 11, r1, 1))
	}
	// Node 3 fails; 1 and 2 deliver 2's safe message in the transitional configuration.
	c.Crashed(p3)
	for _, p := range []Proc{p1, p2} {
		must(t, c.Config(p, trans(r2, 1, 2)))
		must(t, c.Message(p, id(2, 1), true, 21, r1, 2))
		must(t, c.Config(p, reg(r2, 1, 2)))
	}
	if errs := c.Final([]Proc{p1, p2}); len(errs) != 0 {
		t.Fatal(errs)
	}
}

func TestViolations(t *testing.T) {
	t.Run("invention", func(t *testing.T) {
		c := world(t)
		want(t, c.Message(p1, id(9, 9), false, 0, r1, 1), "no invention")
		c.Submitted(p2, id(2, 1), false, 5)
		want(t, c.Message(p1, id(2, 1), false, 6, r1, 1), "no invention")
	})
	t.Run("duplicate", func(t *testing.T) {
		c := world(t)
		c.Submitted(p2, id(2, 1), false, 5)
		must(t, c.Message(p1, id(2, 1), false, 5, r1, 1))
		want(t, c.Message(p1, id(2, 1), false, 5, r1, 1), "no duplicates")
	})
	t.Run("fifo", func(t *testing.T) {
		c := world(t)
		c.Submitted(p2, id(2, 1), false, 5)
		c.Submitted(p2, id(2, 2), false, 6)
		must(t, c.Message(p1, id(2, 2), false, 6, r1, 1))
		want(t, c.Message(p1, id(2, 1), false, 5, r1, 2), "FIFO")
	})
	t.Run("total order", func(t *testing.T) {
		c := world(t)
		c.Submitted(p2, id(2, 1), false, 5)
		c.Submitted(p3, id(3, 1), false, 6)
		must(t, c.Message(p1, id(2, 1), false, 5, r1, 1))
		want(t, c.Message(p2, id(3, 1), false, 6, r1, 2), "total order")
	})
	t.Run("ring order", func(t *testing.T) {
		c := world(t)
		c.Submitted(p2, id(2, 1), false, 5)
		c.Submitted(p3, id(3, 1), false, 6)
		must(t, c.Message(p1, id(2, 1), false, 5, r1, 7))
		want(t, c.Message(p1, id(3, 1), false, 6, r1, 3), "total order")
	})
	t.Run("alternation", func(t *testing.T) {
		c := world(t)
		want(t, c.Config(p1, reg(r2, 1, 2, 3)), "configuration order")
		c = world(t)
		must(t, c.Config(p1, trans(r2, 1)))
		want(t, c.Config(p1, trans(r2, 1)), "configuration order")
	})
	t.Run("transitional members", func(t *testing.T) {
		c := world(t)
		want(t, c.Config(p1, trans(r2, 1, 4)), "configuration order")
		c = world(t)
		want(t, c.Config(p1, trans(r2, 2, 3)), "without itself")
	})
	t.Run("ring ids increase", func(t *testing.T) {
		c := world(t)
		must(t, c.Config(p1, trans(totem.RingID{Rep: 1, Seq: 2}, 1)))
		want(t, c.Config(p1, reg(totem.RingID{Rep: 1, Seq: 2}, 1)), "ring ids increase")
	})
	t.Run("delivery after leave", func(t *testing.T) {
		c := world(t)
		c.Submitted(p3, id(3, 1), false, 5)
		must(t, c.Config(p1, trans(r2, 1, 2)))
		must(t, c.Config(p1, reg(r2, 1, 2)))
		want(t, c.Message(p1, id(3, 1), false, 5, r1, 9), "delivery context")
	})
	t.Run("same set", func(t *testing.T) {
		c := world(t)
		c.Submitted(p3, id(3, 1), false, 5)
		must(t, c.Message(p1, id(3, 1), false, 5, r1, 1))
		must(t, c.Config(p1, trans(r2, 1, 2)))
		want(t, c.Config(p2, trans(r2, 1, 2)), "same set")
	})
	t.Run("safe", func(t *testing.T) {
		c := world(t)
		c.SetHasFrame(func(q totem.NodeID, _ totem.RingID, _ uint64) (bool, bool) { return q != 3, true })
		c.Submitted(p2, id(2, 1), true, 5)
		want(t, c.Message(p1, id(2, 1), true, 5, r1, 1), "safe delivery")
	})
	t.Run("final self delivery", func(t *testing.T) {
		c := world(t)
		c.Submitted(p1, id(1, 1), false, 5)
		want(t, first(c.Final([]Proc{p1, p2, p3})), "self delivery")
	})
	t.Run("final agreement", func(t *testing.T) {
		c := world(t)
		c.Submitted(p3, id(3, 1), false, 5)
		must(t, c.Message(p3, id(3, 1), false, 5, r1, 1))
		must(t, c.Message(p1, id(3, 1), false, 5, r1, 1))
		want(t, first(c.Final([]Proc{p1, p2, p3})), "final agreement")
	})
	t.Run("final safe", func(t *testing.T) {
		c := world(t)
		c.SetHasFrame(func(totem.NodeID, totem.RingID, uint64) (bool, bool) { return true, true })
		c.Submitted(p2, id(2, 1), true, 5)
		must(t, c.Message(p1, id(2, 1), true, 5, r1, 1))
		must(t, c.Message(p2, id(2, 1), true, 5, r1, 1))
		errs := c.Final([]Proc{p1, p2, p3})
		found := false
		for _, e := range errs {
			found = found || strings.Contains(e.Error(), "never delivered it")
		}
		if !found {
			t.Fatalf("safe message missing at node 3 not reported: %v", errs)
		}
	})
}

func first(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}
