package executive

import (
	"context"
	"testing"
	"time"

	evs "github.com/corosync-go/corosync/l3_evs"
)

func TestReconfigureAppliesOnTheRing(t *testing.T) {
	n := &net{nodes: map[evs.NodeID]*Executive{}, cut: map[evs.NodeID]bool{}}
	m := startMember(t, n, 1, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := m.x.TotemConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Token, c.TokenRetransmit, c.Hold, c.Consensus = time.Second, 0, 0, 0
	c.MaxMessages = 40
	// From the ring's own goroutine, as cfg's reload does inside Deliver: must not wait.
	var inLoop error
	if err := m.x.Do(ctx, func() { inLoop = m.x.Reconfigure(c) }); err != nil {
		t.Fatal(err)
	}
	if inLoop != nil {
		t.Fatal(inLoop)
	}
	waitFor(t, "the new token timeout", 5*time.Second, func() bool {
		got, err := m.x.TotemConfig(ctx)
		return err == nil && got.Token == time.Second && got.MaxMessages == 40 && got.Consensus == 1200*time.Millisecond
	})
	bad := c
	bad.Join = 0
	if err := m.x.Reconfigure(bad); err == nil {
		t.Fatal("a zero join interval was accepted")
	}
	var zero evs.TotemConfig
	if err := m.x.Reconfigure(zero); err == nil {
		t.Fatal("an empty configuration was accepted")
	}
}
