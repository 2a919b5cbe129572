package transport

import (
	"encoding/binary"
	"errors"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

// rxBatchPackets bounds one Receive call.
const rxBatchPackets = 64

// rxScratch is one receive goroutine's own buffers.
type rxScratch struct {
	plain  []byte
	whole  []byte
	expand []byte
	decomp *decompressor
	nonce  [12]byte          // the opener's nonce (a local array would escape: one allocation per packet)
	hs     *rxHandleCounters // this goroutine's handle statistics
	// opened counts the data packets this goroutine authenticated, to pick the ones
	// whose opening is timed.
	opened uint64
}

// newRxScratch returns the buffers and statistics of ll's receive goroutine.
func (t *Transport) newRxScratch(ll *localLink) *rxScratch {
	return &rxScratch{
		plain:  make([]byte, 0, link.MaxDatagramBytes),
		whole:  make([]byte, 0, t.cfg.MaxMessageBytes),
		expand: make([]byte, 0, t.cfg.MaxMessageBytes),
		decomp: newDecompressor(t.cfg.MaxMessageBytes),
		hs:     t.rxHandle[ll.number],
	}
}

func (t *Transport) receiveLoop(ll *localLink) {
	defer t.wg.Done()
	msgs := make([]link.Message, rxBatchPackets)
	rx := t.newRxScratch(ll)
	for {
		n, err := ll.l.Receive(msgs)
		if err != nil {
			if errors.Is(err, link.ErrClosed) || t.closed.Load() {
				return
			}
			t.log.Warn("receive failed", "link", ll.number, "err", err)
			continue
		}
		for _, m := range msgs[:n] {
			t.handlePacket(ll, m, rx)
		}
	}
}

// handlePacket checks one datagram and acts on it. Every rejection is counted by reason;
// nothing a peer sends can make it panic (FuzzHandlePacket).
func (t *Transport) handlePacket(ll *localLink, m link.Message, rx *rxScratch) {
	var h header
	if err := decodeHeader(m.Buf, &h); err != nil {
		t.drops.add(dropReasonOf(err))
		return
	}
	if h.dst != t.cfg.LocalNode && !t.acceptGroup(ll, &h) {
		return
	}
	p := t.peers().byID[h.src]
	if p == nil {
		t.drops.add(dropUnknownNode)
		return
	}
	pl := p.links[ll.number]
	if pl == nil || pl.addr.Addr().Unmap() != m.Addr.Addr().Unmap() {
		t.drops.add(dropWrongSource)
		return
	}
	hdr, body := m.Buf[:headerBytes], m.Buf[headerBytes:]

	p.mu.Lock()
	plain, ok := t.authenticate(p, pl, &h, hdr, body, rx)
	if !ok {
		p.mu.Unlock()
		return
	}
	pl.rx[rxKind(h.typ, plain)].add(1, uint64(len(m.Buf)))
	if h.dst == Broadcast {
		t.countGroupRx(ll, len(m.Buf))
	}
	switch h.typ {
	case typePing:
		p.mu.Unlock()
		if len(plain) < pingBodyBytes+4 {
			t.dropOn(pl, dropMalformed)
			return
		}
		// Echo the clock reading and probe size, unpadded.
		var echo [pingBodyBytes + 4]byte
		copy(echo[:], plain)
		kind := kindPong
		if binary.BigEndian.Uint32(echo[pingBodyBytes:]) != 0 {
			kind = kindPMTU // the answer to a path-MTU probe
		}
		t.sendControl(p, pl, typePong, echo[:], 0, kind)
	case typePong:
		if len(plain) < pingBodyBytes+4 {
			p.mu.Unlock()
			t.dropOn(pl, dropMalformed)
			return
		}
		sent := int64(binary.BigEndian.Uint64(plain))
		probe := int(binary.BigEndian.Uint32(plain[8:]))
		now := t.since()
		changed := t.pong(p, pl, now, now-time.Duration(sent), probe)
		p.mu.Unlock()
		if changed {
			t.log.Info("link up", "node", p.id, "link", pl.number, "addr", pl.addr)
		}
	case typeData:
		msg := plain
		if h.flags&flagFragment != 0 {
			f, piece, err := decodeFragment(plain)
			if err != nil {
				p.mu.Unlock()
				t.dropOn(pl, dropBadFragment)
				return
			}
			whole, complete, err := p.reasm.add(f, h.flags&^flagFragment, piece, rx.whole)
			if err != nil {
				p.mu.Unlock()
				t.dropOn(pl, dropBadFragment)
				return
			}
			if !complete {
				p.mu.Unlock()
				return
			}
			msg = whole
		}
		// No copy needed: plain lives in this goroutine's buffer (or the link's receive
		// view), both valid after the peer lock is released.
		p.mu.Unlock()
		out, err := t.decompress(rx, msg, h.flags>>compressionShift)
		if err != nil {
			t.dropOn(pl, dropDecompress)
			return
		}
		if t.handler != nil {
			t.handler(p.id, out)
		}
	}
}

// authenticate checks freshness and integrity and returns the plaintext body. It adopts
// a newer session of the peer (a restart) only after the packet authenticates. Called
// with p.mu held.
func (t *Transport) authenticate(p *peer, pl *peerLink, h *header, hdr, body []byte, rx *rxScratch) ([]byte, bool) {
	if h.session == 0 {
		// No sender uses session 0; the peer's "no session yet" would match it and leave
		// no key to check the packet with.
		t.dropOn(pl, dropMalformed)
		return nil, false
	}
	if h.session < p.session {
		t.dropOn(pl, dropStaleSession)
		return nil, false
	}
	newSession := h.session > p.session
	w := &p.window
	if h.dst == Broadcast {
		w = &p.groupWin
	}
	if !newSession && !w.check(h.seq) {
		t.dropOn(pl, dropReplayed)
		return nil, false
	}
	if newSession && h.seq == 0 {
		t.dropOn(pl, dropReplayed)
		return nil, false
	}
	plain := body
	if h.slot == slotClear {
		if !t.crypto.Load().clear {
			t.dropOn(pl, dropAuth)
			return nil, false
		}
	} else {
		var ok bool
		if plain, ok = t.open(p, pl, h, hdr, body, rx, newSession); !ok {
			return nil, false
		}
	}
	if newSession {
		if p.session != 0 {
			t.log.Info("peer restarted", "node", p.id)
		}
		p.session = h.session
		p.window, p.groupWin = replayWindow{}, replayWindow{}
		p.reasm = reassembly{max: p.reasm.max}
	}
	w.record(h.seq)
	return plain, true
}

// open authenticates and decrypts a sealed packet with the peer's sealer for the slot it
// names, then, like knet's crypto_authenticate_and_decrypt, with the other loaded slot: a
// node that restarted after a change numbers its one configuration 1 while the others
// may hold the same configuration in slot 2. Called with p.mu held.
func (t *Transport) open(p *peer, pl *peerLink, h *header, hdr, body []byte, rx *rxScratch, newSession bool) ([]byte, bool) {
	st := t.crypto.Load()
	for _, slot := range [2]uint8{h.slot, maxSlot + 1 - h.slot} {
		if su := st.suites[slot]; su != nil {
			if plain, ok := t.openWith(p, pl, slot, su, h, hdr, body, rx, newSession); ok {
				return plain, true
			}
		}
	}
	// Not loaded here (an old key after cleanup, a peer ahead of a change we never got),
	// or forged.
	t.dropOn(pl, dropAuth)
	return nil, false
}

// openWith tries one slot's suite, through the peer's cached sealer for that slot.
func (t *Transport) openWith(p *peer, pl *peerLink, slot uint8, su *suite, h *header, hdr, body []byte, rx *rxScratch, newSession bool) ([]byte, bool) {
	k := &p.rxKeys[slot]
	s := k.s
	if k.suite != su || k.session != h.session {
		var err error
		if s, err = su.forSession(h.src, h.session); err != nil {
			return nil, false
		}
		// The sealer of (suite, sender, session) is right whether or not this packet
		// authenticates, so it is kept for the session in force; one of a new session
		// waits for a packet that proves it, so forgeries cannot evict the good one.
		if !newSession {
			*k = rxKey{suite: su, session: h.session, s: s}
		}
	}
	data := h.typ == typeData
	var start time.Time
	// Like knet, only data packets count towards the receive crypt statistics.
	timed := data && sampled(rx.opened)
	if timed {
		start = time.Now()
	}
	plain, err := s.open(rx.plain[:0], hdr, nonceFor(&rx.nonce, h.dst, h.seq), body)
	if err != nil {
		return nil, false
	}
	if timed {
		rx.hs.cryptTime.add(time.Since(start))
	}
	if data {
		rx.opened++
		pl.rxCrypt.Add(1)
	}
	if newSession {
		*k = rxKey{suite: su, session: h.session, s: s}
	}
	return plain, true
}

// rxKind sorts a received packet for the link statistics: pings and pongs that carry a
// probe size are path-MTU traffic.
func rxKind(typ packetType, plain []byte) packetKind {
	switch typ {
	case typeData:
		return kindData
	case typePing, typePong:
		if len(plain) >= pingBodyBytes+4 && binary.BigEndian.Uint32(plain[pingBodyBytes:]) != 0 {
			return kindPMTU
		}
		if typ == typePing {
			return kindPing
		}
		return kindPong
	}
	return kindData
}

// decompress expands a received message and counts it in the handle statistics when it
// was compressed.
func (t *Transport) decompress(rx *rxScratch, msg []byte, model uint8) ([]byte, error) {
	if model == modelNone {
		return msg, nil
	}
	var start time.Time
	timed := sampled(rx.hs.compressed.Load())
	if timed {
		start = time.Now()
	}
	out, err := rx.decomp.decompress(rx.expand, msg, model)
	if err != nil {
		return nil, err
	}
	if timed {
		rx.hs.compressTime.add(time.Since(start))
	}
	rx.hs.compressed.Add(1)
	rx.hs.compressedIn.Add(uint64(len(out)))
	rx.hs.compressedOut.Add(uint64(len(msg)))
	return out, nil
}

func dropReasonOf(err error) dropReason {
	switch err {
	case errTruncated:
		return dropTruncated
	case errBadMagic:
		return dropBadMagic
	case errBadVersion:
		return dropBadVersion
	case errBadSlot:
		return dropBadSlot
	}
	return dropMalformed
}

// dropOn counts a packet refused after its peer and link were known, both by reason and
// against that link.
func (t *Transport) dropOn(pl *peerLink, r dropReason) {
	t.drops.add(r)
	pl.rxDropped.Add(1)
}
