package xdp

import (
	"errors"
	"net/netip"

	"golang.org/x/sys/unix"
)

// slowPathBytes is the socket buffer asked for in each direction. Little goes through
// here, but a burst sent while ARP is still resolving queues in the kernel.
const slowPathBytes = 1 << 20

// slowPath is an ordinary UDP socket bound to the link's address and port. Binding it
// keeps the kernel from answering the port with ICMP unreachable; it receives what the
// XDP program passes up (IP fragments, IPv6 with extension headers, traffic that arrives
// before the program is attached), and it sends whenever the next hop's MAC is unknown,
// which makes the kernel resolve it.
type slowPath struct {
	fd      int
	ifindex int // zone of link-local IPv6 peers
}

func openSlowPath(local netip.AddrPort, dscp uint8, ifindex int) (*slowPath, error) {
	v6 := local.Addr().Is6()
	family := unix.AF_INET
	if v6 {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, err
	}
	p := &slowPath{fd: fd, ifindex: ifindex}
	var errs []error
	if v6 {
		errs = append(errs,
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1),
			unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, int(dscp)<<2))
	} else {
		errs = append(errs, unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TOS, int(dscp)<<2))
	}
	for _, o := range [][2]int{{unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}, {unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}} {
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[0], slowPathBytes) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[1], slowPathBytes)
		}
	}
	if err := errors.Join(errs...); err != nil {
		p.close()
		return nil, err
	}
	if err := unix.Bind(fd, sockaddr(local, ifindex)); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// send hands one datagram to the kernel, waiting up to a few milliseconds for buffer
// space so that a burst during ARP resolution is not lost to EAGAIN.
func (p *slowPath) send(b []byte, to netip.AddrPort) error {
	sa := sockaddr(to, p.ifindex)
	for tries := 0; ; tries++ {
		err := unix.Sendto(p.fd, b, unix.MSG_DONTWAIT, sa)
		if err != unix.EAGAIN || tries == 3 {
			return err
		}
		pfd := []unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLOUT}}
		_, _ = unix.Poll(pfd, 5)
	}
}

// recv reads one datagram into b without blocking. It returns unix.EAGAIN when none is
// queued; truncated reports a datagram larger than b (its length is lost).
func (p *slowPath) recv(b []byte) (n int, from netip.AddrPort, truncated bool, err error) {
	n, sa, err := unix.Recvfrom(p.fd, b, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
	if err != nil {
		return 0, from, false, err
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		from = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		from = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return n, from, n > len(b), nil
}

func (p *slowPath) close() error { return unix.Close(p.fd) }

// sockaddr converts an address for the unix package. Link-local IPv6 addresses are scoped
// to the link's interface, whatever zone they carry: that is the only one they can reach.
func sockaddr(a netip.AddrPort, ifindex int) unix.Sockaddr {
	if a.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
	if a.Addr().IsLinkLocalUnicast() {
		sa.ZoneId = uint32(ifindex)
	}
	return sa
}
