package rdma

import (
	"net/netip"
)

// GID is a 128-bit InfiniBand global identifier. On RoCE it is the interface's IP address
// in IPv6 form.
type GID [16]byte

// GIDFromAddr is the RoCE GID of an IP address: IPv4 a.b.c.d becomes the IPv4-mapped
// ::ffff:a.b.c.d (how RoCE v2 stores IPv4 addresses in the GID table) and IPv6 is used as
// is. The zone is dropped: a GID has none.
func GIDFromAddr(a netip.Addr) GID {
	if a.Is4() {
		return GID(netip.AddrFrom16(a.As16()).As16())
	}
	return GID(a.As16())
}

// Addr is the IP address a RoCE GID stands for, IPv4-mapped GIDs as plain IPv4 so that
// they compare equal to the addresses peers are configured with.
func (g GID) Addr() netip.Addr { return netip.AddrFrom16(g).Unmap() }

// String formats the GID as an IPv6 address, as sysfs and ibv_devinfo do.
func (g GID) String() string { return netip.AddrFrom16(g).String() }

// peerKey normalizes a peer address so that 10.0.0.1, ::ffff:10.0.0.1 and a zoned
// address all find the same peer-table entry.
func peerKey(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

// grhSource reads the sender's address from the global route header that precedes a UD
// receive. Two layouts occur: RoCE v2 over IPv4 leaves the first 20 bytes undefined and
// puts the IPv4 header in the last 20; InfiniBand, RoCE v1 and RoCE v2 over IPv6 put an
// IPv6-format header there, with the source GID at bytes 8..23. The IPv4 form is tried
// first and trusted only with a valid header checksum, because the undefined bytes before
// it may look like an IPv6 header (libibverbs decides the same way).
func grhSource(grh []byte) (netip.Addr, bool) {
	if len(grh) < GRHBytes {
		return netip.Addr{}, false
	}
	if ip := grh[20:40]; ip[0] == 0x45 && ipv4HeaderSum(ip) == 0xffff {
		return netip.AddrFrom4([4]byte(ip[12:16])), true
	}
	if grh[0]>>4 == 6 {
		return GID(grh[8:24]).Addr(), true
	}
	return netip.Addr{}, false
}

// ipv4HeaderSum is the folded one's-complement sum of a 20-byte IPv4 header; a header with
// a correct checksum sums to 0xffff.
func ipv4HeaderSum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}
