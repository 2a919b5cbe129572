package udp

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is the kernel's struct mmsghdr (x/sys/unix does not export it).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// sockaddr is storage large enough for either family; the kernel reads Namelen bytes.
type sockaddr = unix.RawSockaddrInet6

// putSockaddr encodes a into sa for a socket of the given family and returns its length.
// An IPv6 socket reaches IPv4 peers through v4-mapped addresses.
func putSockaddr(sa *sockaddr, a netip.AddrPort, v6 bool) uint32 {
	port := a.Port()
	if !v6 {
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*s4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Addr().Unmap().As4()}
		p := (*[2]byte)(unsafe.Pointer(&s4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		return unix.SizeofSockaddrInet4
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.Addr().As16()}
	if z := a.Addr().Zone(); z != "" {
		if ifc, err := interfaceIndex(z); err == nil {
			sa.Scope_id = ifc
		}
	}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	return unix.SizeofSockaddrInet6
}

// getSockaddr decodes a source address written by the kernel.
func getSockaddr(sa *sockaddr, n uint32) (netip.AddrPort, bool) {
	switch sa.Family {
	case unix.AF_INET:
		if n < unix.SizeofSockaddrInet4 {
			return netip.AddrPort{}, false
		}
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&s4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(s4.Addr), uint16(p[0])<<8|uint16(p[1])), true
	case unix.AF_INET6:
		if n < unix.SizeofSockaddrInet6 {
			return netip.AddrPort{}, false
		}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1])), true
	}
	return netip.AddrPort{}, false
}

// cmsgHdrBytes and cmsgIntSpace size a control buffer holding one int-valued message.
const (
	cmsgHdrBytes = unix.SizeofCmsghdr
	cmsgIntSpace = cmsgHdrBytes + 8
)

// putSegmentCmsg writes a UDP_SEGMENT control message into b and returns its length.
func putSegmentCmsg(b []byte, segBytes uint16) int {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = unix.SOL_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	*(*uint16)(unsafe.Pointer(&b[cmsgHdrBytes])) = segBytes
	return unix.CmsgSpace(2)
}

// groSegmentBytes finds a UDP_GRO control message in b and returns its segment size, or 0.
// It walks the buffer by hand because unix.ParseSocketControlMessage allocates.
func groSegmentBytes(b []byte) int {
	for len(b) >= cmsgHdrBytes {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		l := int(h.Len)
		if l < cmsgHdrBytes || l > len(b) {
			return 0
		}
		if h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO && l >= cmsgHdrBytes+4 {
			return int(*(*int32)(unsafe.Pointer(&b[cmsgHdrBytes])))
		}
		next := (l + 7) &^ 7
		if next > len(b) {
			return 0
		}
		b = b[next:]
	}
	return 0
}
