package mem

import (
	"errors"
	"net/netip"
	"testing"

	link "github.com/corosync-go/corosync/l0_link"
)

func TestFaults(t *testing.T) {
	n := NewNetwork(7)
	a, _ := n.Listen(netip.MustParseAddrPort("10.0.0.1:1"))
	b, _ := n.Listen(netip.MustParseAddrPort("10.0.0.2:1"))
	if _, err := n.Listen(a.LocalAddr()); err == nil {
		t.Fatal("address reused")
	}
	send := func(k int) {
		for i := 0; i < k; i++ {
			a.Send([]link.Message{{Buf: []byte{byte(i)}, Addr: b.LocalAddr()}})
		}
	}
	drain := func() int {
		total := 0
		msgs := make([]link.Message, 64)
		for len(b.queue) > 0 {
			k, _ := b.Receive(msgs)
			total += k
		}
		return total
	}
	send(1000)
	if got := drain(); got != 1000 {
		t.Fatalf("clean network delivered %d of 1000", got)
	}
	n.SetLoss(0.5)
	send(1000)
	if got := drain(); got < 350 || got > 650 {
		t.Fatalf("50%% loss delivered %d of 1000", got)
	}
	n.SetLoss(0)
	n.SetDuplication(1)
	send(10)
	if got := drain(); got != 20 {
		t.Fatalf("full duplication delivered %d of 10", got)
	}
	n.SetDuplication(0)
	n.Block(a.LocalAddr().Addr(), b.LocalAddr().Addr())
	send(10)
	if got := drain(); got != 0 {
		t.Fatalf("blocked path delivered %d", got)
	}
	n.Unblock(a.LocalAddr().Addr(), b.LocalAddr().Addr())
	n.SetDown(b.LocalAddr(), true)
	send(10)
	n.SetDown(b.LocalAddr(), false)
	if got := drain(); got != 0 {
		t.Fatalf("down link delivered %d", got)
	}
	n.SetMaxPayload(10)
	if k, err := a.Send([]link.Message{{Buf: make([]byte, 11), Addr: b.LocalAddr()}}); k != 0 || err == nil {
		t.Fatal("oversized datagram accepted")
	}
	b.Close()
	if _, err := b.Receive(make([]link.Message, 1)); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Receive after Close: %v", err)
	}
}
