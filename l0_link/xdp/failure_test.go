package xdp

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

// TestOpenBusy checks that a second link on an interface that already has a program is
// refused with ErrUnavailable rather than replacing the first one's program.
func TestOpenBusy(t *testing.T) {
	lab := newLab(t)
	must(t, lab.AddNamespace("a"))
	must(t, lab.AddNamespace("b"))
	must(t, lab.Veth("a", "xa", "10.77.0.1/24", "b", "xb", "10.77.0.2/24"))
	cfg := Config{Interface: "xa", Local: netip.MustParseAddrPort("10.77.0.1:5405"), RxFrames: 64, TxFrames: 64}
	openIn(t, lab, "a", cfg)
	cfg.Local = netip.MustParseAddrPort("10.77.0.1:5406")
	err := lab.Do("a", func() error {
		l, err := Open(cfg)
		if err == nil {
			l.Close()
		}
		return err
	})
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("second Open: %v", err)
	}
	t.Log(err)
}

// TestInterfaceGone deletes the interface under an open link: Receive must end with an
// error instead of sleeping forever, Send must fail instead of panicking, and Close must
// still release everything.
func TestInterfaceGone(t *testing.T) {
	lab := newLab(t)
	must(t, lab.AddNamespace("a"))
	must(t, lab.AddNamespace("b"))
	must(t, lab.Veth("a", "xa", "10.77.0.1/24", "b", "xb", "10.77.0.2/24"))
	cfg := Config{Interface: "xa", Local: netip.MustParseAddrPort("10.77.0.1:5405"), RxFrames: 64, TxFrames: 64}
	la := openIn(t, lab, "a", cfg)
	cfg.Interface, cfg.Local = "xb", netip.MustParseAddrPort("10.77.0.2:5405")
	lb := openIn(t, lab, "b", cfg)
	watchdog(t, 10*time.Second, la, lb)
	na, nb := startNode(la), startNode(lb)
	exchange(t, []*node{na, nb}, 0, 8)
	exchange(t, []*node{na, nb}, 8, 8)

	// Down, not yet gone: the next hop is still cached, so this goes to the TX ring and
	// the kernel refuses the kick.
	must(t, lab.Exec("a", "ip", "link", "set", "xa", "down"))
	if _, err := la.Send([]link.Message{{Buf: []byte("x"), Addr: lb.LocalAddr()}}); err == nil {
		t.Error("Send on a downed interface succeeded")
	} else {
		t.Logf("Send while down: %v", err)
	}
	must(t, lab.Exec("a", "ip", "link", "del", "xa"))
	select {
	case err := <-na.done:
		if err == nil || errors.Is(err, link.ErrClosed) {
			t.Fatalf("Receive ended with %v, want an error about the interface", err)
		}
		t.Logf("Receive: %v", err)
	case <-time.After(3 * time.Second):
		t.Fatal("Receive still blocked 3 s after the interface was deleted")
	}
	peer := []link.Message{{Buf: []byte("x"), Addr: netip.MustParseAddrPort("10.77.0.2:5405")}}
	if _, err := la.Send(peer); err == nil {
		t.Error("Send on a deleted interface succeeded")
	} else {
		t.Logf("Send: %v", err)
	}
	if err := la.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
