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
