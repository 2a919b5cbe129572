package rdma

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Defaults and bounds, each with its reason.
const (
	// WellKnownQKey is the QKey every queue pair of this link carries and checks: a UD
	// receiver drops datagrams with another key, which keeps strangers' traffic on the
	// same fabric out. The high bit is clear because keys with it set are reserved for
	// privileged users. The bytes spell "coro".
	WellKnownQKey uint32 = 0x636f726f
	// DefaultRecvSlots receive buffers stay posted (about 1 MiB at a 4 KiB MTU), room
	// for several Totem windows (window_size defaults to 50 frames) to land while the
	// receiver is busy.
	DefaultRecvSlots = 256
	// DefaultSendSlots bounds sends the device has not yet reported finished; more
	// waiting in the send queue only adds latency.
	DefaultSendSlots = 64
	// DefaultHopLimit lets RoCE v2 datagrams cross routers, as IP TTLs do.
	DefaultHopLimit = 64
	// maxSlots bounds each ring so that a typo cannot pin gigabytes: with 4 KiB MTU
	// slots one ring is at most about 65 MiB of registered memory.
	maxSlots = 1 << 14
	// maxPeers bounds the peer table, which datagrams from unknown senders grow.
	maxPeers = 4096
	// slotAlignBytes aligns every slot to a cache line, which NICs write fastest.
	slotAlignBytes = 64
	// rxWaitSlice is how long Receive sleeps on the completion channel before checking
	// for Close again; it is how late Close may unblock a Receive.
	rxWaitSlice = 50 * time.Millisecond
	// pkeyIndex 0 holds the default partition key, the only one RoCE has.
	pkeyIndex = 0
	// initialPSN is the send queue's first packet sequence number; UD never checks it.
	initialPSN = 0
)

// Config says which device, port and address a link uses and whom it can reach.
type Config struct {
	// Local is this node's address: the IP of the RoCE interface (its GID is what peers
	// address) and the port written into every frame as the source port.
	Local netip.AddrPort
	// Device is the RDMA device's kernel name (Discover lists them). Empty means the
	// device behind Netdev, or behind the interface holding Local's IP, or the only one.
	Device string
	// Netdev is the network interface whose RDMA device to use when Device is empty.
	Netdev string
	// Port is the device port (default 1).
	Port uint8
	// GIDIndex forces an entry of the port's GID table. 0 searches the table for Local's
	// IP, preferring the RoCE v2 entry (routable, and the one peers' GRHs will match).
	// Index 0 itself is the link-local GID, which never carries an IP peers know.
	GIDIndex int
	// QKey is the UD queue key (default WellKnownQKey); all nodes must agree.
	QKey uint32
	// Peers maps each peer's IP to the number of its queue pair, which a UD send needs
	// and which the peer reports with Link.QPN. Entries are also learned, and
	// refreshed after a peer restarts, from every datagram received.
	Peers map[netip.Addr]uint32
	// RecvSlots and SendSlots size the two rings (DefaultRecvSlots, DefaultSendSlots).
	RecvSlots, SendSlots int
	// MTUBytes lowers the largest UD message below the port's active MTU (0: no limit).
	MTUBytes int
	// HopLimit is the IP hop limit of outgoing datagrams (DefaultHopLimit).
	HopLimit uint8
}

// normalized fills in defaults and copies the peer table, keys normalized, so that the
// caller's map is neither kept nor modified.
func (cfg Config) normalized() (Config, error) {
	if !cfg.Local.Addr().IsValid() {
		return cfg, errors.New("rdma: no local address configured")
	}
	if cfg.Device == "" {
		return cfg, errors.New("rdma: no device configured")
	}
	if cfg.Port == 0 {
		cfg.Port = 1
	}
	if cfg.QKey == 0 {
		cfg.QKey = WellKnownQKey
	}
	if cfg.RecvSlots == 0 {
		cfg.RecvSlots = DefaultRecvSlots
	}
	if cfg.SendSlots == 0 {
		cfg.SendSlots = DefaultSendSlots
	}
	if cfg.HopLimit == 0 {
		cfg.HopLimit = DefaultHopLimit
	}
	// Two receive slots at least: one Receive hands out at most half of them.
	if cfg.RecvSlots < 2 || cfg.RecvSlots > maxSlots || cfg.SendSlots < 1 || cfg.SendSlots > maxSlots {
		return cfg, fmt.Errorf("rdma: %d receive and %d send slots: each must be 2 (1 for send) to %d",
			cfg.RecvSlots, cfg.SendSlots, maxSlots)
	}
	if cfg.GIDIndex < 0 || cfg.MTUBytes < 0 {
		return cfg, errors.New("rdma: negative GID index or MTU")
	}
	peers := make(map[netip.Addr]uint32, len(cfg.Peers))
	for a, qpn := range cfg.Peers {
		peers[peerKey(a)] = qpn
	}
	cfg.Peers = peers
	return cfg, nil
}

// pickGID returns the GID table index whose entry is addr's GID: forced when nonzero (and
// checked, since a wrong one makes peers see another source address), else searched.
func pickGID(ctx Context, port uint8, tableLen int, addr netip.Addr, forced int) (int, error) {
	want := GIDFromAddr(addr)
	if forced > 0 {
		e, err := ctx.QueryGID(port, forced)
		if err != nil {
			return 0, err
		}
		if e.GID != want {
			return 0, fmt.Errorf("GID index %d holds %s, not %s's GID %s", forced, e.GID, addr, want)
		}
		return forced, nil
	}
	found := -1
	for i := range tableLen {
		e, err := ctx.QueryGID(port, i)
		if err != nil || e.GID != want {
			continue // empty entries may fail to read on some drivers
		}
		if e.Type == GIDTypeRoCEv2 {
			return i, nil
		}
		if found < 0 {
			found = i
		}
	}
	if found < 0 {
		return 0, fmt.Errorf("no GID for %s (is it an address of this device's RoCE interface?)", addr)
	}
	return found, nil
}
