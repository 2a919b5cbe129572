package udp

import (
	"net/netip"
	"testing"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/netns"
)

// TestNetnsMulticast: three namespaces on a bridge join one group; a datagram sent to the
// group reaches every member (the udp transport's multicast mode).
func TestNetnsMulticast(t *testing.T) {
	if ok, why := netns.Available(); !ok {
		t.Skip("skipping network-namespace test: " + why)
	}
	lab := netns.NewLab()
	defer func() {
		if err := lab.Close(); err != nil {
			t.Error(err)
		}
	}()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(lab.AddNamespace("hub"))
	names := []string{"a", "b", "c"}
	var ports []string
	for i, n := range names {
		must(lab.AddNamespace(n))
		must(lab.Veth(n, "eth0", netip.AddrFrom4([4]byte{10, 88, 0, byte(i + 1)}).String()+"/24", "hub", "p"+n, ""))
		ports = append(ports, "p"+n)
	}
	must(lab.Bridge("hub", "br0", ports...))
	group := netip.MustParseAddr("239.192.7.7")
	var links []*Link
	for i, n := range names {
		var l *Link
		must(lab.Do(n, func() (err error) {
			l, err = Open(Config{Local: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 88, 0, byte(i + 1)}), 5405),
				Multicast: group, Interface: "eth0"})
			return err
		}))
		defer l.Close()
		links = append(links, l)
	}
	dst := netip.AddrPortFrom(group, 5405)
	if n, err := links[0].Send([]link.Message{{Buf: []byte("to the group"), Addr: dst}}); n != 1 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	for i, l := range links {
		got := receiveAll(t, l, 1)
		if string(got[0]) != "to the group" {
			t.Fatalf("member %s got %q", names[i], got[0])
		}
	}
	// Unicast still reaches the group-bound socket.
	links[1].Send([]link.Message{{Buf: []byte("direct"), Addr: netip.AddrPortFrom(netip.MustParseAddr("10.88.0.3"), 5405)}})
	if got := receiveAll(t, links[2], 1); string(got[0]) != "direct" {
		t.Fatalf("unicast got %q", got[0])
	}
}

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
