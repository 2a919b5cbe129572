package udp

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/netns"
	"golang.org/x/sys/unix"
)

// groupLab is n namespaces (a, b, c, ...) on one bridge; member i has address addrs[i] on
// its eth0 (IPv4 10.88.0.i/24 or IPv6 fd00:88::i/64).
type groupLab struct {
	lab   *netns.Lab
	names []string
	addrs []netip.Addr
}

func newGroupLab(t *testing.T, n int, v6 bool) *groupLab {
	t.Helper()
	if ok, why := netns.Available(); !ok {
		t.Skip("skipping network-namespace test: " + why)
	}
	g := &groupLab{lab: netns.NewLab()}
	t.Cleanup(func() {
		if err := g.lab.Close(); err != nil {
			t.Error(err)
		}
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(g.lab.AddNamespace("hub"))
	var ports []string
	for i := 1; i <= n; i++ {
		name := string(rune('a' + i - 1))
		a, cidr := netip.AddrFrom4([4]byte{10, 88, 0, byte(i)}), "/24"
		if v6 {
			a, cidr = netip.MustParseAddr(fmt.Sprintf("fd00:88::%d", i)), "/64"
		}
		g.names, g.addrs = append(g.names, name), append(g.addrs, a)
		must(g.lab.AddNamespace(name))
		must(g.lab.Veth(name, "eth0", a.String()+cidr, "hub", "p"+name, ""))
		ports = append(ports, "p"+name)
	}
	must(g.lab.Bridge("hub", "br0", ports...))
	return g
}

// open opens member i's link (0-based) inside its namespace with cfg, Local filled in.
func (g *groupLab) open(t *testing.T, i int, cfg Config) *Link {
	t.Helper()
	if !cfg.Local.IsValid() {
		cfg.Local = netip.AddrPortFrom(g.addrs[i], 5405)
	}
	var l *Link
	if err := g.lab.Do(g.names[i], func() (err error) { l, err = Open(cfg); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// receiveFrom reads want datagrams and checks that each came from src. Like receiveAll,
// it closes the link after 10 seconds so that a missing datagram cannot hang the test.
func receiveFrom(t *testing.T, l *Link, want int, src netip.Addr) [][]byte {
	t.Helper()
	timer := time.AfterFunc(10*time.Second, func() { l.Close() })
	defer timer.Stop()
	var got [][]byte
	msgs := make([]link.Message, 64)
	for len(got) < want {
		n, err := l.Receive(msgs)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), want, err)
		}
		for _, m := range msgs[:n] {
			if m.Addr.Addr() != src {
				t.Fatalf("datagram from %s, want %s", m.Addr, src)
			}
			got = append(got, append([]byte(nil), m.Buf...))
		}
	}
	return got
}

// TestNetnsGroupSendReachesEveryMember: one datagram to the group, sent once, reaches
// every other member over IPv4 and IPv6; the sender does not get its own copy (loopback
// off, as corosync sets it) and unicast still works on the same socket.
func TestNetnsGroupSendReachesEveryMember(t *testing.T) {
	for _, tc := range []struct {
		name  string
		v6    bool
		group netip.Addr
	}{
		{"ipv4", false, netip.MustParseAddr("239.192.7.7")},
		{"ipv6", true, netip.MustParseAddr("ff15::88")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGroupLab(t, 3, tc.v6)
			var links []*Link
			for i := range g.names {
				links = append(links, g.open(t, i, Config{Multicast: tc.group, MulticastTTL: 3}))
			}
			dst, ok := links[0].Group()
			if !ok || dst != netip.AddrPortFrom(tc.group, 5405) {
				t.Fatalf("Group() = %v, %v", dst, ok)
			}
			// Several sizes, so that equal ones form a GSO train to the group.
			var msgs []link.Message
			for k := 0; k < 20; k++ {
				msgs = append(msgs, link.Message{Buf: payload(k, 1000+(k/10)*200), Addr: dst})
			}
			if n, err := links[0].Send(msgs); n != len(msgs) || err != nil {
				t.Fatalf("Send = %d, %v", n, err)
			}
			if st := links[0].Stats(); st.TxPackets != uint64(len(msgs)) || st.TxBatches > 2 {
				t.Fatalf("TxPackets = %d in %d system calls for %d group datagrams in one batch", st.TxPackets, st.TxBatches, len(msgs))
			}
			for i := 1; i < 3; i++ {
				got := receiveFrom(t, links[i], len(msgs), g.addrs[0])
				for k := range got {
					if !bytes.Equal(got[k], msgs[k].Buf) {
						t.Fatalf("member %s: datagram %d differs", g.names[i], k)
					}
				}
			}
			// A unicast marker from b: a's first datagram must be it, not a copy of its own
			// group sends.
			mark := netip.AddrPortFrom(g.addrs[0], 5405)
			links[1].Send([]link.Message{{Buf: []byte("marker"), Addr: mark}})
			if got := receiveFrom(t, links[0], 1, g.addrs[1]); string(got[0]) != "marker" {
				t.Fatalf("sender's first datagram is %q: its own group send came back", got[0])
			}
			checkHops(t, links[0], tc.v6, 3)
		})
	}
}

func checkHops(t *testing.T, l *Link, v6 bool, want int) {
	t.Helper()
	var got int
	var gerr error
	err := l.raw.Control(func(fd uintptr) {
		if v6 {
			got, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS)
		} else {
			got, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_TTL)
		}
	})
	if err != nil || gerr != nil || got != want {
		t.Fatalf("multicast TTL = %d (%v, %v), want %d", got, err, gerr, want)
	}
}

// TestNetnsGroupLoopbackAndSecondarySource: with MulticastLoopback the sender hears its
// own group send; and a link on a secondary address sends from that address, unicast and
// group alike, although its socket is bound to the wildcard.
func TestNetnsGroupLoopbackAndSecondarySource(t *testing.T) {
	g := newGroupLab(t, 2, false)
	if err := g.lab.Exec("a", "ip", "addr", "add", "10.88.0.101/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	group := netip.MustParseAddr("239.192.9.9")
	secondary := netip.MustParseAddr("10.88.0.101")
	a := g.open(t, 0, Config{Local: netip.AddrPortFrom(secondary, 5405), Multicast: group, MulticastLoopback: true})
	b := g.open(t, 1, Config{Multicast: group})
	dst, _ := a.Group()
	a.Send([]link.Message{{Buf: []byte("group"), Addr: dst}, {Buf: []byte("direct"), Addr: netip.AddrPortFrom(g.addrs[1], 5405)}})
	if got := receiveFrom(t, a, 1, secondary); string(got[0]) != "group" {
		t.Fatalf("looped back %q", got[0])
	}
	got := receiveFrom(t, b, 2, secondary)
	if string(got[0]) != "group" || string(got[1]) != "direct" {
		t.Fatalf("b got %q", got)
	}
	checkHops(t, a, false, 1)
}

// TestNetnsBroadcast: broadcast mode sends to the subnet's broadcast address; one send
// reaches every other node.
func TestNetnsBroadcast(t *testing.T) {
	g := newGroupLab(t, 3, false)
	var links []*Link
	for i := range g.names {
		links = append(links, g.open(t, i, Config{Broadcast: true}))
	}
	dst, ok := links[0].Group()
	if !ok || dst != netip.MustParseAddrPort("10.88.0.255:5405") {
		t.Fatalf("Group() = %v, %v; want the /24's broadcast address", dst, ok)
	}
	if n, err := links[0].Send([]link.Message{{Buf: []byte("to all"), Addr: dst}}); n != 1 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	for i := 1; i < 3; i++ {
		if got := receiveFrom(t, links[i], 1, g.addrs[0]); string(got[0]) != "to all" {
			t.Fatalf("member %s got %q", g.names[i], got[0])
		}
	}
}
