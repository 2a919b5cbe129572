package udp

import (
	"net/netip"
	"testing"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/netns"
)

// TestNetnsGSORefusedTurnsOffForThatPeer: a GSO train whose segments exceed the device MTU
// is refused by the kernel (EINVAL). The link must then turn GSO off for that peer, retry
// one by one, count what still fails, and keep working for that peer.
func TestNetnsGSORefusedTurnsOffForThatPeer(t *testing.T) {
	if ok, why := netns.Available(); !ok {
		t.Skip("skipping network-namespace test: " + why)
	}
	lab := netns.NewLab()
	defer lab.Close()
	for _, n := range []string{"a", "b"} {
		if err := lab.AddNamespace(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := lab.Veth("a", "eth0", "10.89.0.1/24", "b", "eth0", "10.89.0.2/24"); err != nil {
		t.Fatal(err)
	}
	if err := lab.Exec("a", "ip", "link", "set", "eth0", "mtu", "1000"); err != nil {
		t.Fatal(err)
	}
	var a, b *Link
	if err := lab.Do("a", func() (err error) {
		a, err = Open(Config{Local: netip.MustParseAddrPort("10.89.0.1:5405")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := lab.Do("b", func() (err error) {
		b, err = Open(Config{Local: netip.MustParseAddrPort("10.89.0.2:5405")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !a.GSO() {
		t.Skip("kernel without UDP GSO")
	}
	var big []link.Message
	for i := 0; i < 10; i++ {
		big = append(big, link.Message{Buf: payload(i, 1200), Addr: b.LocalAddr()})
	}
	n, err := a.Send(big)
	if n != 0 || err == nil {
		t.Fatalf("Send of datagrams larger than the MTU = %d, %v; want 0 and an error", n, err)
	}
	if _, off := a.noGSO.Load(b.LocalAddr()); !off {
		t.Fatal("GSO still on for a peer whose train the kernel refused")
	}
	if st := a.Stats(); st.TxErrors != 10 {
		t.Fatalf("TxErrors = %d, want each of the 10 datagrams counted", st.TxErrors)
	}
	var small []link.Message
	for i := 0; i < 10; i++ {
		small = append(small, link.Message{Buf: payload(i, 900), Addr: b.LocalAddr()})
	}
	if n, err := a.Send(small); n != 10 || err != nil {
		t.Fatalf("Send after the fallback = %d, %v", n, err)
	}
	if got := receiveAll(t, b, 10); len(got) != 10 {
		t.Fatalf("received %d", len(got))
	}
}
