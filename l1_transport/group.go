package transport

import (
	"net/netip"
	"sync/atomic"
)

// Group mode (corosync's transport: udp). A link with a group address sends a broadcast
// once, to the group, instead of once per peer. Group packets carry dst 0 and a sequence
// number from the sender's group sequence space, separate from its per-peer ones; so their
// nonce (dst‖seq) never meets a unicast one under the sender's session key, and receivers
// keep a second replay window per peer for them. Heartbeats, path-MTU probes and packets
// to one node stay unicast.

// groupState is the transport's group-mode state.
type groupState struct {
	// links holds, per link in group mode, a peerLink standing for the whole group: its
	// address is the group's, and its counters are the group's (flush and the receive
	// path count on it as on any peer link).
	links [MaxLinks]*peerLink
	any   bool
	txSeq uint64 // guarded by txMu
	rr    int    // guarded by txMu
	// own counts our own group packets the kernel handed back (broadcasts always come
	// back to the sending host); they are ignored, not counted as drops.
	own [MaxLinks]atomic.Uint64
	// reach is scratch for broadcast: per peer of the peer table's order, bit N set when the peer has an
	// address on link N (has) and when that link is up (up). Guarded by txMu.
	reach []peerReach
}

type peerReach struct{ has, up uint8 }

// initGroups sets up group mode for the links that have a group address.
func (t *Transport) initGroups() {
	for _, ls := range t.cfg.Links {
		if ls.Group.IsValid() {
			t.group.links[ls.Number] = &peerLink{number: ls.Number, addr: ls.Group}
			t.group.any = true
			t.log.Info("link sends broadcasts to its group", "link", ls.Number, "group", ls.Group)
		}
	}
}

// broadcast sends one message to every other node. Without group links that is one
// unicast per peer. With them, the message goes once on the group links the link mode
// picks, and as unicast only to peers those links do not reach (no address on them, or
// up on other links only). Called with txMu held.
func (t *Transport) broadcast(body []byte, model uint8) {
	// One snapshot of the peers for both passes: reach is indexed by it.
	order := t.peers().order
	if !t.group.any {
		for _, p := range order {
			t.sendData(p, body, model)
		}
		return
	}
	var members, upOn, mtu [MaxLinks]int
	for num, ll := range t.links {
		if ll != nil {
			mtu[num] = ll.mtuBytes()
		}
	}
	g := &t.group
	g.reach = g.reach[:0]
	for _, p := range order {
		var r peerReach
		p.mu.Lock()
		for num, pl := range p.links {
			if pl == nil {
				continue
			}
			r.has |= 1 << num
			if pl.up {
				r.up |= 1 << num
			}
			if g.links[num] != nil {
				members[num]++
				mtu[num] = min(mtu[num], pl.pmtu)
				if pl.up {
					upOn[num]++
				}
			}
		}
		p.mu.Unlock()
		g.reach = append(g.reach, r)
	}
	var chosen [MaxLinks]*peerLink
	picked := t.chooseGroupLinks(chosen[:0], members, upOn)
	var mask uint8
	size := t.cfg.MaxMessageBytes + headerBytes + tagBytes
	for _, gl := range picked {
		mask |= 1 << gl.number
		size = min(size, mtu[gl.number])
	}
	if len(picked) > 0 {
		t.emit(picked, size, Broadcast, &g.txSeq, body, model)
	}
	for i, p := range order {
		r := g.reach[i]
		// A peer that is up nowhere takes data on every configured link (chooseLinks), so
		// a group link it has is as good as any.
		if r.has&mask != 0 && (r.up&mask != 0 || r.up == 0) {
			continue
		}
		t.sendData(p, body, model)
	}
}

// chooseGroupLinks appends the group links a broadcast goes out on, as chooseLinks does
// for one peer: among group links with members, those up towards some member, or all of
// them when none is up yet; then all (active), one in turn (rr), or the one with the
// highest knet_link_priority (passive). Called with txMu held.
func (t *Transport) chooseGroupLinks(out []*peerLink, members, upOn [MaxLinks]int) []*peerLink {
	var candidates, up [MaxLinks]*peerLink
	nc, nu := 0, 0
	for num, gl := range t.group.links {
		if gl == nil || members[num] == 0 {
			continue
		}
		candidates[nc] = gl
		nc++
		if upOn[num] > 0 {
			up[nu] = gl
			nu++
		}
	}
	if nu == 0 {
		return append(out, candidates[:nc]...)
	}
	switch t.cfg.LinkMode {
	case Active:
		return append(out, up[:nu]...)
	case RoundRobin:
		t.group.rr = (t.group.rr + 1) % nu
		return append(out, up[t.group.rr])
	}
	best, prio := up[0], &t.tune().priority
	for _, gl := range up[1:nu] {
		if prio[gl.number] > prio[best.number] {
			best = gl
		}
	}
	return append(out, best)
}

// acceptGroup decides on a packet not addressed to this node: a data packet to the group
// on a link in group mode goes on; our own group packets are ignored; everything else is
// dropped as misdirected (pings and pongs are never sent to the group).
func (t *Transport) acceptGroup(ll *localLink, h *header) bool {
	if h.dst != Broadcast || t.group.links[ll.number] == nil {
		t.drops.add(dropMisdirected)
		return false
	}
	if h.src == t.cfg.LocalNode {
		t.group.own[ll.number].Add(1)
		return false
	}
	if h.typ != typeData {
		t.drops.add(dropMisdirected)
		return false
	}
	return true
}

// countGroupRx counts an authenticated group packet on its link's group counters.
func (t *Transport) countGroupRx(ll *localLink, bytes int) {
	gl := t.group.links[ll.number]
	gl.rx[kindData].add(1, uint64(bytes))
}

// GroupStats counts the traffic of one link in group mode with its group.
type GroupStats struct {
	Link int
	// Addr is where group packets go: the multicast group or broadcast address and port.
	Addr netip.AddrPort
	// TxPackets and TxBytes count packets sent to the group (each reaches every peer on
	// the link); TxErrors those the link refused.
	TxPackets, TxBytes, TxErrors uint64
	// RxPackets and RxBytes count authenticated group packets from peers.
	RxPackets, RxBytes uint64
	// RxOwn counts our own group packets that came back and were ignored.
	RxOwn uint64
}

// groupStats snapshots the group counters of every link in group mode.
func (t *Transport) groupStats() []GroupStats {
	var out []GroupStats
	for num, gl := range t.group.links {
		if gl == nil {
			continue
		}
		// Only data goes to a group: heartbeats and probes stay unicast.
		tx, rx := gl.tx[kindData].load(), gl.rx[kindData].load()
		out = append(out, GroupStats{
			Link: num, Addr: gl.addr,
			TxPackets: tx.Packets, TxBytes: tx.Bytes, TxErrors: gl.txErrors[kindData].Load(),
			RxPackets: rx.Packets, RxBytes: rx.Bytes, RxOwn: t.group.own[num].Load(),
		})
	}
	return out
}
