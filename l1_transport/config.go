package transport

import (
	"fmt"
	"net/netip"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

// NodeID names a node, as corosync's nodeid (knet allows 1..65535; we allow any non-zero
// 32-bit value).
type NodeID uint32

// MaxLinks is knet's KNET_MAX_LINK: links 0..7.
const MaxLinks = 8

// LinkMode is corosync's link_mode.
type LinkMode string

// Link modes.
const (
	// Passive sends on the up link with the highest knet_link_priority (lowest link
	// number on a tie): corosync's default.
	Passive LinkMode = "passive"
	// Active sends every packet on every up link; receivers drop the copies.
	Active LinkMode = "active"
	// RoundRobin spreads packets over the up links in turn.
	RoundRobin LinkMode = "rr"
)

// Node is one member of the node table (corosync's nodelist.node.N).
type Node struct {
	ID   NodeID
	Name string
	// Addrs holds ringX_addr for link X (with the link's port); an invalid entry means
	// the node has no such link.
	Addrs [MaxLinks]netip.AddrPort
}

// LinkSpec is one local link (corosync's totem.interface.N) with its opened link.
type LinkSpec struct {
	Number   int // linknumber, 0..7
	Priority int // knet_link_priority, 0..255; higher is preferred in passive mode
	Link     link.Link
	// MTUBytes caps packets on this link (knet_mtu); 0 discovers the path MTU.
	MTUBytes int
	// Group, when valid, puts the link in group mode (corosync's transport: udp): a
	// broadcast goes on the wire once, to this multicast group or broadcast address, and
	// every peer on the link accepts it. Heartbeats and packets to one node stay unicast.
	Group netip.AddrPort
}

// Config is everything a Transport needs.
type Config struct {
	LocalNode NodeID
	Nodes     []Node
	Links     []LinkSpec
	LinkMode  LinkMode
	Crypto    CryptoConfig
	Compress  CompressionConfig
	// PingInterval and PingTimeout drive heartbeats: a link is down when no pong came
	// for PingTimeout. Defaults derive from Token as corosync does:
	// token/(pong_count*2) and token/pong_count.
	PingInterval, PingTimeout time.Duration
	// PongCount is knet_pong_count: pongs in a row needed to bring a link up (2).
	PongCount int
	// PMTUDInterval is knet_pmtud_interval (30 s): how often path MTUs are probed again.
	PMTUDInterval time.Duration
	// Token is the totem token timeout the heartbeat defaults derive from (3 s).
	Token time.Duration
	// MaxMessageBytes bounds one totem packet (knet's 65536).
	MaxMessageBytes int
}

// Defaults.
const (
	DefaultPongCount       = 2
	DefaultPMTUDInterval   = 30 * time.Second
	DefaultToken           = 3 * time.Second
	DefaultMaxMessageBytes = 65536
)

// timerDefaults fills the heartbeat settings left zero, from the token as corosync's
// calc_knet_ping_timers does.
func (c *Config) timerDefaults() {
	if c.PongCount <= 0 {
		c.PongCount = DefaultPongCount
	}
	if c.Token <= 0 {
		c.Token = DefaultToken
	}
	if c.PingInterval <= 0 {
		c.PingInterval = c.Token / time.Duration(c.PongCount*2)
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = c.Token / time.Duration(c.PongCount)
	}
	if c.PMTUDInterval <= 0 {
		c.PMTUDInterval = DefaultPMTUDInterval
	}
}

func (c *Config) applyDefaults() error {
	if c.LocalNode == 0 {
		return fmt.Errorf("transport: local node id must be non-zero")
	}
	if c.LinkMode == "" {
		c.LinkMode = Passive
	}
	switch c.LinkMode {
	case Passive, Active, RoundRobin:
	default:
		return fmt.Errorf("transport: link_mode %q is not one of passive, active, rr", c.LinkMode)
	}
	c.timerDefaults()
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if len(c.Links) == 0 {
		return fmt.Errorf("transport: no links configured")
	}
	seen := map[int]bool{}
	for _, l := range c.Links {
		if l.Number < 0 || l.Number >= MaxLinks {
			return fmt.Errorf("transport: linknumber %d out of range 0..%d", l.Number, MaxLinks-1)
		}
		if seen[l.Number] {
			return fmt.Errorf("transport: linknumber %d configured twice", l.Number)
		}
		seen[l.Number] = true
		if l.Link == nil {
			return fmt.Errorf("transport: link %d has no opened link", l.Number)
		}
		if l.Group.IsValid() && l.Group.Port() == 0 {
			return fmt.Errorf("transport: link %d: group address %s has no port", l.Number, l.Group)
		}
	}
	return checkNodes(c.Nodes, c.LocalNode)
}
