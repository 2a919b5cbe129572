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
	dropReasons
)

var dropNames = [dropReasons]string{
	"truncated", "bad_magic", "bad_version", "malformed", "misdirected", "unknown_node",
	"wrong_source", "stale_session", "replayed", "auth_failed", "bad_fragment",
	"decompress_failed", "too_large", "no_link",
}

type dropCounters [dropReasons]atomic.Uint64

func (d *dropCounters) add(r dropReason) { d[r].Add(1) }

// LinkStats describes one link to one peer, as the cmap stats.knet.nodeN.linkM keys do.
type LinkStats struct {
	Node               NodeID
	Link               int
	Addr               netip.AddrPort
	Connected          bool
	MTUBytes           int
	TxPackets, TxBytes uint64
	TxErrors           uint64
	RxPackets, RxBytes uint64
	// RxDropped counts packets from this peer on this link that were refused (replayed,
	// failed authentication, malformed, ...); Stats.Drops has the reasons.
	RxDropped              uint64
	LatencyMin, LatencyMax time.Duration
	LatencyAvg             time.Duration
	LatencySamples         uint64
	UpCount, DownCount     uint64
}

// Stats is a snapshot of the transport's counters.
type Stats struct {
	Links []LinkStats
	// Drops counts refused packets by reason (truncated, auth_failed, replayed, ...).
	Drops map[string]uint64
	// Groups has one entry per link in group mode. A group packet also counts in the
	// sending peer's LinkStats on receipt, never in any peer's TxPackets.
	Groups []GroupStats
}

// Stats returns the counters of every peer link and the drop counts.
func (t *Transport) Stats() Stats {
	s := Stats{Drops: map[string]uint64{}, Groups: t.groupStats()}
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
				TxPackets: pl.txPackets.Load(), TxBytes: pl.txBytes.Load(), TxErrors: pl.txErrors.Load(),
				RxPackets: pl.rxPackets.Load(), RxBytes: pl.rxBytes.Load(), RxDropped: pl.rxDropped.Load(),
				LatencyMin: pl.rttMin, LatencyMax: pl.rttMax, LatencySamples: pl.rttSamples,
				UpCount: pl.upCount, DownCount: pl.downCount,
			}
			if pl.rttSamples > 0 {
				ls.LatencyAvg = pl.rttSum / time.Duration(pl.rttSamples)
			}
			s.Links = append(s.Links, ls)
		}
		p.mu.Unlock()
	}
	return s
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
