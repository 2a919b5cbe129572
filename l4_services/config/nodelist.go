package config

import (
	"encoding/binary"
	"fmt"
	"math"
)

// generateNodeID is generate_nodeid: the IPv4 address as a big-endian number;
// 0xffffffff (C's -1) means it is not IPv4.
func (s *loader) generateNodeID(addr string) uint32 {
	a, ok := s.resolve(addr, ipv4)
	if !ok {
		return math.MaxUint32
	}
	b := a.As4()
	id := binary.BigEndian.Uint32(b[:])
	if s.tc.clearHighBit {
		id &= 0x7fffffff
	}
	return id
}

// nodelistMembers finds the local node's id and replays put_nodelist_members_to_config.
func (s *loader) nodelistMembers() error {
	tc := &s.tc
	pos, _ := s.findLocalNode(true)
	if pos != -1 {
		nodeKey := fmt.Sprintf("nodelist.node.%d.", uint32(pos))
		tc.nodeID, _ = s.u32(nodeKey + "nodeid")
		if tc.transport == transportKnet && tc.nodeID == 0 {
			return s.failNode(nodeKey, "nodeid", "Knet requires an explicit nodeid for the local node")
		}
		if tc.transport != transportKnet && tc.nodeID == 0 {
			ring0, _ := s.str(nodeKey + "ring0_addr")
			if tc.nodeID = s.generateNodeID(ring0); tc.nodeID == math.MaxUint32 {
				return s.failNode(nodeKey, "ring0_addr", "An IPV6 network requires that a node ID be specified")
			}
		}
	}
	for i := range tc.links {
		tc.links[i].members = nil
	}
	last := uint32(math.MaxUint32)
	for _, key := range s.keys("nodelist.node.") {
		pos, _, n := scanNodeKey(key)
		if n != 2 || pos == last {
			continue
		}
		last = pos
		prefix := fmt.Sprintf("nodelist.node.%d.", pos)
		for _, k2 := range s.keys(prefix) {
			nodeid, _ := s.u32(prefix + "nodeid")
			_, linkNo, tail, n := scanRingKey(k2)
			if n != 3 || tail != "_addr" {
				continue
			}
			if linkNo >= interfaceMax {
				return s.fail(k2, "interface ring number %d is bigger than allowed maximum %d", linkNo, interfaceMax-1)
			}
			addr, ok := s.str(k2)
			if !ok {
				continue
			}
			copies := 1
			if nodeid == 0 && tc.transport != transportKnet {
				if ring0, ok := s.str(prefix + "ring0_addr"); ok {
					if nodeid = s.generateNodeID(ring0); nodeid == math.MaxUint32 {
						return s.fail(k2, "An IPV6 network requires that a node ID be specified for address '%s'.", addr)
					}
					// icmap is a libqb trie. When this address is the node's only key,
					// its trie node holds the whole ".ringN_addr" tail, and storing the
					// nodeid splits that node under the iterator, which then visits the
					// nodeid and this address again: corosync counts such a node twice
					// (seen in runtime.config.totem.token with token_coefficient).
					if len(s.keys(prefix)) == 1 {
						copies = 2
					}
					s.set(prefix+"nodeid", U32(nodeid))
				}
			}
			if nodeid == 0 && tc.transport == transportKnet {
				return s.fail(k2, "Knet requires an explicit nodeid to be specified for address '%s'.", addr)
			}
			if tc.transport == transportKnet && nodeid >= knetMaxHost {
				return s.fail(prefix+"nodeid", "Knet requires nodeid to be less than %d for address '%s'.", knetMaxHost, addr)
			}
			a, ok := s.resolve(addr, tc.ipVer)
			if !ok {
				return s.fail(k2, "failed to parse node address '%s'", addr)
			}
			l := &tc.links[linkNo]
			for ; copies > 0; copies-- {
				if len(l.members) >= processorCountMax {
					return s.fail(k2, "more than %d nodes on link %d", processorCountMax, linkNo)
				}
				l.members = append(l.members, member{addr: a, nodeid: nodeid})
			}
			l.configured = true
		}
	}
	s.configureLinkParams()
	return nil
}
