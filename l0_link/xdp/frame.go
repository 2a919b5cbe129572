package xdp

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Header sizes and numbers shared by the XDP program, the frame builder and the parser.
const (
	ethHeaderLen  = 14
	vlanTagLen    = 4
	ipv4HeaderLen = 20
	ipv6HeaderLen = 40
	udpHeaderLen  = 8
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86DD
	etherTypeVLAN = 0x8100
	protoUDP      = 17
	// hopLimit is what Linux uses by default for both families.
	hopLimit = 64
	// ipv4DontFragment is set on every frame: it never exceeds the interface MTU, and a
	// router that would fragment it should instead tell the sender (as the UDP link asks
	// the kernel to do with IP_PMTUDISC_PROBE).
	ipv4DontFragment = 0x4000
)

// Why parseFrame refused a frame. They are values, not formatted errors, so the receive
// path does not allocate.
var (
	errTruncated   = errors.New("frame shorter than its headers say")
	errNotIP       = errors.New("not IPv4 or IPv6")
	errBadIPHeader = errors.New("malformed IP header")
	errIPChecksum  = errors.New("bad IPv4 header checksum")
	errFragment    = errors.New("IP fragment")
	errNotUDP      = errors.New("not UDP")
	errBadUDP      = errors.New("malformed UDP header")
	errUDPChecksum = errors.New("bad UDP checksum")
)

// mac is an Ethernet address.
type mac [6]byte

// flow is everything frames from this link to one destination have in common.
type flow struct {
	srcMAC, dstMAC mac
	src, dst       netip.AddrPort
	tos            uint8 // DSCP << 2
	v6             bool
	// pseudo is the unfolded one's-complement sum of the fixed part of the UDP pseudo
	// header (both addresses and the protocol) and both ports, so a frame's checksum only
	// adds its length and payload.
	pseudo uint64
}

func newFlow(srcMAC, dstMAC mac, src, dst netip.AddrPort, dscp uint8) flow {
	f := flow{srcMAC: srcMAC, dstMAC: dstMAC, src: src, dst: dst, tos: dscp << 2, v6: src.Addr().Is6()}
	var fixed [2*16 + 6]byte
	n := copy(fixed[:], src.Addr().AsSlice())
	n += copy(fixed[n:], dst.Addr().AsSlice())
	binary.BigEndian.PutUint16(fixed[n:], protoUDP)
	binary.BigEndian.PutUint16(fixed[n+2:], src.Port())
	binary.BigEndian.PutUint16(fixed[n+4:], dst.Port())
	f.pseudo = onesSum(0, fixed[:n+6])
	return f
}

// headerLen is the size of the Ethernet, IP and UDP headers of f's frames.
func (f *flow) headerLen() int { return headerLen(f.v6) }

func headerLen(v6 bool) int {
	if v6 {
		return ethHeaderLen + ipv6HeaderLen + udpHeaderLen
	}
	return ethHeaderLen + ipv4HeaderLen + udpHeaderLen
}

// buildFrame writes a complete frame carrying payload into buf, which must hold
// f.headerLen()+len(payload) bytes and must not overlap payload, and returns the frame's
// length. id is the IPv4 identification (ignored for IPv6).
func buildFrame(buf []byte, f *flow, payload []byte, id uint16) int {
	hl := f.headerLen()
	total := hl + len(payload)
	buf = buf[:total]
	copy(buf[0:6], f.dstMAC[:])
	copy(buf[6:12], f.srcMAC[:])
	udpLen := udpHeaderLen + len(payload)
	var udp []byte
	if f.v6 {
		binary.BigEndian.PutUint16(buf[12:], etherTypeIPv6)
		ip := buf[ethHeaderLen : ethHeaderLen+ipv6HeaderLen]
		binary.BigEndian.PutUint32(ip[0:], 6<<28|uint32(f.tos)<<20)
		binary.BigEndian.PutUint16(ip[4:], uint16(udpLen))
		ip[6] = protoUDP
		ip[7] = hopLimit
		src, dst := f.src.Addr().As16(), f.dst.Addr().As16()
		copy(ip[8:24], src[:])
		copy(ip[24:40], dst[:])
		udp = buf[ethHeaderLen+ipv6HeaderLen : total]
	} else {
		binary.BigEndian.PutUint16(buf[12:], etherTypeIPv4)
		ip := buf[ethHeaderLen : ethHeaderLen+ipv4HeaderLen]
		ip[0] = 4<<4 | ipv4HeaderLen/4
		ip[1] = f.tos
		binary.BigEndian.PutUint16(ip[2:], uint16(ipv4HeaderLen+udpLen))
		binary.BigEndian.PutUint16(ip[4:], id)
		binary.BigEndian.PutUint16(ip[6:], ipv4DontFragment)
		ip[8] = hopLimit
		ip[9] = protoUDP
		ip[10], ip[11] = 0, 0
		src, dst := f.src.Addr().As4(), f.dst.Addr().As4()
		copy(ip[12:16], src[:])
		copy(ip[16:20], dst[:])
		binary.BigEndian.PutUint16(ip[10:], checksum(ip))
		udp = buf[ethHeaderLen+ipv4HeaderLen : total]
	}
	binary.BigEndian.PutUint16(udp[0:], f.src.Port())
	binary.BigEndian.PutUint16(udp[2:], f.dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
	udp[6], udp[7] = 0, 0
	copy(udp[udpHeaderLen:], payload)
	// The length counts twice: once in the pseudo header, once in the UDP header.
	sum := ^fold(onesSum(addCarry(f.pseudo, 2*uint64(udpLen)), udp[udpHeaderLen:]))
	if sum == 0 {
		sum = 0xffff // zero means "no checksum" on the wire (RFC 768)
	}
	binary.BigEndian.PutUint16(udp[6:], sum)
	return total
}

// datagram is what parseFrame finds in a frame: a view of the UDP payload and both ends.
type datagram struct {
	src, dst netip.AddrPort
	payload  []byte
}

// parseFrame extracts the UDP datagram from an Ethernet frame: one optional 802.1Q tag,
// IPv4 (with options) or IPv6 (without extension headers), then UDP. It checks every
// length against the frame (trailing Ethernet padding is ignored), the IPv4 header
// checksum and the UDP checksum (optional for IPv4, mandatory for IPv6). The payload is a
// view of frame.
func parseFrame(frame []byte) (datagram, error) {
	var d datagram
	if len(frame) < ethHeaderLen {
		return d, errTruncated
	}
	etherType := binary.BigEndian.Uint16(frame[12:])
	l3 := frame[ethHeaderLen:]
	if etherType == etherTypeVLAN {
		if len(l3) < vlanTagLen {
			return d, errTruncated
		}
		etherType = binary.BigEndian.Uint16(l3[2:])
		l3 = l3[vlanTagLen:]
	}
	var udp []byte
	var pseudo uint64
	switch etherType {
	case etherTypeIPv4:
		if len(l3) < ipv4HeaderLen {
			return d, errTruncated
		}
		ihl := int(l3[0]&0x0f) * 4
		if l3[0]>>4 != 4 || ihl < ipv4HeaderLen {
			return d, errBadIPHeader
		}
		total := int(binary.BigEndian.Uint16(l3[2:]))
		if total < ihl {
			return d, errBadIPHeader
		}
		if total > len(l3) {
			return d, errTruncated
		}
		if fold(onesSum(0, l3[:ihl])) != 0xffff {
			return d, errIPChecksum
		}
		if binary.BigEndian.Uint16(l3[6:])&0x3fff != 0 {
			return d, errFragment
		}
		if l3[9] != protoUDP {
			return d, errNotUDP
		}
		src, dst := netip.AddrFrom4([4]byte(l3[12:16])), netip.AddrFrom4([4]byte(l3[16:20]))
		d.src, d.dst = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0)
		pseudo = onesSum(0, l3[12:20])
		udp = l3[ihl:total]
	case etherTypeIPv6:
		if len(l3) < ipv6HeaderLen {
			return d, errTruncated
		}
		if l3[0]>>4 != 6 {
			return d, errBadIPHeader
		}
		if l3[6] != protoUDP {
			return d, errNotUDP
		}
		plen := int(binary.BigEndian.Uint16(l3[4:]))
		if ipv6HeaderLen+plen > len(l3) {
			return d, errTruncated
		}
		src, dst := netip.AddrFrom16([16]byte(l3[8:24])), netip.AddrFrom16([16]byte(l3[24:40]))
		d.src, d.dst = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0)
		pseudo = onesSum(0, l3[8:40])
		udp = l3[ipv6HeaderLen : ipv6HeaderLen+plen]
	default:
		return d, errNotIP
	}
	if len(udp) < udpHeaderLen {
		return d, errBadUDP
	}
	udpLen := int(binary.BigEndian.Uint16(udp[4:]))
	if udpLen < udpHeaderLen || udpLen > len(udp) {
		return d, errBadUDP
	}
	udp = udp[:udpLen]
	pseudo = addCarry(pseudo, protoUDP+uint64(udpLen))
	switch wire := binary.BigEndian.Uint16(udp[6:]); {
	case wire == 0 && d.src.Addr().Is4():
		// The sender did not compute one, which IPv4 allows.
	case wire == 0:
		return d, errUDPChecksum
	case fold(onesSum(pseudo, udp)) == 0xffff:
	case wire == fold(pseudo):
		// Checksum offload left undone: a kernel sending through a device that offloads
		// checksums writes only the pseudo-header sum here, and virtual devices (veth
		// between namespaces or containers, e.g. a peer's slow path) pass the frame on
		// without completing it. Linux accepts such packets on receive for the same
		// reason: they never crossed a wire.
	default:
		return d, errUDPChecksum
	}
	d.src = netip.AddrPortFrom(d.src.Addr(), binary.BigEndian.Uint16(udp[0:]))
	d.dst = netip.AddrPortFrom(d.dst.Addr(), binary.BigEndian.Uint16(udp[2:]))
	d.payload = udp[udpHeaderLen:]
	return d, nil
}
