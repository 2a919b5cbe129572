package udp

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	link "github.com/corosync-go/corosync/l0_link"
)

func TestGroupConfigErrors(t *testing.T) {
	v4 := netip.MustParseAddrPort("127.0.0.1:0")
	v6 := netip.MustParseAddrPort("[::1]:0")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Local: v4, Multicast: netip.MustParseAddr("10.1.1.1")}, "not a multicast address"},
		{Config{Local: v4, Multicast: netip.MustParseAddr("ff15::1")}, "different families"},
		{Config{Local: v6, Multicast: netip.MustParseAddr("239.1.1.1")}, "different families"},
		{Config{Local: v6, Broadcast: true}, "needs an IPv4 address"},
		{Config{Local: v4, Broadcast: true, Multicast: netip.MustParseAddr("239.1.1.1")}, "exclude each other"},
		{Config{Local: v4, Multicast: netip.MustParseAddr("239.1.1.1"), MulticastTTL: 256}, "TTL"},
	} {
		l, err := Open(tc.cfg)
		if err == nil {
			l.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one mentioning %q", tc.cfg, err, tc.want)
		}
	}
}

// TestLoopbackGroup runs group mode on the loopback interface, as a one-node corosync
// with transport: udp on 127.0.0.1 does: the socket joins, and with loopback on it hears
// its own group sends.
func TestLoopbackGroup(t *testing.T) {
	l, err := Open(Config{Local: netip.MustParseAddrPort("127.0.0.1:0"), Multicast: netip.MustParseAddr("239.192.250.1"), MulticastLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dst, ok := l.Group()
	if !ok || dst.Port() != l.LocalAddr().Port() {
		t.Fatalf("Group() = %v, %v", dst, ok)
	}
	if _, err := l.Send([]link.Message{{Buf: []byte("self"), Addr: dst}}); err != nil {
		t.Fatal(err)
	}
	if got := receiveFrom(t, l, 1, netip.MustParseAddr("127.0.0.1")); string(got[0]) != "self" {
		t.Fatalf("got %q", got[0])
	}
	if u, err := Open(Config{Local: netip.MustParseAddrPort("127.0.0.1:0")}); err != nil {
		t.Fatal(err)
	} else if _, ok := u.Group(); ok {
		t.Error("a unicast link reports a group")
	} else {
		u.Close()
	}
}

func TestSubnetBroadcast(t *testing.T) {
	lo, err := link.InterfaceWith(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Skip("no loopback address here")
	}
	b, err := subnetBroadcast(lo, netip.MustParseAddr("127.0.0.1"))
	if err != nil || b != netip.MustParseAddr("127.255.255.255") {
		t.Fatalf("broadcast of 127.0.0.1/8 = %v, %v", b, err)
	}
	if _, err := subnetBroadcast(lo, netip.MustParseAddr("192.0.2.1")); err == nil {
		t.Error("an address the interface lacks gave a broadcast address")
	}
	if _, err := subnetBroadcast(&net.Interface{Name: "nosuch", Index: 1 << 30}, netip.MustParseAddr("127.0.0.1")); err == nil {
		t.Error("a missing interface gave a broadcast address")
	}
}
