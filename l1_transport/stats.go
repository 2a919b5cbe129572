package transport

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// dropReason says why a received packet was refused (or a send was impossible).
type dropReason int

const (
	dropTruncated dropReason = iota
	dropBadMagic
	dropBadVersion
	dropMalformed
	dropMisdirected
	dropUnknownNode
	dropWrongSource
	dropStaleSession
	dropReplayed
	dropAuth
	dropBadFragment
	dropDecompress
	dropTooLarge
	dropNoLink
	dropBadSlot
	dropReasons
)

var dropNames = [dropReasons]string{
	"truncated", "bad_magic", "bad_version", "malformed", "misdirected", "unknown_node",
	"wrong_source", "stale_session", "replayed", "auth_failed", "bad_fragment",
	"decompress_failed", "too_large", "no_link", "bad_slot",
}

type dropCounters [dropReasons]atomic.Uint64

func (d *dropCounters) add(r dropReason) { d[r].Add(1) }

// LinkStats describes one link to one peer, as the cmap stats.knet.nodeN.linkM keys do.
type LinkStats struct {
	Node      NodeID
	Link      int
	Addr      netip.AddrPort
	Connected bool
	MTUBytes  int
	// Tx and Rx count every packet on the wire (header and tag included); the per-kind
	// counts split them into data, heartbeat pings and pongs, and path-MTU probes and
	// their answers.
	TxPackets, TxBytes uint64
	RxPackets, RxBytes uint64
	TxData, TxPing     Traffic
	TxPong, TxPMTU     Traffic
	RxData, RxPing     Traffic
	RxPong, RxPMTU     Traffic
	// TxErrors counts packets the link failed to send; the per-kind counts split them.
	TxErrors                                               uint64
	TxDataErrors, TxPingErrors, TxPongErrors, TxPMTUErrors uint64
	// RxDropped counts packets from this peer on this link that were refused (replayed,
	// failed authentication, malformed, ...); Stats.Drops has the reasons.
	RxDropped              uint64
	LatencyMin, LatencyMax time.Duration
	LatencyAvg             time.Duration
	LatencySamples         uint64
	UpCount, DownCount     uint64
}

// LoopbackMTUBytes is the MTU knet reports for a node's link to itself.
const LoopbackMTUBytes = 65535

// Stats is a snapshot of the transport's counters.
type Stats struct {
	Links []LinkStats
	// Loopback are this node's links to itself, one per local link, as knet's loopback
	// links: always connected, never measured; the first counts as data sent what this
	// node was asked to broadcast (knet delivers broadcasts to the sender too).
	Loopback []LinkStats
	// Handle is knet's handle statistics: compression and encryption.
	Handle HandleStats
	// Drops counts refused packets by reason (truncated, auth_failed, replayed, ...).
	Drops map[string]uint64
	// Groups has one entry per link in group mode. A group packet also counts in the
	// sending peer's LinkStats on receipt, never in any peer's TxPackets.
	Groups []GroupStats
}

// Stats returns the counters of every peer link, the loopback links, the handle
// statistics and the drop counts.
func (t *Transport) Stats() Stats {
	s := Stats{Drops: map[string]uint64{}, Groups: t.groupStats(), Handle: t.handleStats()}
	for i := range t.drops {
		s.Drops[dropNames[i]] = t.drops[i].Load()
	}
	for _, p := range t.peers().order {
		p.mu.Lock()
		for _, pl := range p.links {
			if pl == nil {
				continue
			}
			ls := LinkStats{
				Node: p.id, Link: pl.number, Addr: pl.addr, Connected: pl.up, MTUBytes: pl.pmtu,
				TxData: pl.tx[kindData].load(), TxPing: pl.tx[kindPing].load(), TxPong: pl.tx[kindPong].load(), TxPMTU: pl.tx[kindPMTU].load(),
				RxData: pl.rx[kindData].load(), RxPing: pl.rx[kindPing].load(), RxPong: pl.rx[kindPong].load(), RxPMTU: pl.rx[kindPMTU].load(),
				TxDataErrors: pl.txErrors[kindData].Load(), TxPingErrors: pl.txErrors[kindPing].Load(),
				TxPongErrors: pl.txErrors[kindPong].Load(), TxPMTUErrors: pl.txErrors[kindPMTU].Load(),
				RxDropped:  pl.rxDropped.Load(),
				LatencyMin: pl.rttMin, LatencyMax: pl.rttMax, LatencySamples: pl.rttSamples,
				UpCount: pl.upCount, DownCount: pl.downCount,
			}
			for _, c := range []Traffic{ls.TxData, ls.TxPing, ls.TxPong, ls.TxPMTU} {
				ls.TxPackets += c.Packets
				ls.TxBytes += c.Bytes
			}
			for _, c := range []Traffic{ls.RxData, ls.RxPing, ls.RxPong, ls.RxPMTU} {
				ls.RxPackets += c.Packets
				ls.RxBytes += c.Bytes
			}
			ls.TxErrors = ls.TxDataErrors + ls.TxPingErrors + ls.TxPongErrors + ls.TxPMTUErrors
			if pl.rttSamples > 0 {
				ls.LatencyAvg = pl.rttSum / time.Duration(pl.rttSamples)
			}
			s.Links = append(s.Links, ls)
			s.Handle.RxCryptPackets += pl.rxCrypt.Load()
		}
		p.mu.Unlock()
	}
	first := true
	for _, ll := range t.links {
		if ll == nil {
			continue
		}
		ls := LinkStats{Node: t.cfg.LocalNode, Link: ll.number, Addr: ll.l.LocalAddr(), Connected: true, MTUBytes: LoopbackMTUBytes, UpCount: 1}
		if first {
			ls.TxData = t.loopback.load()
			ls.TxPackets, ls.TxBytes = ls.TxData.Packets, ls.TxData.Bytes
			first = false
		}
		s.Loopback = append(s.Loopback, ls)
	}
	return s
}

// ContinuousSendFailures is how many packets the links refused to send since a batch last
// went out whole: a run of failures means a local fault (firewall, interface down).
func (t *Transport) ContinuousSendFailures() uint64 { return t.sendFailStreak.Load() }

// ClearStats zeroes the handle statistics and every link's counters, latency and up and
// down counts (knet_handle_clear_stats with KNET_CLEARSTATS_HANDLE_AND_LINK, which
// corosync-cmapctl -C knet asks for). Drop counts by reason are ours and stay.
func (t *Transport) ClearStats() {
	t.clearHandle()
	t.loopback.reset()
	for _, p := range t.peers().order {
		p.mu.Lock()
		for _, pl := range p.links {
			if pl == nil {
				continue
			}
			for k := range packetKinds {
				pl.tx[k].reset()
				pl.rx[k].reset()
				pl.txErrors[k].Store(0)
			}
			pl.rxDropped.Store(0)
			pl.rxCrypt.Store(0)
			pl.rttMin, pl.rttMax, pl.rttSum, pl.rttSamples = 0, 0, 0, 0
			pl.upCount, pl.downCount = 0, 0
		}
		p.mu.Unlock()
	}
}

// LinkUp reports whether node's link num is connected.
func (t *Transport) LinkUp(node NodeID, num int) bool {
	p := t.peers().byID[node]
	if p == nil || num < 0 || num >= MaxLinks || p.links[num] == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.links[num].up
}
