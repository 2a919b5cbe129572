package xdp

import (
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// maxDestinations bounds the destination cache; corosync talks to at most a few hundred
// peers, so reaching it means addresses are not peers and the cache starts over.
const maxDestinations = 4096

// usableNUD are the neighbour states whose link-layer address the kernel itself would
// send to.
const usableNUD = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY |
	netlink.NUD_PROBE | netlink.NUD_PERMANENT | netlink.NUD_NOARP

// destination is how datagrams to one peer leave.
type destination struct {
	flow flow
	// fast is set when the route to the peer leaves through our interface and the kernel
	// knows the next hop's MAC; otherwise datagrams go through the slow-path socket, whose
	// first send makes the kernel resolve the MAC (ARP or neighbour discovery).
	fast bool
	// probe is set when the kernel's entry for the next hop is STALE. Frames sent by
	// AF_XDP never confirm a neighbour, so without traffic through the kernel the entry
	// would stay stale forever and a peer that changed its MAC would not be noticed; one
	// datagram through the kernel makes it re-probe.
	probe   bool
	expires time.Time
}

// destinations resolves peers to frame headers, caching what it learns from the kernel's
// routing and neighbour tables. Only Send uses it.
type destinations struct {
	nl      *netlink.Handle
	ifindex int
	srcMAC  mac
	local   netip.AddrPort
	dscp    uint8
	refresh time.Duration // how long a resolved next hop is trusted
	retry   time.Duration // how soon an unresolved one is looked up again
	m       map[netip.AddrPort]*destination
}

func newDestinations(nl *netlink.Handle, ifindex int, srcMAC mac, cfg *Config) *destinations {
	return &destinations{
		nl: nl, ifindex: ifindex, srcMAC: srcMAC, local: cfg.Local, dscp: cfg.DSCP,
		refresh: cfg.NeighbourRefresh,
		// Resolution takes a round trip on the wire; asking the kernel far more often than
		// that only costs netlink dumps.
		retry: max(cfg.NeighbourRefresh/50, 5*time.Millisecond),
		m:     make(map[netip.AddrPort]*destination),
	}
}

// get returns how to reach to at time now, consulting the kernel when the cached answer
// has expired.
func (d *destinations) get(to netip.AddrPort, now time.Time) *destination {
	e := d.m[to]
	if e != nil && now.Before(e.expires) {
		return e
	}
	if e == nil {
		if len(d.m) >= maxDestinations {
			clear(d.m)
		}
		e = &destination{}
		d.m[to] = e
	}
	dstMAC, state, ok := d.resolve(to.Addr())
	e.fast = ok
	e.probe = ok && state&netlink.NUD_STALE != 0
	if ok {
		e.flow = newFlow(d.srcMAC, dstMAC, d.local, to, d.dscp)
		e.expires = now.Add(d.refresh)
	} else {
		e.expires = now.Add(d.retry)
	}
	return e
}

// resolve finds the MAC of the next hop towards addr through our interface: the gateway
// of the route the kernel would use, or addr itself when it is on-link.
func (d *destinations) resolve(addr netip.Addr) (m mac, state int, ok bool) {
	routes, err := d.nl.RouteGet(addr.AsSlice())
	if err != nil || len(routes) == 0 || routes[0].LinkIndex != d.ifindex {
		// Unreachable, local, or through another interface: the kernel's business.
		return m, 0, false
	}
	hop := addr
	if gw, ok := netip.AddrFromSlice(routes[0].Gw); ok && gw.IsValid() && !gw.IsUnspecified() {
		hop = gw.Unmap()
	}
	family := unix.AF_INET
	if hop.Is6() {
		family = unix.AF_INET6
	}
	neighs, err := d.nl.NeighList(d.ifindex, family)
	if err != nil {
		return m, 0, false
	}
	for _, n := range neighs {
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok || ip.Unmap() != hop || len(n.HardwareAddr) != len(m) || n.State&usableNUD == 0 {
			continue
		}
		copy(m[:], n.HardwareAddr)
		return m, n.State, true
	}
	return m, 0, false
}
