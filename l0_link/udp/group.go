package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	link "github.com/corosync-go/corosync/l0_link"
	"golang.org/x/sys/unix"
)

// groupMode reports whether the link sends to and hears a group or broadcast address.
func groupMode(cfg Config) bool { return cfg.Multicast.IsValid() || cfg.Broadcast }

func checkGroupConfig(cfg Config, v6 bool) error {
	switch {
	case cfg.Broadcast && cfg.Multicast.IsValid():
		return errors.New("udp: Broadcast and Multicast exclude each other")
	case cfg.Broadcast && v6:
		return fmt.Errorf("udp: broadcast needs an IPv4 address, have %s", cfg.Local.Addr())
	case cfg.Multicast.IsValid() && !cfg.Multicast.IsMulticast():
		return fmt.Errorf("udp: %s is not a multicast address", cfg.Multicast)
	case cfg.Multicast.IsValid() && cfg.Multicast.Is6() != v6:
		return fmt.Errorf("udp: multicast address %s and local address %s are of different families", cfg.Multicast, cfg.Local.Addr())
	case cfg.MulticastTTL > 255:
		return fmt.Errorf("udp: multicast TTL %d is not in 0..255", cfg.MulticastTTL)
	}
	return nil
}

// Group returns where a datagram for every group member goes: the multicast group or the
// subnet broadcast address, on the link's port. ok is false for a unicast-only link.
func (l *Link) Group() (addr netip.AddrPort, ok bool) { return l.group, l.group.IsValid() }

// setupGroup joins the group (or allows broadcasts), sets TTL and loopback, and picks the
// interface. It runs on the socket's own thread, inside its network namespace.
func (l *Link) setupGroup(fd int, cfg Config) error {
	ifc, err := groupInterface(cfg)
	if err != nil {
		return err
	}
	loop := 0
	if cfg.MulticastLoopback {
		loop = 1
	}
	port := l.local.Port()
	if cfg.Broadcast {
		bcast, err := subnetBroadcast(ifc, cfg.Local.Addr())
		if err != nil {
			return err
		}
		l.group = netip.AddrPortFrom(bcast, port)
		return errors.Join(
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1),
			// Broadcasts always come back to the sender's host; this socket still hears
			// its own, and l1 drops them by their source node.
			unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0),
		)
	}
	l.group = netip.AddrPortFrom(cfg.Multicast, port)
	if l.v6 {
		mreq := &unix.IPv6Mreq{Multiaddr: cfg.Multicast.As16(), Interface: uint32(ifc.Index)}
		errs := []error{
			unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, mreq),
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifc.Index),
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, cfg.MulticastTTL),
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, loop),
		}
		// Only the groups this socket joined (kernels before 4.20 lack the option).
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0)
		return errors.Join(errs...)
	}
	mreq := &unix.IPMreqn{Multiaddr: cfg.Multicast.As4(), Address: cfg.Local.Addr().Unmap().As4(), Ifindex: int32(ifc.Index)}
	return errors.Join(
		unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq),
		unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, mreq),
		unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, cfg.MulticastTTL),
		unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, loop),
		// A wildcard-bound socket otherwise hears every group any socket of the host
		// joined on this port.
		unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0),
	)
}

func groupInterface(cfg Config) (*net.Interface, error) {
	if cfg.Interface != "" {
		return net.InterfaceByName(cfg.Interface)
	}
	return link.InterfaceWith(cfg.Local.Addr())
}

// subnetBroadcast is the directed broadcast address of the subnet of a on ifc. corosync
// sends to 255.255.255.255; the subnet's address is routed out of the right interface by
// the kernel without binding the sending socket to one.
func subnetBroadcast(ifc *net.Interface, a netip.Addr) (netip.Addr, error) {
	addrs, err := ifc.Addrs()
	if err != nil {
		return netip.Addr{}, err
	}
	for _, x := range addrs {
		ipn, ok := x.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok || ip.Unmap() != a.Unmap() {
			continue
		}
		ones, bits := ipn.Mask.Size()
		if bits == 128 {
			ones -= 96 // an IPv4 mask in IPv6 form
		}
		if ones > 30 {
			return netip.Addr{}, fmt.Errorf("udp: %s/%d on %s has no subnet broadcast address", a, ones, ifc.Name)
		}
		b := a.Unmap().As4()
		for i := range b {
			b[i] |= ^ipn.Mask[len(ipn.Mask)-4+i]
		}
		return netip.AddrFrom4(b), nil
	}
	return netip.Addr{}, fmt.Errorf("udp: %s is not an address of %s", a, ifc.Name)
}

// pinSource returns the control message that makes every datagram leave from the link's
// own address (IP_PKTINFO / IPV6_PKTINFO), or nil when the socket is bound to that address
// already. A wildcard-bound socket would otherwise take the route's preferred source,
// which differs from Local when Local is a secondary address, and peers check sources.
func (l *Link) pinSource() []byte {
	if !l.group.IsValid() {
		return nil
	}
	if l.v6 {
		b := make([]byte, unix.CmsgSpace(unix.SizeofInet6Pktinfo))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
		h.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
		info := (*unix.Inet6Pktinfo)(unsafe.Pointer(&b[cmsgHdrBytes]))
		info.Addr = l.local.Addr().As16()
		return b
	}
	b := make([]byte, unix.CmsgSpace(unix.SizeofInet4Pktinfo))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
	h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
	info := (*unix.Inet4Pktinfo)(unsafe.Pointer(&b[cmsgHdrBytes]))
	info.Spec_dst = l.local.Addr().Unmap().As4()
	return b
}
