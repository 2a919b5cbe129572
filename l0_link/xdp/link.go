package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const (
	// xdpHeadroom is XDP_PACKET_HEADROOM: the kernel starts received data this far into a
	// UMEM frame.
	xdpHeadroom = 256
	// netlinkTimeout bounds one netlink request (route or neighbour lookup, attach).
	netlinkTimeout = time.Second
)

// Link is an AF_XDP link on one interface. See link.Link for the calling contract.
//
// Views returned by Receive point into the UMEM, which Close frees: they must not be used
// after Close.
type Link struct {
	cfg        Config
	ifindex    int
	maxPayload int
	zeroCopy   bool

	ns     *namespace
	nl     *netlink.Handle
	prog   *program
	attach *attachment
	socks  []*queueSocket
	slow   *slowPath
	wakeFD int // eventfd written by Close to end a Receive blocked in poll(2)

	// mu is held shared by Send, Receive and Stats and exclusively by Close, so Close
	// frees nothing they are using.
	mu     sync.RWMutex
	closed atomic.Bool
	final  link.Stats // the counters as Close left them

	sendMu sync.Mutex // Send's state below
	tx     txState
	rx     rxState // Receive's

	stats counters
}

var _ link.Link = (*Link)(nil)

type counters struct {
	link.Counters
	// Datagrams that took the kernel's path, for tests and diagnostics.
	txSlow, rxSlow atomic.Uint64
}

// Open attaches the link's XDP program to cfg.Interface and opens one AF_XDP socket per
// RX queue plus the slow-path UDP socket. It must run on a thread in the interface's
// network namespace (any thread, unless the process uses several namespaces).
//
// An error caused by the environment (privileges, kernel, driver, interface) wraps
// ErrUnavailable; its message is one line such as
// "xdp: cannot attach program to eth9: no such interface".
func Open(cfg Config) (_ *Link, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, failed("invalid configuration", err)
	}
	l := &Link{cfg: cfg, wakeFD: -1}
	defer func() {
		if err != nil {
			l.release()
		}
	}()
	ifname := cfg.Interface
	attachStep := "cannot attach program to " + ifname

	if l.ns, err = currentNamespace(); err != nil {
		return nil, unavailable("cannot find own network namespace", err)
	}
	if l.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
		return nil, unavailable("cannot open netlink", err)
	}
	// Send looks up neighbours through this handle; a kernel that does not answer must
	// not hold it up for good.
	if err = l.nl.SetSocketTimeout(netlinkTimeout); err != nil {
		return nil, unavailable("cannot open netlink", err)
	}
	dev, err := l.nl.LinkByName(ifname)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if errors.As(err, &notFound) {
			err = unix.ENODEV
		}
		return nil, unavailable(attachStep, err)
	}
	attrs := dev.Attrs()
	l.ifindex = attrs.Index
	if x := attrs.Xdp; x != nil && x.Attached {
		// Netlink attachments outlive their process, so this may be the program of a link
		// that was never closed; say how to remove it.
		return nil, unavailable(attachStep, fmt.Errorf(
			"XDP program %d is already attached (if it is stale: ip link set dev %s xdp off)", x.ProgId, ifname))
	}
	if attrs.EncapType != "ether" || len(attrs.HardwareAddr) != 6 {
		return nil, unavailable(attachStep, fmt.Errorf("not an Ethernet interface (%s)", attrs.EncapType))
	}
	var srcMAC mac
	copy(srcMAC[:], attrs.HardwareAddr)
	if err := l.checkAddress(dev); err != nil {
		return nil, failed("cannot use "+cfg.Local.Addr().String(), err)
	}
	l.maxPayload = maxPayload(attrs.MTU, cfg.FrameBytes, cfg.Local.Addr().Is6())
	if l.maxPayload <= 0 {
		return nil, failed("cannot use "+ifname, fmt.Errorf("MTU %d leaves no room for a payload", attrs.MTU))
	}

	if l.slow, err = openSlowPath(cfg.Local, cfg.DSCP, l.ifindex); err != nil {
		return nil, failed("cannot bind UDP "+cfg.Local.String(), err)
	}
	queues := rxQueues(l.slow.fd, ifname, l.ifindex)
	if l.prog, err = loadProgram(cfg.Local, queues); err != nil {
		return nil, unavailable("cannot load XDP program", err)
	}
	for q := 0; q < queues; q++ {
		s, err := openQueueSocket(l.ifindex, q, &cfg, q == 0)
		if err != nil {
			return nil, unavailable(fmt.Sprintf("cannot open AF_XDP socket on %s queue %d", ifname, q), err)
		}
		l.socks = append(l.socks, s)
		if err := l.prog.register(q, s.sock.FD()); err != nil {
			return nil, unavailable("cannot register AF_XDP socket", err)
		}
	}
	l.zeroCopy = l.socks[0].zeroCopy()
	if l.attach, err = attach(l.ns, l.ifindex, l.prog.prog, cfg.Mode); err != nil {
		return nil, unavailable(attachStep, err)
	}
	if l.wakeFD, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, unavailable("cannot create eventfd", err)
	}
	l.tx.init(l, srcMAC)
	l.rx.init(l)
	return l, nil
}

// checkAddress makes sure Local is configured on the interface: the program only sees
// that interface's traffic, so an address elsewhere would never receive anything.
func (l *Link) checkAddress(dev netlink.Link) error {
	family := unix.AF_INET
	if l.cfg.Local.Addr().Is6() {
		family = unix.AF_INET6
	}
	addrs, err := l.nl.AddrList(dev, family)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == l.cfg.Local.Addr() {
			return nil
		}
	}
	return fmt.Errorf("address not configured on %s", l.cfg.Interface)
}

// maxPayload is the largest UDP payload whose frame fits both the MTU and, on receive, a
// UMEM frame after the XDP headroom (with room for a VLAN tag the driver may leave in).
func maxPayload(mtu, frameBytes int, v6 bool) int {
	ip := ipv4HeaderLen
	if v6 {
		ip = ipv6HeaderLen
	}
	byMTU := mtu - ip - udpHeaderLen
	byFrame := frameBytes - xdpHeadroom - ethHeaderLen - vlanTagLen - ip - udpHeaderLen
	return min(byMTU, byFrame)
}

// Mode reports where the program runs: ModeNative (in the driver) or ModeGeneric.
func (l *Link) Mode() string { return l.attach.mode }

// ZeroCopy reports whether the kernel bound the AF_XDP sockets in zero-copy mode (the
// driver DMAs straight into the UMEM) rather than copy mode.
func (l *Link) ZeroCopy() bool { return l.zeroCopy }

// Queues is the number of RX queues, and so of AF_XDP sockets, the link serves.
func (l *Link) Queues() int { return len(l.socks) }

// LocalAddr implements link.Link.
func (l *Link) LocalAddr() netip.AddrPort { return l.cfg.Local }

// MaxPayloadBytes implements link.Link. It is bounded by the interface MTU and the UMEM
// frame size, not by IP: the fast path never fragments.
func (l *Link) MaxPayloadBytes() int { return l.maxPayload }

// Kind implements link.Link.
func (l *Link) Kind() string { return "xdp" }

// Stats implements link.Link. Frames the kernel dropped because the RX ring was full or
// no fill buffer was free count in RxDropped, descriptors it rejected in TxErrors.
func (l *Link) Stats() link.Stats {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed.Load() {
		return l.final
	}
	return l.snapshot()
}

func (l *Link) snapshot() link.Stats {
	s := l.stats.Snapshot()
	for _, q := range l.socks {
		if k, err := q.kernelStats(); err == nil {
			s.RxDropped += k.Rx_dropped + k.Rx_ring_full
			s.TxErrors += k.Tx_invalid_descs
		}
	}
	return s
}

// Close implements link.Link: it ends a pending Receive, waits for Send and Receive to
// return, detaches the program and frees the sockets and UMEM.
func (l *Link) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(l.wakeFD, one[:])
	l.mu.Lock()
	defer l.mu.Unlock()
	l.final = l.snapshot()
	return l.release()
}

// release undoes Open, in reverse order, for whatever Open got to.
func (l *Link) release() error {
	var errs []error
	if l.attach != nil {
		errs = append(errs, l.attach.detach(l.nl))
	}
	for _, s := range l.socks {
		errs = append(errs, s.close())
	}
	if l.prog != nil {
		errs = append(errs, l.prog.close())
	}
	if l.slow != nil {
		errs = append(errs, l.slow.close())
	}
	if l.wakeFD >= 0 {
		errs = append(errs, unix.Close(l.wakeFD))
	}
	if l.nl != nil {
		l.nl.Close()
	}
	if l.ns != nil {
		errs = append(errs, l.ns.close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("xdp: close %s: %w", l.cfg.Interface, err)
	}
	return nil
}
