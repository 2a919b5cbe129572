package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultPort is corosync's mcastport; knet link N listens on DefaultPort+N.
const DefaultPort = 5405

// InterfaceSettings is one totem.interface.N section: how to open local link N.
type InterfaceSettings struct {
	Number   int
	Kind     string // knet_transport: udp (default), xdp or rdma
	Port     uint16 // mcastport + linknumber
	Priority int    // knet_link_priority
	MTUBytes int    // knet_mtu (0: discover)
	DSCP     uint8  // totem.ip_dscp
	Local    netip.AddrPort
	// Group is the multicast group of transport: udp (mcastaddr, or its default from the
	// cluster name); the link then runs in group mode. Invalid for every other transport.
	Group netip.Addr
	// Broadcast is broadcast: yes under transport: udp: group mode over the subnet
	// broadcast address instead of a group.
	Broadcast bool
	// TTL is the multicast TTL under transport: udp (ttl, default 1).
	TTL int
}

// Settings is a transport configuration read from corosync's flattened keys, before any
// link is opened.
type Settings struct {
	Config     Config
	Interfaces []InterfaceSettings
	// KeyFile is totem.keyfile (default /etc/corosync/authkey).
	KeyFile string
}

// FromKeys reads the transport settings from corosync.conf flattened into cmap keys, as
// corosync 3.1.7 names them (totem.*, totem.interface.N.*, nodelist.node.N.*).
// localNode selects which nodelist entry is this node. lookup resolves ringX_addr values
// that are host names; nil accepts address literals only (tests, fuzzing), and
// LookupHost uses the system resolver.
func FromKeys(keys map[string]string, localNode NodeID, lookup func(host string) (netip.Addr, error)) (*Settings, error) {
	s := &Settings{KeyFile: "/etc/corosync/authkey"}
	c := &s.Config
	c.LocalNode = localNode
	var err error
	getInt := func(key string, def int) int {
		v, ok := keys[key]
		if !ok || err != nil {
			return def
		}
		n, e := strconv.Atoi(strings.TrimSpace(v))
		if e != nil {
			err = fmt.Errorf("transport: %s = %q is not a number", key, v)
			return def
		}
		return n
	}
	ms := func(key string) time.Duration { return time.Duration(getInt(key, 0)) * time.Millisecond }

	c.Token = ms("totem.token")
	c.LinkMode = LinkMode(keys["totem.link_mode"])
	c.Crypto = CryptoConfig{Cipher: keys["totem.crypto_cipher"], Hash: keys["totem.crypto_hash"]}
	if keys["totem.secauth"] == "on" && c.Crypto.Cipher == "" {
		c.Crypto = CryptoConfig{Cipher: "aes256", Hash: "sha256"}
	}
	if f := keys["totem.keyfile"]; f != "" {
		s.KeyFile = f
	}
	c.Compress = CompressionConfig{
		Model:          keys["totem.knet_compression_model"],
		ThresholdBytes: getInt("totem.knet_compression_threshold", 0),
		Level:          getInt("totem.knet_compression_level", 0),
	}
	c.PMTUDInterval = time.Duration(getInt("totem.knet_pmtud_interval", 0)) * time.Second
	dscp := getInt("totem.ip_dscp", 0)
	mtu := getInt("totem.knet_mtu", 0)

	nodes, err2 := nodeList(keys, lookup)
	if err2 != nil {
		return nil, err2
	}
	c.Nodes = nodes

	links := map[int]bool{}
	for _, n := range nodes {
		for l, a := range n.Addrs {
			if a.IsValid() {
				links[l] = true
			}
		}
	}
	var numbers []int
	for l := range links {
		numbers = append(numbers, l)
	}
	sort.Ints(numbers)
	// totem.interface.N is keyed by linknumber in corosync's flattening.
	for _, l := range numbers {
		p := fmt.Sprintf("totem.interface.%d.", l)
		port := getInt(p+"mcastport", DefaultPort)
		linkPort := port + l
		ifs := InterfaceSettings{
			Number:   l,
			Kind:     keys[p+"knet_transport"],
			Priority: getInt(p+"knet_link_priority", 1),
			MTUBytes: mtu,
			DSCP:     uint8(dscp),
		}
		multicast := keys["totem.transport"] == "udp"
		if multicast {
			// corosync's udp ignores knet_transport and takes mcastport as it is.
			ifs.Kind, linkPort = "udp", udpPort(keys, p, l, port)
		}
		ifs.Port = uint16(linkPort)
		if ifs.Kind == "" {
			ifs.Kind = "udp"
		}
		switch ifs.Kind {
		case "udp", "xdp", "rdma", "mem":
		case "sctp":
			return nil, fmt.Errorf("transport: %sknet_transport sctp is not supported (deprecated in knet); use udp, xdp or rdma", p)
		default:
			return nil, fmt.Errorf("transport: %sknet_transport %q is not one of udp, xdp, rdma", p, ifs.Kind)
		}
		if port <= 0 || linkPort > 65535 || ifs.Priority < 0 || ifs.Priority > 255 {
			return nil, fmt.Errorf("transport: %s: mcastport or knet_link_priority out of range", strings.TrimSuffix(p, "."))
		}
		// The ping keys override the token-derived defaults for every link alike.
		if v := ms(p + "knet_ping_interval"); v > 0 {
			c.PingInterval = v
		}
		if v := ms(p + "knet_ping_timeout"); v > 0 {
			c.PingTimeout = v
		}
		if v := getInt(p+"knet_pong_count", 0); v > 0 {
			c.PongCount = v
		}
		for i := range c.Nodes {
			if a := c.Nodes[i].Addrs[l]; a.IsValid() {
				c.Nodes[i].Addrs[l] = netip.AddrPortFrom(a.Addr(), ifs.Port)
				if c.Nodes[i].ID == localNode {
					ifs.Local = c.Nodes[i].Addrs[l]
				}
			}
		}
		if !ifs.Local.IsValid() {
			return nil, fmt.Errorf("transport: this node (%d) has no ring%d_addr", localNode, l)
		}
		if multicast {
			if err := groupSettings(keys, p, l, &ifs, lookup); err != nil {
				return nil, err
			}
		}
		s.Interfaces = append(s.Interfaces, ifs)
	}
	if err != nil {
		return nil, err
	}
	if len(s.Interfaces) == 0 {
		return nil, fmt.Errorf("transport: the nodelist has no ringX_addr")
	}
	return s, nil
}

// nodeList reads nodelist.node.N.{nodeid,name,ringX_addr}.
func nodeList(keys map[string]string, lookup func(string) (netip.Addr, error)) ([]Node, error) {
	byIndex := map[int]*Node{}
	for k, v := range keys {
		rest, ok := strings.CutPrefix(k, "nodelist.node.")
		if !ok {
			continue
		}
		idx, field, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(idx)
		if err != nil {
			continue
		}
		n := byIndex[i]
		if n == nil {
			n = &Node{}
			byIndex[i] = n
		}
		switch {
		case field == "nodeid":
			id, err := strconv.ParseUint(v, 10, 32)
			if err != nil || id == 0 {
				return nil, fmt.Errorf("transport: %s = %q is not a non-zero node id", k, v)
			}
			n.ID = NodeID(id)
		case field == "name":
			n.Name = v
		case strings.HasPrefix(field, "ring") && strings.HasSuffix(field, "_addr"):
			l, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(field, "ring"), "_addr"))
			if err != nil || l < 0 || l >= MaxLinks {
				return nil, fmt.Errorf("transport: %s: link number must be 0..%d", k, MaxLinks-1)
			}
			a, err := resolve(v, lookup)
			if err != nil {
				return nil, fmt.Errorf("transport: %s = %q: %w", k, v, err)
			}
			n.Addrs[l] = netip.AddrPortFrom(a, 0)
		}
	}
	var idx []int
	for i := range byIndex {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var nodes []Node
	for _, i := range idx {
		n := byIndex[i]
		if n.ID == 0 {
			return nil, fmt.Errorf("transport: nodelist.node.%d has no nodeid (knet needs one)", i)
		}
		nodes = append(nodes, *n)
	}
	return nodes, nil
}

// resolve accepts an address literal, or a host name when lookup is set.
func resolve(s string, lookup func(string) (netip.Addr, error)) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), nil
	}
	if lookup == nil {
		return netip.Addr{}, fmt.Errorf("not an IP address")
	}
	return lookup(s)
}

// LookupHost resolves a host name with the system resolver (first address, unmapped).
func LookupHost(s string) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	as, err := net.DefaultResolver.LookupNetIP(ctx, "ip", s)
	if err != nil || len(as) == 0 {
		return netip.Addr{}, fmt.Errorf("cannot resolve %q", s)
	}
	return as[0].Unmap(), nil
}
