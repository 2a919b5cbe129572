package transport

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// peer is the state kept for one other node.
type peer struct {
	id   NodeID
	name string

	txSeq uint64 // guarded by Transport.txMu

	mu      sync.Mutex // guards everything below and the links' state
	session uint64
	// rxKeys caches, per key slot, the sealer of the peer's session under that slot's
	// suite: a peer switching slots (a crypto change) costs one key derivation, not one
	// per packet.
	rxKeys   [maxSlot + 1]rxKey
	window   replayWindow
	groupWin replayWindow // the peer's group packets (dst 0) have a sequence space of their own
	reasm    reassembly
	rrNext   int
	links    [MaxLinks]*peerLink
}

func newPeer(n Node, maxMessageBytes int) *peer {
	p := &peer{id: n.ID, name: n.Name}
	p.reasm.max = maxMessageBytes
	return p
}

// rxKey is a sealer derived for one sender session under one suite.
type rxKey struct {
	suite   *suite
	session uint64
	s       sealer
}

// peerLink is one link to one peer.
type peerLink struct {
	number int
	addr   netip.AddrPort

	// Guarded by peer.mu.
	up         bool
	pongsInRow int
	lastPong   time.Duration // transport clock
	rttMin     time.Duration
	rttMax     time.Duration
	rttSum     time.Duration
	rttSamples uint64
	pmtu       int // largest packet (datagram payload) this path carries
	pmtud      pmtuSearch
	upCount    uint64
	downCount  uint64

	// On-wire traffic by kind of packet, as knet's link statistics count it.
	tx, rx    [packetKinds]traffic
	txErrors  [packetKinds]atomic.Uint64
	rxDropped atomic.Uint64
	// rxCrypt counts data packets that were opened with a key (HandleStats.RxCryptPackets).
	rxCrypt atomic.Uint64
}

// chooseLinks appends the links a data packet to p goes out on, per the link mode. With
// no link up it uses every configured link: before the first pong (or when heartbeats
// are lost but data might not be) sending beats dropping, and totem copes with copies.
// Called with p.mu held.
func (p *peer) chooseLinks(t *Transport, out []*peerLink) int {
	var upLinks [MaxLinks]*peerLink
	up := upLinks[:0]
	for _, pl := range p.links {
		if pl != nil && pl.up {
			up = append(up, pl)
		}
	}
	if len(up) == 0 {
		for _, pl := range p.links {
			if pl != nil {
				out = append(out, pl)
			}
		}
		return len(out)
	}
	switch t.cfg.LinkMode {
	case Active:
		out = append(out, up...)
	case RoundRobin:
		p.rrNext = (p.rrNext + 1) % len(up)
		out = append(out, up[p.rrNext])
	default:
		best, prio := up[0], &t.tune().priority
		for _, pl := range up[1:] {
			if prio[pl.number] > prio[best.number] {
				best = pl
			}
		}
		out = append(out, best)
	}
	return len(out)
}

// pmtuSearch finds the largest packet a path carries by probing with padded pings,
// binary search between the IPv4 minimum and what the local interface allows.
type pmtuSearch struct {
	top     int           // what the local interface allows
	lo, hi  int           // lo is known to pass; hi is the largest not yet known to fail
	proven  bool          // a search has finished: lo is a measured value
	probing int           // size of the outstanding probe, 0 if none
	retried bool          // the outstanding probe is a second try
	sentAt  time.Duration // when the probe left
	nextRun time.Duration // when to search again
	done    bool
}

// minPathMTUBytes is the smallest IPv4 datagram every path must carry (576) less the IP
// and UDP headers.
const minPathMTUBytes = 548

func (s *pmtuSearch) reset(max int) {
	*s = pmtuSearch{top: max, lo: min(minPathMTUBytes, max), hi: max}
}

// next returns the size to probe now, or 0.
func (s *pmtuSearch) next(now, timeout, interval time.Duration) int {
	if s.probing != 0 {
		if now-s.sentAt < timeout {
			return 0
		}
		// No pong in time. One loss could be congestion rather than size, so a size is
		// judged too big only when it goes unanswered twice in a row.
		if !s.retried {
			s.retried, s.sentAt = true, now
			return s.probing
		}
		s.fail(s.probing)
	}
	if s.done {
		if now < s.nextRun {
			return 0
		}
		// Search again from the top: the path may have grown.
		s.done, s.hi = false, s.top
	}
	if s.lo >= s.hi {
		s.done, s.proven, s.nextRun = true, true, now+interval
		return 0
	}
	// Try the top first: on most paths the interface MTU is the path MTU.
	size := s.hi
	if s.sentAt != 0 {
		size = (s.lo + s.hi + 1) / 2
	}
	s.probing, s.sentAt = size, now
	return size
}

func (s *pmtuSearch) passed(size int) {
	if size > s.lo {
		s.lo = size
	}
	if s.probing == size {
		s.probing, s.retried = 0, false
	}
}

func (s *pmtuSearch) fail(size int) {
	if size-1 < s.hi {
		s.hi = max(size-1, s.lo)
	}
	if s.probing == size {
		s.probing, s.retried = 0, false
	}
}

// current is the packet size to use now: the largest proven size once a search has
// finished, and before that the optimistic top (fragmenting everything to 548 bytes while
// probing would cost more than the rare path that needs it).
func (s *pmtuSearch) current() int {
	if s.proven {
		return s.lo
	}
	return s.hi
}
