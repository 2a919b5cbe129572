// Package udp is the batched UDP link: sendmmsg/recvmmsg, UDP GSO on send and GRO on
// receive (probed at start and turned off per peer when the kernel refuses), socket buffer
// sizing, DSCP marking, IPv4 and IPv6, unicast, IP multicast and subnet broadcast (group
// mode: one send reaches every member; see Config.Multicast and Config.Broadcast).
package udp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	link "github.com/corosync-go/corosync/l0_link"
	"golang.org/x/sys/unix"
)

// Defaults, each with its reason.
const (
	// DefaultBatchPackets matches the kernel's UDP_MAX_SEGMENTS (64) so one GSO send and
	// one recvmmsg move about the same number of packets.
	DefaultBatchPackets = 64
	// DefaultBufferBytes is the socket buffer asked for in each direction: a burst of a
	// full totem window (4 MiB of frames) fits without drops. SO_*BUFFORCE is tried first
	// so root is not capped by net.core.*mem_max.
	DefaultBufferBytes = 4 << 20
	// maxSegments is the kernel's UDP_MAX_SEGMENTS on every kernel that has GSO.
	maxSegments = 64
	// gsoMaxBytes keeps a GSO super-datagram under the 64 KiB IP limit.
	gsoMaxBytes = 65000
	// recvBufBytes holds the largest datagram, or a GRO-coalesced train of them.
	recvBufBytes = 65536
)

// Config says where and how a UDP link binds.
type Config struct {
	// Local is the unicast address and port to bind and to announce to peers.
	Local netip.AddrPort
	// Multicast, when valid, is a group joined on Local's interface (corosync's mcastaddr
	// with transport: udp). The socket then binds the wildcard address on Local's port, so
	// it hears both the group and unicast, and pins the source of everything it sends to
	// Local's address so that peers still see Local. Group returns where to send.
	Multicast netip.Addr
	// Broadcast sends group traffic to the subnet broadcast address of Local's interface
	// with SO_BROADCAST instead of joining a group (corosync's broadcast: yes; IPv4 only).
	// It excludes Multicast. The socket binds as for Multicast.
	Broadcast bool
	// Interface names the device for multicast membership and sending; empty means the
	// interface holding Local's address.
	Interface string
	// MulticastTTL is the hop limit of multicast datagrams (corosync's ttl, default 1).
	MulticastTTL int
	// MulticastLoopback hands the link's own group sends back to it. corosync turns it off
	// (a node does not need its own copy), and so does the zero value.
	MulticastLoopback bool
	// DSCP marks outgoing datagrams (0..63; corosync's ip_dscp).
	DSCP uint8
	// SendBufferBytes and RecvBufferBytes size the socket buffers (DefaultBufferBytes).
	SendBufferBytes, RecvBufferBytes int
	// BatchPackets bounds one recvmmsg/sendmmsg (DefaultBatchPackets).
	BatchPackets int
	// DisableGSO and DisableGRO turn the offloads off even where the kernel has them.
	DisableGSO, DisableGRO bool
}

// Link is a batched UDP socket. See link.Link for the calling contract.
type Link struct {
	conn  *net.UDPConn
	raw   syscall.RawConn
	local netip.AddrPort
	v6    bool
	batch int
	// ifaceMTU is the MTU of the interface holding the local address (0 if unknown),
	// read at Open so that it comes from the socket's own network namespace.
	ifaceMTU int
	// group is where group sends go (a multicast group or the subnet broadcast address, on
	// Local's port); invalid for a unicast-only link.
	group  netip.AddrPort
	gso    atomic.Bool
	gro    bool
	closed atomic.Bool

	sendMu sync.Mutex
	tx     sendState
	noGSO  sync.Map // netip.AddrPort → struct{}: peers for which the kernel refused GSO

	rx rxState

	stats counters
}

var _ link.Link = (*Link)(nil)

type counters = link.Counters

// Open binds a UDP link.
func Open(cfg Config) (*Link, error) {
	if !cfg.Local.IsValid() {
		return nil, errors.New("udp: no local address configured")
	}
	if cfg.BatchPackets <= 0 {
		cfg.BatchPackets = DefaultBatchPackets
	}
	if cfg.SendBufferBytes <= 0 {
		cfg.SendBufferBytes = DefaultBufferBytes
	}
	if cfg.RecvBufferBytes <= 0 {
		cfg.RecvBufferBytes = DefaultBufferBytes
	}
	if cfg.MulticastTTL <= 0 {
		cfg.MulticastTTL = 1
	}
	v6 := cfg.Local.Addr().Is6() && !cfg.Local.Addr().Is4In6()
	network := "udp4"
	if v6 {
		network = "udp6"
	}
	if err := checkGroupConfig(cfg, v6); err != nil {
		return nil, err
	}
	bind := net.UDPAddrFromAddrPort(cfg.Local)
	if groupMode(cfg) {
		// A socket bound to one unicast address is not given datagrams sent to a group or
		// a broadcast address, so group mode binds the wildcard.
		bind = &net.UDPAddr{Port: int(cfg.Local.Port())}
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), network, bind.String())
	if err != nil {
		return nil, fmt.Errorf("udp: bind %s: %w", cfg.Local, err)
	}
	conn := pc.(*net.UDPConn)
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("udp: %w", err)
	}
	l := &Link{conn: conn, raw: raw, local: cfg.Local, v6: v6, batch: cfg.BatchPackets}
	if l.local.Port() == 0 {
		l.local = netip.AddrPortFrom(cfg.Local.Addr(), uint16(conn.LocalAddr().(*net.UDPAddr).Port))
	}
	if err := l.configure(cfg); err != nil {
		conn.Close()
		return nil, err
	}
	l.ifaceMTU = interfaceMTU(cfg.Local.Addr())
	l.tx.init(l.batch, l.pinSource())
	l.rx.init(l.batch, l.gro)
	return l, nil
}

// configure applies buffer sizes, DSCP, path-MTU behaviour, offloads and multicast.
func (l *Link) configure(cfg Config) error {
	var errs []error
	err := l.raw.Control(func(fd uintptr) {
		s := int(fd)
		setBuffer(s, unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, cfg.SendBufferBytes)
		setBuffer(s, unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, cfg.RecvBufferBytes)
		if l.v6 {
			errs = append(errs, unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, int(cfg.DSCP)<<2))
			// Don't fragment: l1 fragments to the discovered path MTU itself.
			errs = append(errs, unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE))
		} else {
			errs = append(errs, unix.SetsockoptInt(s, unix.IPPROTO_IP, unix.IP_TOS, int(cfg.DSCP)<<2))
			errs = append(errs, unix.SetsockoptInt(s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE))
		}
		if !cfg.DisableGSO {
			// The getsockopt succeeds only on kernels that know UDP_SEGMENT.
			if _, err := unix.GetsockoptInt(s, unix.IPPROTO_UDP, unix.UDP_SEGMENT); err == nil {
				l.gso.Store(true)
			}
		}
		if !cfg.DisableGRO {
			if unix.SetsockoptInt(s, unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil {
				l.gro = true
			}
		}
		if groupMode(cfg) {
			errs = append(errs, l.setupGroup(s, cfg))
		}
	})
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("udp: configure %s: %w", cfg.Local, err)
	}
	return nil
}

// setBuffer asks for the forced size first (root only) and falls back to the capped one.
func setBuffer(fd, force, plain, bytes int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, bytes) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, plain, bytes)
	}
}

// InterfaceMTU is the MTU of the local address's interface, 0 when unknown; l1 starts its
// path-MTU search there.
func (l *Link) InterfaceMTU() int { return l.ifaceMTU }

func interfaceMTU(a netip.Addr) int {
	ifc, err := link.InterfaceWith(a)
	if err != nil {
		return 0
	}
	return ifc.MTU
}

// GSO reports whether segmentation offload is in use for sends.
func (l *Link) GSO() bool { return l.gso.Load() }

// GRO reports whether receive coalescing is on.
func (l *Link) GRO() bool { return l.gro }

// LocalAddr implements link.Link.
func (l *Link) LocalAddr() netip.AddrPort { return l.local }

// MaxPayloadBytes implements link.Link.
func (l *Link) MaxPayloadBytes() int {
	if l.v6 {
		return 65535 - 8 // jumbo-less IPv6 payload minus the UDP header
	}
	return link.MaxDatagramBytes
}

// Kind implements link.Link.
func (l *Link) Kind() string { return "udp" }

// Stats implements link.Link.
func (l *Link) Stats() link.Stats { return l.stats.Snapshot() }

// Close implements link.Link.
func (l *Link) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return l.conn.Close()
}
