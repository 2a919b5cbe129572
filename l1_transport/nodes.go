package transport

import (
	"fmt"
	"net/netip"
	"slices"
)

// peerTable is the node table as the send, receive and heartbeat paths see it. It is
// never modified: SetNodes builds a new one and swaps it in, so those paths read it with
// one atomic load and no lock.
type peerTable struct {
	byID  map[NodeID]*peer
	order []*peer // node-table order, for broadcasts
}

// peers returns the node table in force.
func (t *Transport) peers() *peerTable { return t.table.Load() }

// newPeerFor builds the state for node n with a link wherever both n and this node have
// one.
func (t *Transport) newPeerFor(n Node) *peer {
	p := newPeer(n, t.cfg.MaxMessageBytes)
	for num, ll := range t.links {
		if ll != nil && n.Addrs[num].IsValid() {
			p.links[num] = &peerLink{number: num, addr: n.Addrs[num], pmtu: ll.mtuBytes()}
			p.links[num].pmtud.reset(ll.mtuBytes())
		}
	}
	return p
}

// buildTable returns the table for nodes, reusing the peers of old whose name and
// addresses are unchanged so that their sessions, replay windows and link state survive.
func (t *Transport) buildTable(nodes []Node, old *peerTable) (tbl *peerTable, added, removed []NodeID) {
	tbl = &peerTable{byID: map[NodeID]*peer{}}
	for _, n := range nodes {
		if n.ID == t.cfg.LocalNode {
			continue
		}
		p := old.byID[n.ID]
		if p == nil || p.name != n.Name || p.addrs() != n.Addrs {
			p = t.newPeerFor(n)
			added = append(added, n.ID)
		}
		tbl.byID[n.ID] = p
		tbl.order = append(tbl.order, p)
	}
	for _, p := range old.order {
		if tbl.byID[p.id] != p {
			removed = append(removed, p.id)
		}
	}
	return tbl, added, removed
}

// SetNodes replaces the node table at run time, as corosync's reload does with
// totemknet_member_add and totemknet_member_remove. Nodes that keep their name and
// addresses keep their state; a node whose addresses changed is removed and added again.
// Packets of removed nodes are dropped as coming from unknown nodes from then on. The
// local node must stay in the table and its addresses cannot change (the links are open).
func (t *Transport) SetNodes(nodes []Node) (added, removed []NodeID, err error) {
	if err := checkNodes(nodes, t.cfg.LocalNode); err != nil {
		return nil, nil, err
	}
	for _, n := range nodes {
		if n.ID != t.cfg.LocalNode {
			continue
		}
		for num, ll := range t.links {
			if ll != nil && n.Addrs[num].IsValid() && n.Addrs[num] != ll.l.LocalAddr() {
				return nil, nil, fmt.Errorf("transport: the local address of link %d cannot change at run time (%s → %s)", num, ll.l.LocalAddr(), n.Addrs[num])
			}
		}
	}
	t.tableMu.Lock()
	defer t.tableMu.Unlock()
	tbl, added, removed := t.buildTable(nodes, t.peers())
	t.table.Store(tbl)
	for _, id := range added {
		t.log.Debug(fmt.Sprintf("knet: member_add: %d", id))
	}
	for _, id := range removed {
		t.log.Debug(fmt.Sprintf("knet: member_remove: %d", id))
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed, nil
}

// checkNodes refuses node tables corosync would not load: id 0, an id twice, or no entry
// for the local node.
func checkNodes(nodes []Node, local NodeID) error {
	ids := map[NodeID]bool{}
	found := false
	for _, n := range nodes {
		if n.ID == 0 {
			return fmt.Errorf("transport: node %q has id 0", n.Name)
		}
		if ids[n.ID] {
			return fmt.Errorf("transport: node id %d listed twice", n.ID)
		}
		ids[n.ID] = true
		found = found || n.ID == local
	}
	if !found {
		return fmt.Errorf("transport: local node %d is not in the node list", local)
	}
	return nil
}

// addrs returns the peer's configured address per link.
func (p *peer) addrs() [MaxLinks]netip.AddrPort {
	var out [MaxLinks]netip.AddrPort
	for i, pl := range p.links {
		if pl != nil {
			out[i] = pl.addr
		}
	}
	return out
}
