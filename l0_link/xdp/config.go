package xdp

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Defaults, each with its reason.
const (
	// DefaultFrameBytes is the UMEM chunk size: the smallest the kernel accepts, and it
	// holds a 1500-byte-MTU frame after the 256 bytes of headroom XDP reserves.
	DefaultFrameBytes = 2048
	// DefaultRxFrames is the number of receive buffers per RX queue (also the size of its
	// fill and RX rings): many totem windows (50 frames by default) from every peer fit,
	// at 2 MiB of locked memory per queue, which multiplies on NICs with many queues.
	DefaultRxFrames = 1024
	// DefaultTxFrames is the number of transmit buffers (also the size of the TX and
	// completion rings): a Send of a whole window goes out without waiting for frames.
	DefaultTxFrames = 1024
	// DefaultNeighbourRefresh is how long a next-hop MAC from the kernel's neighbour table
	// is used before it is looked up again, so a peer that moved or changed its NIC is
	// followed within about this long.
	DefaultNeighbourRefresh = time.Second
)

// Attach modes for Config.Mode and Link.Mode.
const (
	// ModeAuto tries native and falls back to generic.
	ModeAuto = ""
	// ModeNative runs the program in the driver, before the kernel allocates an skb.
	ModeNative = "native"
	// ModeGeneric runs it after skb allocation; every driver supports it, slower.
	ModeGeneric = "generic"
)

// Config says which interface and address an XDP link serves and how big its rings are.
type Config struct {
	// Interface is the network device to attach to, e.g. "eth0". Required.
	Interface string
	// Local is the unicast address and UDP port of this node on Interface. Required, and
	// the port must not be zero: it is compiled into the XDP program.
	Local netip.AddrPort
	// Mode forces ModeNative or ModeGeneric; ModeAuto (empty) tries native first.
	Mode string
	// DSCP marks outgoing datagrams (0..63), like the UDP link's.
	DSCP uint8
	// FrameBytes is the UMEM frame size, 2048 or 4096 (DefaultFrameBytes).
	FrameBytes int
	// RxFrames is the number of receive frames per RX queue, a power of two
	// (DefaultRxFrames).
	RxFrames int
	// TxFrames is the number of transmit frames, a power of two (DefaultTxFrames).
	TxFrames int
	// NeighbourRefresh is how long a looked-up next-hop MAC is trusted
	// (DefaultNeighbourRefresh).
	NeighbourRefresh time.Duration
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.FrameBytes == 0 {
		c.FrameBytes = DefaultFrameBytes
	}
	if c.RxFrames == 0 {
		c.RxFrames = DefaultRxFrames
	}
	if c.TxFrames == 0 {
		c.TxFrames = DefaultTxFrames
	}
	if c.NeighbourRefresh <= 0 {
		c.NeighbourRefresh = DefaultNeighbourRefresh
	}
	switch {
	case c.Interface == "":
		return c, errors.New("no interface configured")
	case !c.Local.IsValid() || c.Local.Port() == 0:
		return c, fmt.Errorf("local address %v needs an IP and a non-zero port", c.Local)
	case !c.Local.Addr().IsGlobalUnicast() && !c.Local.Addr().IsLinkLocalUnicast():
		return c, fmt.Errorf("local address %v is not a unicast address", c.Local.Addr())
	case c.Mode != ModeAuto && c.Mode != ModeNative && c.Mode != ModeGeneric:
		return c, fmt.Errorf("unknown mode %q (want %q or %q)", c.Mode, ModeNative, ModeGeneric)
	case c.DSCP > 63:
		return c, fmt.Errorf("DSCP %d out of range 0..63", c.DSCP)
	case c.FrameBytes != 2048 && c.FrameBytes != 4096:
		return c, fmt.Errorf("frame size %d: want 2048 or 4096", c.FrameBytes)
	case !powerOfTwo(c.RxFrames) || !powerOfTwo(c.TxFrames):
		return c, fmt.Errorf("frame counts %d (rx) and %d (tx) must be powers of two", c.RxFrames, c.TxFrames)
	}
	// A v4-mapped v6 address would make the program look for the wrong EtherType.
	c.Local = netip.AddrPortFrom(c.Local.Addr().Unmap(), c.Local.Port())
	return c, nil
}

func powerOfTwo(n int) bool { return n > 0 && n&(n-1) == 0 }
