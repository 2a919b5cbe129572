package config

import (
	"fmt"
	"net/netip"
	"strconv"
)

// nodelistToInterfaces is config_convert_nodelist_to_interface: the local node's ring
// addresses become the links' bind addresses.
func (s *loader) nodelistToInterfaces() {
	pos, _ := s.findLocalNode(true)
	if pos <= -1 {
		return
	}
	for _, k := range s.keys(fmt.Sprintf("nodelist.node.%d.", uint32(pos))) {
		_, linkNo, tail, n := scanRingKey(k)
		if n != 3 || tail != "_addr" {
			continue
		}
		if addr, ok := s.str(k); ok {
			key := fmt.Sprintf("totem.interface.%d.bindnetaddr", linkNo)
			s.set(key, Str(addr))
			if s.origin == nil {
				s.origin = map[string]string{}
			}
			s.origin[key] = k
		}
	}
}

// interfaceParams replays get_interface_params (first read, not a reload) for every
// totem.interface.<link>.<item> key, in icmap order.
func (s *loader) interfaceParams() error {
	tc := &s.tc
	clusterName, hasName := s.str("totem.cluster_name")
	autoVer := ipv4
	for _, key := range s.keys("totem.interface.") {
		seg, item, ok := scanSegment(key, "totem.interface.")
		if !ok {
			continue
		}
		if item != "bindnetaddr" && tc.transport == transportUDP {
			continue
		}
		linkNo := uint32(atoi(seg))
		if linkNo >= interfaceMax {
			return s.fail(key, "interface ring number %d is bigger than allowed maximum %d", linkNo, interfaceMax-1)
		}
		l := &tc.links[linkNo]
		prefix := fmt.Sprintf("totem.interface.%d.", linkNo)
		if v, ok := s.str(prefix + "bindnetaddr"); ok {
			a, ok := s.resolve(v, tc.ipVer)
			if !ok {
				return s.fail(prefix+"bindnetaddr", "failed to parse bindnet address '%s'", v)
			}
			l.bindnet = a
		}
		if v, ok := s.str(prefix + "mcastaddr"); ok {
			a, ok := s.resolve(v, tc.ipVer)
			if !ok {
				return s.fail(prefix+"mcastaddr", "failed to parse mcast address '%s'", v)
			}
			l.mcast = a
		} else if tc.transport == transportUDP {
			if b := tc.links[0].bindnet; b.IsValid() {
				autoVer = ipv4
				if b.Is6() {
					autoVer = ipv6
				}
			}
			if hasName {
				l.mcast = clusterMcastAddr(clusterName, linkNo, autoVer)
			}
		}
		if v, ok := s.str(prefix + "broadcast"); ok && v == "yes" {
			tc.broadcast = true
		}
		if p, ok := s.u16(prefix + "mcastport"); ok {
			l.port = p
		} else if tc.broadcast {
			l.port = uint16(defaultPort + 2*linkNo)
		} else {
			l.port = uint16(defaultPort + linkNo)
		}
		l.ttl = 1
		if v, ok := s.u8(prefix + "ttl"); ok {
			l.ttl = uint16(v)
		}
		if v, ok := s.str(prefix + "knet_transport"); ok && v != "sctp" && v != "udp" {
			return s.fail(prefix+"knet_transport", "Unrecognised knet_transport. expected 'udp' or 'sctp'")
		}
		l.configured = true
		l.priority = 1
		if v, ok := s.u8(prefix + "knet_link_priority"); ok {
			l.priority = int32(v)
		}
		l.pingInterval, l.pingTimeout, l.pingPrecision, l.pongCount = 0, 0, knetPingPrecision, knetPongCount
		if v, ok := s.u32(prefix + "knet_ping_interval"); ok {
			l.pingInterval = int32(v)
		}
		if v, ok := s.u32(prefix + "knet_ping_timeout"); ok {
			l.pingTimeout = int32(v)
		}
		if v, ok := s.u32(prefix + "knet_ping_precision"); ok {
			l.pingPrecision = int32(v)
		}
		if v, ok := s.u32(prefix + "knet_pong_count"); ok {
			l.pongCount = int32(v)
		}
		// Deprecated member lists count only without a nodelist.
		l.members = l.members[:0]
		for _, mk := range s.keys(prefix + "member.") {
			if _, ok := s.str("nodelist.node.0.ring0_addr"); ok {
				break
			}
			v, ok := s.str(mk)
			if !ok {
				continue
			}
			a, ok := s.resolve(v, tc.ipVer)
			if !ok {
				return s.fail(mk, "failed to parse node address '%s'", v)
			}
			if len(l.members) >= processorCountMax {
				return s.fail(mk, "more than %d members on link %d", processorCountMax, linkNo)
			}
			l.members = append(l.members, member{addr: a})
		}
	}
	return nil
}

// clusterMcastAddr is get_cluster_mcast_addr: udp's default multicast address, derived
// from the cluster name (bytes as C's signed char) and the link number.
func clusterMcastAddr(name string, linkNo uint32, ver ipVersion) netip.Addr {
	var value int32
	for i := 0; i < len(name); i++ {
		value = value<<1 + int32(int8(name[i]))
	}
	id := uint16(uint16(value&0xffff) + uint16(linkNo))
	var text string
	if ver == ipv4 || ver == ipv4v6 {
		text = fmt.Sprintf("239.192.%d.%d", id>>8, id%0xff)
	} else {
		text = "ff15::" + strconv.FormatUint(uint64(id), 16)
	}
	a, _ := parseNumeric(text)
	return a
}

// configureLinkParams is configure_link_params: for every link on which the local node
// (looked up again, without the cache) has an address, zero settings take their defaults.
// So an explicit knet_link_priority, knet_ping_precision, knet_pong_count or mcastport of
// 0 is replaced rather than rejected.
func (s *loader) configureLinkParams() {
	pos, _ := s.findLocalNode(false)
	for i := range s.tc.links {
		l := &s.tc.links[i]
		if !l.configured {
			continue
		}
		addr, ok := s.str(fmt.Sprintf("nodelist.node.%d.ring%d_addr", uint32(pos), i))
		if !ok {
			continue
		}
		if _, ok := s.resolve(addr, s.tc.ipVer); !ok {
			continue
		}
		if l.priority == 0 {
			l.priority = 1
		}
		if l.pingPrecision == 0 {
			l.pingPrecision = knetPingPrecision
		}
		if l.pongCount == 0 {
			l.pongCount = knetPongCount
		}
		if l.port == 0 {
			l.port = uint16(defaultPort + i)
		}
	}
}
