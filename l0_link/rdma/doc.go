// Package rdma is the RDMA verbs link: Totem datagrams carried as InfiniBand unreliable
// datagrams (UD) over RoCE, with receive and send rings in one registered buffer pool.
//
// UD fits Totem: like UDP it is connectionless, unordered and may drop, so the layers above
// need nothing new, while the NIC does the copying and no system call sits on the data path.
//
// The package has three parts:
//
//   - discovery (Discover, DeviceForNetdev) over sysfs through github.com/Mellanox/rdmamap;
//   - Verbs, a small interface with just what the link needs from libibverbs, with two
//     backends: SystemVerbs (cgo, built only with -tags rdma) and FakeFabric (pure Go, an
//     in-memory fabric for tests and simulations);
//   - Link, the link.Link on top of Verbs (Open, OpenWith).
//
// Peers are addressed by netip.AddrPort as on the UDP link. The IP address names the peer's
// RoCE GID (an IPv4 address maps to the GID ::ffff:a.b.c.d); the queue pair number (QPN)
// behind it comes from Config.Peers or is learned from the peer's own datagrams. Every
// datagram starts with a small frame header carrying the sender's port, so a receiver can
// report a full netip.AddrPort source as the UDP link does.
package rdma
