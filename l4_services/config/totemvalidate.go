package config

import (
	"fmt"
	"math"
)

// totemConfigValidate replays totem_config_validate and totem_volatile_config_validate.
func (s *loader) totemConfigValidate() error {
	tc := &s.tc
	configured := 0
	for i := range tc.links {
		if tc.links[i].configured {
			configured++
		}
	}
	if configured == 0 {
		return s.fail("", "No interfaces defined")
	}
	if _, ok := s.u32("nodelist.local_node_pos"); !ok {
		return s.fail("", "No valid name found for local host")
	}
	for i := range tc.links {
		l := &tc.links[i]
		if !l.configured {
			continue
		}
		prefix := fmt.Sprintf("totem.interface.%d.", i)
		switch {
		case tc.transport == transportUDP && !l.mcast.IsValid():
			return s.fail(prefix+"mcastaddr", "No multicast address specified for interface %d", i)
		case l.port == 0:
			return s.fail(prefix+"mcastport", "No multicast port specified for interface %d", i)
		case tc.transport != transportUDP && l.ttl != 1:
			return s.fail(prefix+"ttl", "Can only set ttl on multicast transport types for interface %d", i)
		case tc.transport != transportKnet && l.priority != 1:
			return s.fail(prefix+"knet_link_priority", "Can only set link priority on knet transport type for interface %d", i)
		case l.mcast.IsValid() && l.mcast.Is6() && tc.nodeID == 0:
			return s.fail("", "An IPV6 network requires that a node ID be specified for interface %d", i)
		}
		if !tc.broadcast && tc.transport == transportUDP {
			if l.mcast.Is6() != l.bindnet.Is6() || l.mcast.IsValid() != l.bindnet.IsValid() {
				return s.fail(prefix+"mcastaddr", "Multicast address family does not match bind address family for interface %d", i)
			}
			if l.mcast.Is4() && l.mcast.As4()[0]>>4 != 0xe {
				return s.fail(prefix+"mcastaddr", "mcastaddr is not a correct multicast address for interface %d", i)
			}
		}
	}
	if tc.version != 2 {
		return s.fail("totem.version", "This totem parser can only parse version 2 configurations.")
	}
	if err := s.volatileValidate(); err != nil {
		return err
	}
	if err := s.duplicateNodeIDs(); err != nil {
		return err
	}
	if !oneOf(tc.linkMode, "active", "rr", "passive") {
		return s.fail("totem.link_mode", "The Knet link mode \"%s\" specified is invalid.  It must be active, passive or rr.", tc.linkMode)
	}
	if tc.transport != transportKnet {
		if configured > 1 {
			return s.fail("", "%d is too many configured interfaces for non-Knet transport.", configured)
		}
		if tc.cipher != "none" || tc.hash != "none" {
			return s.fail("totem.crypto_cipher", "crypto_cipher & crypto_hash are only valid for the Knet transport.")
		}
	}
	return nil
}

// volatileValidate is totem_volatile_config_validate (C prints the unsigned values with
// %d, hence the int32 conversions).
func (s *loader) volatileValidate() error {
	tc := &s.tc
	d := func(v uint32) int32 { return int32(v) }
	switch {
	case tc.maxNetDelay < minimumTimeout:
		return s.fail("totem.max_network_delay", "The max_network_delay parameter (%d ms) may not be less than (%d ms).", d(tc.maxNetDelay), minimumTimeout)
	case tc.token < minimumTimeout:
		return s.fail("totem.token", "The token timeout parameter (%d ms) may not be less than (%d ms).", d(tc.token), minimumTimeout)
	case tc.tokenWarning > 100:
		return s.fail("totem.token_warning", "The token warning parameter (%d%%) must be between 0 (disabled) and 100.", d(tc.tokenWarning))
	case tc.tokenRetrans < minimumTimeout:
		if _, ok := s.u32("totem.token_retransmit"); ok {
			return s.fail("totem.token_retransmit", "The token retransmit timeout parameter (%d ms) may not be less than (%d ms).", d(tc.tokenRetrans), minimumTimeout)
		}
		return s.fail("totem.token", "Not appropriate token or token_retransmits_before_loss_const value set")
	case tc.hold < minimumTimeoutHld:
		return s.fail("totem.hold", "The token hold timeout parameter (%d ms) may not be less than (%d ms).", d(tc.hold), minimumTimeoutHld)
	case tc.join < minimumTimeout:
		return s.fail("totem.join", "The join timeout parameter (%d ms) may not be less than (%d ms).", d(tc.join), minimumTimeout)
	case tc.consensus < minimumTimeout:
		return s.fail("totem.consensus", "The consensus timeout parameter (%d ms) may not be less than (%d ms).", d(tc.consensus), minimumTimeout)
	case tc.consensus < tc.join:
		return s.fail("totem.consensus", "The consensus timeout parameter (%d ms) may not be less than join timeout (%d ms).", d(tc.consensus), d(tc.join))
	case tc.merge < minimumTimeout:
		return s.fail("totem.merge", "The merge timeout parameter (%d ms) may not be less than (%d ms).", d(tc.merge), minimumTimeout)
	case tc.downcheck < minimumTimeout:
		return s.fail("totem.downcheck", "The downcheck timeout parameter (%d ms) may not be less than (%d ms).", d(tc.downcheck), minimumTimeout)
	}
	configured, members := 0, -1
	for i := range tc.links {
		if tc.links[i].configured {
			if configured == 0 {
				members = len(tc.links[i].members)
			}
			configured++
		}
	}
	if configured > 1 {
		for i := 0; i < members; i++ {
			if _, ok := s.str(fmt.Sprintf("nodelist.node.%d.name", i)); !ok {
				return s.fail(fmt.Sprintf("nodelist.node.%d.ring0_addr", i), "for a multi-link configuration, all nodes must have a 'name' attribute")
			}
		}
		for i := range tc.links {
			if tc.links[i].configured && len(tc.links[i].members) != members {
				return s.fail("", "Not all nodes have the same number of links")
			}
		}
	}
	for i := range tc.links {
		l := &tc.links[i]
		if !l.configured {
			continue
		}
		for j := 1; j < len(l.members); j++ {
			if l.members[j].addr.Is4() != l.members[0].addr.Is4() {
				return s.fail("", "Nodes for link %d have different IP families (compared %s with %s)",
					i, ipString(l.members[j].addr), ipString(l.members[0].addr))
			}
		}
	}
	return nil
}

// duplicateNodeIDs is check_for_duplicate_nodeids, with its quirks: it walks the nodes in
// icmap key order (node 10 before node 2), compares each only with the nodes before it in
// that order that have an explicit nodeid, and reports the last duplicate it finds.
func (s *loader) duplicateNodeIDs() error {
	var err error
	keys := s.keys("nodelist.node.")
	last := uint32(math.MaxUint32)
	nodeID := func(pos uint32) (uint32, string, bool) {
		prefix := fmt.Sprintf("nodelist.node.%d.", pos)
		if id, ok := s.u32(prefix + "nodeid"); ok {
			return id, "", true
		}
		ring0, ok := s.str(prefix + "ring0_addr")
		if !ok {
			return 0, "", false
		}
		id := s.generateNodeID(ring0)
		return id, ring0, id != math.MaxUint32
	}
	for _, key := range keys {
		pos, _, n := scanNodeKey(key)
		if n != 2 || pos == last {
			continue
		}
		last = pos
		id, ring0, ok := nodeID(pos)
		if !ok {
			continue
		}
		var pos1 uint32
		for _, k2 := range keys {
			if pos1 >= pos {
				break
			}
			p1, item, n := scanNodeKey(k2)
			if n >= 1 {
				pos1 = p1
			}
			if n != 2 || pos1 >= pos || item != "nodeid" {
				continue
			}
			id1, _, ok := nodeID(pos1)
			if !ok || id != id1 {
				continue
			}
			what, at := "", fmt.Sprintf("nodelist.node.%d.nodeid", pos)
			if ring0 != "" {
				what, at = "(autogenerated from "+ring0+")", fmt.Sprintf("nodelist.node.%d.ring0_addr", pos)
			}
			err = s.fail(at, "Nodeid %d%s appears twice in corosync.conf", id, what)
			break
		}
	}
	return err
}
