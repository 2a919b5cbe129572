package config

import (
	"net/netip"
	"strings"
)

// nodelistByName is nodelist_byname: the position of the first node (in icmap key order)
// whose name, or else ring0_addr, equals find; with stripDomain the node's value is cut at
// its first dot. -1 when none matches.
func (s *loader) nodelistByName(find string, stripDomain bool) int32 {
	for _, key := range s.keys("nodelist.node.") {
		pos, item, n := scanNodeKey(key)
		if n != 2 || (item != "name" && item != "ring0_addr") {
			continue
		}
		name, ok := s.str(key)
		if !ok {
			continue
		}
		if stripDomain {
			if dot := strings.IndexByte(name, '.'); dot >= 0 {
				name = name[:dot]
			}
		}
		if find == name {
			return int32(pos)
		}
	}
	return -1
}

// findLocalNode is find_local_node: the local node's position in the nodelist, found by
// host name, then shorter forms of it, then the names and (IPv4) numeric forms of the
// interface addresses, then by resolving every node name and ring0 address to an
// interface address. When found, nodelist.local_node_pos is stored.
//
// As in corosync, a failed search returns the position of the last nodelist key examined
// rather than -1 when the nodelist is not empty, and callers act on it.
func (s *loader) findLocalNode(useCache bool) (int32, bool) {
	if useCache {
		if v, ok := s.u32("nodelist.local_node_pos"); ok {
			return int32(v), true
		}
	}
	pos, found := s.searchLocalNode()
	if found {
		s.set("nodelist.local_node_pos", U32(uint32(pos)))
	}
	return pos, found
}

func (s *loader) searchLocalNode() (int32, bool) {
	node := s.host.Hostname
	if p := s.nodelistByName(node, false); p > -1 {
		return p, true
	}
	name := node
	for dot := strings.LastIndexByte(name, '.'); dot >= 0; dot = strings.LastIndexByte(name, '.') {
		name = name[:dot]
		if p := s.nodelistByName(name, false); p > -1 {
			return p, true
		}
	}
	if p := s.nodelistByName(name, true); p > -1 {
		return p, true
	}
	for _, a := range s.host.Addrs {
		// getnameinfo without NI_NAMEREQD falls back to the numeric form.
		host := a.String()
		if s.host.LookupAddr != nil {
			if n, err := s.host.LookupAddr(s.ctx, a); err == nil && n != "" {
				host = n
			}
		}
		if p := s.nodelistByName(host, false); p > -1 {
			return p, true
		}
		if dot := strings.IndexByte(host, '.'); dot >= 0 {
			if p := s.nodelistByName(host[:dot], false); p > -1 {
				return p, true
			}
		}
		// corosync asks for the numeric form with sizeof(struct sockaddr), which only an
		// IPv4 address fits.
		if a.Is4() {
			if p := s.nodelistByName(a.String(), false); p > -1 {
				return p, true
			}
		}
	}
	last := int32(-1)
	for _, key := range s.keys("nodelist.node.") {
		pos, item, n := scanNodeKey(key)
		if n >= 1 {
			last = int32(pos)
		}
		if n != 2 || (item != "name" && item != "ring0_addr") {
			continue
		}
		name, ok := s.str(key)
		if !ok {
			continue
		}
		var addrs []netip.Addr
		if a, ok := parseNumeric(name); ok {
			addrs = append(addrs, a)
		} else if s.host.LookupIP != nil {
			list, err := s.host.LookupIP(s.ctx, name)
			if err != nil {
				continue
			}
			addrs = append(addrs, list...)
		}
		for _, r := range addrs {
			for _, l := range s.host.Addrs {
				if r.Unmap().WithZone("") == l.Unmap().WithZone("") {
					return int32(pos), true
				}
			}
		}
	}
	return last, false
}
