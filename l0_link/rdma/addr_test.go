package rdma

import (
	"net/netip"
	"testing"
)

func TestGIDFromAddr(t *testing.T) {
	cases := []struct{ addr, gid string }{
		{"10.1.2.3", "::ffff:10.1.2.3"},
		{"::ffff:10.1.2.3", "::ffff:10.1.2.3"},
		{"fd00::7", "fd00::7"},
		{"fe80::1%eth0", "fe80::1"},
	}
	for _, c := range cases {
		a := netip.MustParseAddr(c.addr)
		g := GIDFromAddr(a)
		if g.String() != c.gid {
			t.Errorf("GIDFromAddr(%s) = %s, want %s", c.addr, g, c.gid)
		}
		if g.Addr() != peerKey(a) {
			t.Errorf("GID %s maps back to %s, want %s", g, g.Addr(), peerKey(a))
		}
	}
	if b := GIDFromAddr(netip.MustParseAddr("10.1.2.3")); b[10] != 0xff || b[11] != 0xff || b[12] != 10 || b[15] != 3 {
		t.Errorf("IPv4 GID bytes %x are not IPv4-mapped", b)
	}
}

func TestGRHSource(t *testing.T) {
	v4 := netip.MustParseAddr("192.168.7.9")
	v6 := netip.MustParseAddr("fd00::9")
	dst := GIDFromAddr(netip.MustParseAddr("192.168.7.1"))
	cases := []struct {
		name string
		src  GIDEntry
		want netip.Addr
	}{
		{"RoCEv2 IPv4 header", GIDEntry{GID: GIDFromAddr(v4), Type: GIDTypeRoCEv2}, v4},
		{"RoCEv1 IPv4-mapped GID", GIDEntry{GID: GIDFromAddr(v4), Type: "IB/RoCE v1"}, v4},
		{"IPv6 GID", GIDEntry{GID: GIDFromAddr(v6), Type: GIDTypeRoCEv2}, v6},
	}
	for _, c := range cases {
		grh := make([]byte, GRHBytes)
		writeFakeGRH(grh, c.src, dst, 64, 100)
		if got, ok := grhSource(grh); !ok || got != c.want {
			t.Errorf("%s: grhSource = %s, %v; want %s", c.name, got, ok, c.want)
		}
	}

	// An IPv4 header whose checksum is wrong must not be trusted.
	grh := make([]byte, GRHBytes)
	writeFakeGRH(grh, cases[0].src, dst, 64, 100)
	grh[32]++
	if got, ok := grhSource(grh); ok {
		t.Errorf("grhSource accepted an IPv4 header with a bad checksum: %s", got)
	}
	if _, ok := grhSource(make([]byte, GRHBytes)); ok {
		t.Error("grhSource accepted an all-zero GRH")
	}
	if _, ok := grhSource(make([]byte, GRHBytes-1)); ok {
		t.Error("grhSource accepted a short GRH")
	}
}
