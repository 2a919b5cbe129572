package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

// Handler receives one whole totem packet from a peer. It runs on a link's receive
// goroutine; packet is valid only until it returns.
type Handler func(from NodeID, packet []byte)

// Packet is one totem packet to send. To 0 sends it to every other node.
type Packet struct {
	To   NodeID
	Data []byte
}

// Broadcast as Packet.To sends to every other node in the node table.
const Broadcast NodeID = 0

// Transport carries totem packets between the nodes of the node table over up to
// MaxLinks links, with heartbeats, failover, path-MTU fragmentation, compression and
// authenticated encryption.
type Transport struct {
	cfg     Config
	log     *slog.Logger
	session uint64
	start   time.Time
	handler Handler

	links [MaxLinks]*localLink
	// tuning is what Retune may change; retick tells the heartbeat loop its interval did.
	tuning atomic.Pointer[tuning]
	retick chan struct{}

	// table is the node table (see peerTable); tableMu serializes its replacements.
	table   atomic.Pointer[peerTable]
	tableMu sync.Mutex

	// crypto is the crypto config slots (see cryptoState); cryptoMu serializes their
	// changes and guards pendingTx, the send sealer of the loaded, not yet active, slot.
	crypto    atomic.Pointer[cryptoState]
	cryptoMu  sync.Mutex
	pendingTx sealer

	txMu     sync.Mutex // orders sends; guards tx, comp, txSealer, txSlot, txHandle and every peer's txSeq
	tx       txScratch
	comp     *compressor
	compCfg  CompressionConfig // what comp was built from
	txSealer sealer            // seals with the suite of slot txSlot; nil when it is slotClear
	txSlot   uint8
	msgID    uint32

	drops dropCounters
	// sendFailStreak counts packets the links refused since a batch last went out whole
	// (corosync's continuous_sendmsg_failures).
	sendFailStreak atomic.Uint64
	group          groupState
	// Handle statistics (HandleStats): the send side's, guarded by txMu, and one set per
	// local link's receive goroutine.
	txHandle txHandleCounters
	rxHandle [MaxLinks]*rxHandleCounters
	// loopback counts what knet would deliver to this node through its loopback link:
	// the broadcasts (and packets addressed to this node) it was asked to send.
	loopback traffic

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

type localLink struct {
	number int
	l      link.Link
	// maxBytes is what the link and its interface can carry; mtu is that capped by
	// knet_mtu, which a reload may change (the largest payload of one datagram).
	maxBytes int
	mtu      atomic.Int64
	v6       bool
}

// mtuBytes is the largest packet this link may carry now.
func (ll *localLink) mtuBytes() int { return int(ll.mtu.Load()) }

// capMTU applies knet_mtu (0: no cap) and reports whether the link's MTU changed.
func (ll *localLink) capMTU(knetMTU int) bool {
	m := ll.maxBytes
	if knetMTU > 0 {
		m = min(m, knetMTU)
	}
	return ll.mtu.Swap(int64(m)) != int64(m)
}

// New starts a transport: one receive goroutine per link and a heartbeat loop. handler
// gets every data packet; it must not block for long.
func New(ctx context.Context, cfg Config, handler Handler, log *slog.Logger) (*Transport, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s, err := newSuite(cfg.Crypto)
	if err != nil {
		return nil, err
	}
	comp, err := newCompressor(cfg.Compress)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	t := &Transport{
		cfg: cfg, log: log.With("subsys", "KNET"), handler: handler,
		// Wall-clock nanoseconds: a restarted node's session is larger than its last
		// one, which is how peers tell a restart from a replay of old packets.
		session: uint64(now.UnixNano()),
		start:   now,
		comp:    comp,
		compCfg: cfg.Compress,
	}
	comp.st = &t.txHandle
	st := initialCrypto(s)
	t.crypto.Store(st)
	if t.txSlot = st.tx; s != nil {
		if t.txSealer, err = s.forSession(cfg.LocalNode, t.session); err != nil {
			return nil, err
		}
	}
	for _, ls := range cfg.Links {
		ll := &localLink{number: ls.Number, l: ls.Link, maxBytes: ls.Link.MaxPayloadBytes()}
		ll.v6 = ls.Link.LocalAddr().Addr().Is6() && !ls.Link.LocalAddr().Addr().Is4In6()
		if m, ok := ls.Link.(interface{ InterfaceMTU() int }); ok && m.InterfaceMTU() > 0 {
			ll.maxBytes = min(ll.maxBytes, m.InterfaceMTU()-ipOverhead(ll.v6))
		}
		ll.capMTU(ls.MTUBytes)
		t.links[ls.Number] = ll
		t.rxHandle[ls.Number] = &rxHandleCounters{}
	}
	t.tuning.Store(tuningOf(&cfg))
	t.retick = make(chan struct{}, 1)
	tbl, _, _ := t.buildTable(cfg.Nodes, &peerTable{})
	t.table.Store(tbl)
	t.initGroups()
	t.tx.init()
	ctx, t.cancel = context.WithCancel(ctx)
	for _, ll := range t.links {
		if ll != nil {
			t.wg.Add(1)
			go t.receiveLoop(ll)
		}
	}
	t.wg.Add(1)
	go t.heartbeatLoop(ctx)
	t.log.Info("transport started", "node", cfg.LocalNode, "links", len(cfg.Links), "link_mode", cfg.LinkMode, "crypto", t.CryptoName(), "compression", cfg.Compress.Model)
	return t, nil
}

func ipOverhead(v6 bool) int {
	if v6 {
		return 48
	}
	return 28
}

// Close stops the goroutines and closes the links.
func (t *Transport) Close() error {
	if t.closed.Swap(true) {
		return nil
	}
	t.cancel()
	var errs []error
	for _, ll := range t.links {
		if ll != nil {
			errs = append(errs, ll.l.Close())
		}
	}
	t.wg.Wait()
	return errors.Join(errs...)
}

// Session returns this transport's incarnation number as carried in its packets.
func (t *Transport) Session() uint64 { return t.session }

// Send transmits a batch of totem packets. Packets to nodes with no usable link are
// dropped and counted; the returned error reports the first send failure, if any.
func (t *Transport) Send(pkts []Packet) error {
	if t.closed.Load() {
		return link.ErrClosed
	}
	t.txMu.Lock()
	defer t.txMu.Unlock()
	var firstErr error
	for _, pkt := range pkts {
		if len(pkt.Data) > t.cfg.MaxMessageBytes {
			t.drops.add(dropTooLarge)
			if firstErr == nil {
				firstErr = fmt.Errorf("transport: %d-byte packet exceeds %d", len(pkt.Data), t.cfg.MaxMessageBytes)
			}
			continue
		}
		if pkt.To == Broadcast || pkt.To == t.cfg.LocalNode {
			t.loopback.add(1, uint64(len(pkt.Data)))
		}
		body, model := t.comp.compress(t.tx.comp, pkt.Data)
		if pkt.To == Broadcast {
			t.broadcast(body, model)
			continue
		}
		p := t.peers().byID[pkt.To]
		if p == nil {
			t.drops.add(dropUnknownNode)
			continue
		}
		t.sendData(p, body, model)
	}
	if err := t.flush(); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

// sendData queues one message for p on the links the link mode picks, fragmenting it to
// the smallest path MTU among them. Called with txMu held.
func (t *Transport) sendData(p *peer, body []byte, model uint8) {
	var chosen [MaxLinks]*peerLink
	p.mu.Lock()
	n := p.chooseLinks(t, chosen[:0])
	mtu := t.cfg.MaxMessageBytes + headerBytes + tagBytes
	for _, pl := range chosen[:n] {
		mtu = min(mtu, pl.pmtu)
	}
	p.mu.Unlock()
	if n == 0 {
		t.drops.add(dropNoLink)
		return
	}
	t.emit(chosen[:n], mtu, p.id, &p.txSeq, body, model)
}

// emit builds one message for dst, whole or in fragments of at most mtu bytes, each
// packet numbered from *seq, and queues every packet on each chosen link. Called with
// txMu held.
func (t *Transport) emit(chosen []*peerLink, mtu int, dst NodeID, seq *uint64, body []byte, model uint8) {
	overhead := headerBytes
	if t.txSealer != nil {
		overhead += t.txSealer.overhead()
	}
	room := mtu - overhead
	flags := model << compressionShift
	if len(body) <= room {
		pkt := t.build(dst, seq, typeData, flags, uint8(chosen[0].number), nil, body)
		for _, pl := range chosen {
			t.tx.queue(pl.number, pl, pkt, kindData)
		}
		return
	}
	piece := room - fragmentHeaderLen
	count := (len(body) + piece - 1) / piece
	if piece <= 0 || count > maxFragments {
		t.drops.add(dropTooLarge)
		return
	}
	t.msgID++
	var fh [fragmentHeaderLen]byte
	for i := 0; i < count; i++ {
		chunk := body[i*piece : min(len(body), (i+1)*piece)]
		putFragment(fh[:], fragment{msgID: t.msgID, index: uint16(i), count: uint16(count)})
		pkt := t.build(dst, seq, typeData, flags|flagFragment, uint8(chosen[0].number), fh[:], chunk)
		for _, pl := range chosen {
			t.tx.queue(pl.number, pl, pkt, kindData)
		}
	}
}

// build lays out one protected packet to dst (Broadcast for a group packet) in the
// scratch slab, numbered with the next value of *seq, the sequence space of dst. Called
// with txMu held.
func (t *Transport) build(dst NodeID, seq *uint64, typ packetType, flags, linkNum uint8, prefix, body []byte) []byte {
	need := headerBytes + len(prefix) + len(body) + tagBytes
	if t.tx.room() < need {
		t.flush()
	}
	*seq++
	h := header{typ: typ, flags: flags, link: linkNum, slot: t.txSlot, src: t.cfg.LocalNode, dst: dst, session: t.session, seq: *seq}
	buf := t.tx.take(need)
	putHeader(buf, &h)
	plain := buf[headerBytes:headerBytes]
	plain = append(plain, prefix...)
	plain = append(plain, body...)
	if t.txSealer == nil {
		return buf[:headerBytes+len(plain)]
	}
	st := &t.txHandle
	st.cryptPackets++
	var start time.Time
	timed := false
	if typ == typeData {
		// Like knet, only data packets count towards the time and the overhead.
		timed = sampled(st.cryptData)
		st.cryptData++
		if timed {
			start = time.Now()
		}
	}
	// Sealing in place: the plaintext already sits where the ciphertext goes.
	out := t.txSealer.seal(buf[headerBytes:headerBytes], buf[:headerBytes], nonceFor(&t.tx.nonce, dst, *seq), plain)
	if timed {
		st.cryptTime.add(time.Since(start))
	}
	if typ == typeData {
		st.cryptBytes += uint64(len(out) - len(plain))
	}
	return buf[:headerBytes+len(out)]
}

// flush hands every queued batch to its link. Called with txMu held.
func (t *Transport) flush() error {
	var firstErr error
	for num := range t.tx.batches {
		b := &t.tx.batches[num]
		if len(b.msgs) == 0 {
			continue
		}
		ll := t.links[num]
		sent, err := ll.l.Send(b.msgs)
		// One atomic add per run of packets of one kind to the same peer, not one per
		// packet: batches are mostly long runs to one peer.
		var run *peerLink
		var runKind packetKind
		var runPackets, runBytes uint64
		for i, m := range b.msgs {
			if pl, k := b.targets[i], b.kinds[i]; pl != run || k != runKind {
				if run != nil {
					run.tx[runKind].add(runPackets, runBytes)
				}
				run, runKind, runPackets, runBytes = pl, k, 0, 0
			}
			runPackets++
			runBytes += uint64(len(m.Buf))
		}
		run.tx[runKind].add(runPackets, runBytes)
		if err != nil {
			if firstErr == nil && !errors.Is(err, link.ErrClosed) {
				firstErr = err
			}
			// The link skipped what it could not send without saying which ones, so the
			// errors are charged to the batch's first packet's peer and kind.
			b.targets[0].txErrors[b.kinds[0]].Add(uint64(len(b.msgs) - sent))
			t.sendFailStreak.Add(uint64(len(b.msgs) - sent))
		} else if t.sendFailStreak.Load() != 0 {
			t.sendFailStreak.Store(0)
		}
		b.msgs = b.msgs[:0]
		b.targets = b.targets[:0]
		b.kinds = b.kinds[:0]
	}
	t.tx.used = 0
	return firstErr
}

// txScratch holds packets being built and the per-link batches pointing into it.
type txScratch struct {
	// nonce is the sealer's nonce: a local array would escape through the sealer
	// interface and cost an allocation per packet.
	nonce   [12]byte
	slab    []byte
	used    int
	comp    []byte
	batches [MaxLinks]struct {
		msgs    []link.Message
		targets []*peerLink
		kinds   []packetKind
	}
}

// txSlabBytes bounds the bytes built before a flush: a full totem window of frames.
const txSlabBytes = 4 << 20

func (s *txScratch) init() {
	s.slab = make([]byte, txSlabBytes)
	s.comp = make([]byte, 0, DefaultMaxMessageBytes+1024)
}

func (s *txScratch) room() int { return len(s.slab) - s.used }

func (s *txScratch) take(n int) []byte {
	b := s.slab[s.used : s.used+n : s.used+n]
	s.used += n
	return b
}

func (s *txScratch) queue(linkNum int, pl *peerLink, pkt []byte, kind packetKind) {
	b := &s.batches[linkNum]
	b.msgs = append(b.msgs, link.Message{Buf: pkt, Addr: pl.addr})
	b.targets = append(b.targets, pl)
	b.kinds = append(b.kinds, kind)
}

// sendControl sends one ping or pong on a specific link, at once. probe is the size of a
// path-MTU probe, 0 for anything else; a probe's body is padded with zeros, up to its
// capacity, so that the whole packet is probe bytes with the tag of the sealer in use
// (sized here, under txMu, because a crypto change may switch it). kind is how the link's
// statistics count the packet.
func (t *Transport) sendControl(p *peer, pl *peerLink, typ packetType, body []byte, probe int, kind packetKind) {
	t.txMu.Lock()
	defer t.txMu.Unlock()
	if probe > 0 {
		n := probe - headerBytes - t.sealOverhead()
		if n <= len(body) || n > cap(body) {
			return
		}
		clear(body[len(body):n])
		body = body[:n]
	}
	pkt := t.build(p.id, &p.txSeq, typ, 0, uint8(pl.number), nil, body)
	t.tx.queue(pl.number, pl, pkt, kind)
	if err := t.flush(); err != nil && probe > 0 && errors.Is(err, syscall.EMSGSIZE) {
		// A probe larger than the local interface allows fails at once; no need to wait.
		p.mu.Lock()
		pl.pmtud.fail(probe)
		p.mu.Unlock()
	}
}

// since returns the transport clock: monotonic time since start.
func (t *Transport) since() time.Duration { return time.Since(t.start) }
