// Package xdp is the AF_XDP link: UDP datagrams for the node's address and port are taken
// off the interface by an XDP program and handed to user space through AF_XDP sockets,
// and sent by writing whole Ethernet frames into the sockets' TX ring, both without the
// kernel's IP and UDP stack.
//
// Open loads a small XDP program, assembled at run time (no compiler, no object file),
// that redirects IPv4 or IPv6 UDP datagrams addressed to Config.Local to the AF_XDP socket
// of the RX queue they arrived on; everything else (ARP, neighbour discovery, ICMP, other
// ports, IP fragments, IPv6 extension headers) goes on to the kernel as usual. The
// program runs in the driver (native mode) where the driver supports it and after skb
// allocation (generic mode) otherwise; the sockets are zero-copy where the driver
// supports it. Mode and ZeroCopy report what the kernel granted.
//
// Next to the AF_XDP sockets the link binds an ordinary UDP socket on the same address:
// it receives what the program passes up, and it sends to peers whose MAC address the
// kernel has not resolved yet, which makes the kernel resolve it (ARP or neighbour
// discovery). Destination MACs otherwise come from the kernel's neighbour table, looked
// up through the route to each peer and refreshed every Config.NeighbourRefresh.
//
// When AF_XDP cannot work here (no privileges, no such interface, old kernel, a driver
// that refuses, another XDP program on the interface) Open returns an error wrapping
// ErrUnavailable, and the caller opens a plain UDP link instead:
//
//	l, err := xdp.Open(cfg)
//	if errors.Is(err, xdp.ErrUnavailable) {
//		log.Printf("%v; using UDP", err)
//		return udp.Open(udp.Config{Local: cfg.Local})
//	}
//
// The AF_XDP sockets come from github.com/slavc/xdp, whose package-level defaults this
// package leaves alone. That library accesses the rings without memory barriers, which
// is correct on x86 (total store order) but not guaranteed on weaker architectures.
package xdp
