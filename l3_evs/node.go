// Package evs provides Extended Virtual Synchrony delivery of application messages on top of
// the Totem ring (l2): agreed and safe messages of up to MessageBytesMax bytes, packed many to
// a frame or fragmented across frames, routed by a 16-bit service id, with transitional and
// regular configurations in EVS order. Like l2 it is a deterministic state machine driven by
// Receive, Tick and Submit, with outputs collected through Ready and Advance.
package evs

import (
	"errors"
	"time"

	totem "github.com/corosync-go/corosync/l2_totem"
)

// Guarantee is the delivery guarantee a message asks for.
type Guarantee uint8

// Delivery guarantees. Agreed: total order, delivered as soon as it is contiguous. Safe:
// total order, delivered only once every member of the configuration holds it.
const (
	Agreed Guarantee = iota
	Safe
)

// DefaultMessageBytesMax is corosync's MESSAGE_SIZE_MAX.
const DefaultMessageBytesMax = 1 << 20

// Submission errors.
var (
	// ErrTryAgain means the queues are full (or a fragmented message is still in flight):
	// retry once the ring has moved. It maps to CS_ERR_TRY_AGAIN.
	ErrTryAgain = errors.New("evs: queues full, try again")
	// ErrMessageTooLarge means the message exceeds MessageBytesMax.
	ErrMessageTooLarge = errors.New("evs: message larger than the configured maximum")
)

// Config configures a Node.
type Config struct {
	Totem totem.Config
	// MessageBytesMax bounds one application message (and so each reassembly buffer).
	MessageBytesMax int
	// HoldForSync holds the messages of Submit at every new ring until ReleaseSync, and
	// sends only those of SubmitSync meanwhile (corosync's waiting_trans_ack): for a driver
	// that synchronises its services' state at each configuration change.
	HoldForSync bool
}

// EventKind says what an Event carries.
type EventKind uint8

// Event kinds.
const (
	EventMessage EventKind = iota + 1
	EventTransitional
	EventRegular
)

// Event is one EVS delivery. Payload and Config are owned by the Node until Advance.
type Event struct {
	Kind    EventKind
	Service uint16
	Sender  totem.NodeID
	Safe    bool
	// Ring and Seq name the frame that completed the message (its ordering point).
	Ring    totem.RingID
	Seq     uint64
	Payload []byte
	Config  *totem.Configuration
}

// Ready is what the driver must do; owned by the Node until Advance.
type Ready struct {
	// PersistRingSeq: see totem.Ready. Persist before sending Packets.
	PersistRingSeq uint64
	Packets        []totem.Packet
	Events         []Event
	Log            []totem.Event
}

// Stats count what l3 saw beyond l2's counters.
type Stats struct {
	MessagesDelivered uint64
	FramesPacked      uint64
	FragmentsSent     uint64
	BadFrames         uint64 // malformed frames (counted, never delivered)
	OrphanFragments   uint64 // continuations without a start (after a configuration change)
	DiscardedPartials uint64 // partial messages dropped at a configuration change
	RestartedMessages uint64 // own fragmented messages re-sent after a configuration change
	BadFramesByReason map[string]uint64
}

type partial struct {
	service uint16
	total   int
	safe    bool
	buf     []byte
}

type outgoing struct {
	service uint16
	safe    bool
	data    []byte
	frames  int // frames of the current attempt, the last ones handed to the ring
}

// Node is one processor's EVS endpoint. Not safe for concurrent use.
type Node struct {
	cfg   Config
	srp   *totem.Node
	id    totem.NodeID
	stats Stats

	open packedFrame // frame being packed
	// openSync is the frame being packed with synchronisation messages while the ring
	// holds the others (SubmitSync).
	openSync packedFrame

	inflight *outgoing // our fragmented message (&out), until delivered back whole
	out      outgoing
	fragBuf  []byte
	partials map[totem.NodeID]*partial
	freeP    []*partial // reusable partial records
	done     [][]byte   // reassembly buffers handed out in this Ready
	spare    [][]byte

	rd  Ready
	rec record
}

// NewNode creates an EVS node over a new Totem node.
func NewNode(cfg Config, persistedRingSeq uint64, now time.Duration) (*Node, error) {
	if cfg.MessageBytesMax <= 0 {
		cfg.MessageBytesMax = DefaultMessageBytesMax
	}
	srp, err := totem.NewNode(cfg.Totem, persistedRingSeq, now)
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg: cfg, srp: srp, id: cfg.Totem.NodeID,
		partials: map[totem.NodeID]*partial{},
		stats:    Stats{BadFramesByReason: map[string]uint64{}},
	}
	srp.OnTokenVisit(n.tokenVisit)
	if cfg.HoldForSync {
		srp.EnableSyncHold()
	}
	return n, nil
}

// Totem gives read access to the ring state machine (state, ring, stats, HasFrame).
func (n *Node) Totem() *totem.Node { return n.srp }

// Stats returns l3 counters (the maps are shared: read them before the next call).
func (n *Node) Stats() Stats { return n.stats }

// Receive, Tick and NextDeadline pass straight to the ring; see totem.Node.
func (n *Node) Receive(now time.Duration, pkt []byte) { n.srp.Receive(now, pkt) }

// Tick advances time; see totem.Node.Tick.
func (n *Node) Tick(now time.Duration) { n.srp.Tick(now) }

// NextDeadline returns when Tick must next be called (0: no timer armed).
func (n *Node) NextDeadline() time.Duration { return n.srp.NextDeadline() }

// Leave announces a graceful departure; see totem.Node.Leave.
func (n *Node) Leave() { n.srp.Leave() }

// Submit queues msg for service with guarantee g. The message is copied.
func (n *Node) Submit(service uint16, msg []byte, g Guarantee) error {
	if err := n.admit(msg); err != nil {
		return err
	}
	safe := g == Safe
	if fits, err := n.pack(&n.open, n.flushOpen, service, msg, safe); fits {
		return err
	}
	if n.inflight != nil || !n.flushOpen() {
		return ErrTryAgain
	}
	frames := n.fragmentCount(len(msg))
	if frames > n.srp.PendingRoom() {
		return ErrTryAgain
	}
	o := &n.out
	o.service, o.safe, o.data = service, safe, append(o.data[:0], msg...)
	n.inflight = o
	if !n.sendFragments(o, n.srp.Submit) {
		n.inflight = nil
	}
	return nil
}

// SubmitSync queues a synchronisation message. While the ring holds Submit's messages
// (Config.HoldForSync, until ReleaseSync) it goes out at once, packed or fragmented in a
// FIFO of its own; otherwise it is queued as Submit queues it.
func (n *Node) SubmitSync(service uint16, msg []byte, g Guarantee) error {
	if !n.srp.SyncHeld() {
		if !n.flushOpenSync() {
			return ErrTryAgain
		}
		return n.Submit(service, msg, g)
	}
	if err := n.admit(msg); err != nil {
		return err
	}
	safe := g == Safe
	if fits, err := n.pack(&n.openSync, n.flushOpenSync, service, msg, safe); fits {
		return err
	}
	if !n.flushOpenSync() || n.fragmentCount(len(msg)) > n.srp.SyncRoom() {
		return ErrTryAgain
	}
	// All its frames are queued at once and nothing else of this node's is sent between
	// them, so receivers reassemble it as any other. It is not re-sent after a
	// configuration change: a synchronisation cut short starts again.
	o := outgoing{service: service, safe: safe, data: msg}
	n.sendFragments(&o, n.srp.SubmitSync)
	return nil
}

// SyncHeld reports whether the ring holds Submit's messages for synchronisation.
func (n *Node) SyncHeld() bool { return n.srp.SyncHeld() }

// ReleaseSync lets Submit's messages go once the services are synchronised for ring (a
// release for an earlier ring changes nothing).
func (n *Node) ReleaseSync(ring totem.RingID) {
	n.flushOpenSync()
	n.srp.ReleaseSync(ring)
}

// admit refuses a message the node cannot take at all.
func (n *Node) admit(msg []byte) error {
	if n.srp.Stopped() {
		return totem.ErrStopped
	}
	if len(msg) > n.cfg.MessageBytesMax {
		return ErrMessageTooLarge
	}
	return nil
}

// packedFrame is a frame being filled with whole messages of one guarantee.
type packedFrame struct {
	buf  []byte
	safe bool
}

// pack appends msg to p if msg fits in a frame (fits), after handing p to the ring with
// flush when the guarantee changes (a frame carries one) or msg does not fit beside what p
// holds; ErrTryAgain if flush finds no room. A msg that does not fit in a frame needs
// fragments.
func (n *Node) pack(p *packedFrame, flush func() bool, service uint16, msg []byte, safe bool) (fits bool, err error) {
	frameMax := n.cfg.Totem.FrameBytesMax
	whole := recordOverhead(recordWhole, len(msg), 0) + len(msg)
	if frameHdrBytes+whole > frameMax {
		return false, nil
	}
	if len(p.buf) > 0 && (p.safe != safe || len(p.buf)+whole > frameMax) && !flush() {
		return true, ErrTryAgain
	}
	if len(p.buf) == 0 {
		p.buf = append(p.buf[:0], frameVersion)
		p.safe = safe
	}
	p.buf = appendRecord(p.buf, recordWhole, service, 0, msg)
	return true, nil
}

// fragmentCount is how many frames a message of size bytes needs.
func (n *Node) fragmentCount(size int) int {
	frames, off := 0, 0
	for off < size {
		kind := uint8(recordMiddle)
		if off == 0 {
			kind = recordFirst
		}
		room := n.cfg.Totem.FrameBytesMax - frameHdrBytes - recordOverhead(kind, n.cfg.Totem.FrameBytesMax, size)
		off += room
		frames++
	}
	return frames
}

// sendFragments hands o's frames to submit; false if the node stopped meanwhile.
func (n *Node) sendFragments(o *outgoing, submit func([]byte, bool) error) bool {
	o.frames = 0
	frameMax := n.cfg.Totem.FrameBytesMax
	buf := n.fragBuf[:0]
	defer func() { n.fragBuf = buf }()
	for off := 0; off < len(o.data); {
		kind := uint8(recordMiddle)
		if off == 0 {
			kind = recordFirst
		}
		room := frameMax - frameHdrBytes - recordOverhead(kind, frameMax, len(o.data))
		end := min(off+room, len(o.data))
		if end == len(o.data) && off > 0 {
			kind = recordLast
		}
		buf = appendRecord(append(buf[:0], frameVersion), kind, o.service, len(o.data), o.data[off:end])
		// Room was checked by the caller, so this fails only if the node stopped; the
		// receivers drop the fragments already queued as orphans.
		if err := submit(buf, o.safe); err != nil {
			n.stats.DiscardedPartials++
			return false
		}
		n.stats.FragmentsSent++
		o.frames++
		off = end
	}
	return true
}

// flushOpen hands the packed frame to the ring; false if the ring's queue is full.
func (n *Node) flushOpen() bool {
	if len(n.open.buf) == 0 {
		return true
	}
	if n.inflight != nil {
		return false // keep sender FIFO order behind the fragmented message
	}
	if err := n.srp.Submit(n.open.buf, n.open.safe); err != nil {
		return false
	}
	n.stats.FramesPacked++
	n.open.buf = n.open.buf[:0]
	return true
}

// flushOpenSync hands the frame packed by SubmitSync to the ring; false if it has no room.
func (n *Node) flushOpenSync() bool {
	if len(n.openSync.buf) == 0 {
		return true
	}
	if err := n.srp.SubmitSync(n.openSync.buf, n.openSync.safe); err != nil {
		return false
	}
	n.stats.FramesPacked++
	n.openSync.buf = n.openSync.buf[:0]
	return true
}

// tokenVisit hands the packed frame to the ring as the token arrives, so that it carries
// every message submitted since the last visit (corosync's totempg does the same).
func (n *Node) tokenVisit() {
	n.flushOpenSync()
	n.flushOpen()
}

// Ready flushes the packed frame only when no token visit is on its way (an idle ring whose
// token is held, or a ring not operational): otherwise the frame keeps filling until the
// token arrives or it is full. Then it returns the outputs.
func (n *Node) Ready() *Ready {
	if (len(n.open.buf) > 0 || len(n.openSync.buf) > 0) && !n.srp.TokenExpected() {
		n.flushOpenSync()
		n.flushOpen()
	}
	r := n.srp.Ready()
	n.rd.PersistRingSeq = r.PersistRingSeq
	n.rd.Packets = r.Packets
	n.rd.Log = r.Events
	for i := range r.Deliveries {
		n.deliver(&r.Deliveries[i])
	}
	// Re-read: restarting a cut message may have released a held token.
	n.rd.Packets = r.Packets
	return &n.rd
}

// Advance releases the outputs of the last Ready.
func (n *Node) Advance() {
	n.srp.Advance()
	for i := range n.rd.Events {
		n.rd.Events[i] = Event{}
	}
	n.rd.Events = n.rd.Events[:0]
	n.spare = append(n.spare, n.done...)
	n.done = n.done[:0]
}

// Flush hands a partly packed frame to the ring now, regardless of load.
func (n *Node) Flush() {
	n.flushOpenSync()
	n.flushOpen()
}

func (n *Node) deliver(d *totem.Delivery) {
	switch d.Kind {
	case totem.DeliverMessage:
		n.deliverFrame(d)
	case totem.DeliverTransitional, totem.DeliverRegular:
		n.configChange(d.Kind == totem.DeliverTransitional)
		kind := EventRegular
		if d.Kind == totem.DeliverTransitional {
			kind = EventTransitional
		}
		n.rd.Events = append(n.rd.Events, Event{Kind: kind, Ring: d.Ring, Config: d.Config})
	}
}

// configChange runs before a configuration is delivered. Partial messages survive into the
// transitional configuration: the old ring's frames continue there, alike on every member.
// At the regular configuration they are dropped, alike on every member, because the new
// ring's frames follow; our own fragmented message is re-sent whole if any of its frames
// were ordered on the old ring without it being delivered back complete.
func (n *Node) configChange(transitional bool) {
	if transitional {
		return
	}
	for sender, p := range n.partials {
		n.stats.DiscardedPartials++
		n.spare = append(n.spare, p.buf[:0])
		n.freeP = append(n.freeP, p)
		delete(n.partials, sender)
	}
	o := n.inflight
	if o == nil || n.srp.PendingFrames() >= o.frames {
		return // nothing of the current attempt has been ordered yet
	}
	if n.fragmentCount(len(o.data)) > n.srp.PendingRoom() {
		// Cannot happen: the queue bound exceeds one maximum-size message. Drop loudly.
		n.inflight = nil
		n.stats.DiscardedPartials++
		return
	}
	n.stats.RestartedMessages++
	if !n.sendFragments(o, n.srp.Submit) {
		n.inflight = nil
	}
}

func (n *Node) deliverFrame(d *totem.Delivery) {
	r, err := newFrameReader(d.Payload, n.cfg.MessageBytesMax)
	if err != nil {
		n.badFrame(err)
		return
	}
	rec := &n.rec
	for {
		ok, err := r.next(rec)
		if err != nil {
			n.badFrame(err)
			return
		}
		if !ok {
			return
		}
		switch rec.kind {
		case recordWhole:
			n.emit(d, rec.service, rec.data)
		case recordFirst:
			p := n.partials[d.Sender]
			if p != nil {
				n.stats.DiscardedPartials++
				n.spare = append(n.spare, p.buf[:0])
			} else if k := len(n.freeP); k > 0 {
				p, n.freeP = n.freeP[k-1], n.freeP[:k-1]
			} else {
				p = &partial{}
			}
			*p = partial{service: rec.service, total: rec.total, safe: d.Safe, buf: append(n.takeBuf(), rec.data...)}
			n.partials[d.Sender] = p
		default:
			p := n.partials[d.Sender]
			if p == nil || p.service != rec.service || len(p.buf)+len(rec.data) > p.total {
				n.stats.OrphanFragments++
				continue
			}
			p.buf = append(p.buf, rec.data...)
			if rec.kind == recordLast {
				delete(n.partials, d.Sender)
				n.freeP = append(n.freeP, p)
				if len(p.buf) != p.total {
					n.stats.OrphanFragments++
					n.spare = append(n.spare, p.buf[:0])
					continue
				}
				n.done = append(n.done, p.buf)
				n.emit(d, p.service, p.buf)
				if d.Sender == n.id && n.inflight != nil && n.srp.PendingFrames() < n.inflight.frames {
					n.inflight = nil // delivered back whole: the next message may go
				}
			}
		}
	}
}

func (n *Node) emit(d *totem.Delivery, service uint16, data []byte) {
	n.stats.MessagesDelivered++
	n.rd.Events = append(n.rd.Events, Event{
		Kind: EventMessage, Service: service, Sender: d.Sender, Safe: d.Safe,
		Ring: d.Ring, Seq: d.Seq, Payload: data,
	})
}

func (n *Node) badFrame(err error) {
	n.stats.BadFrames++
	n.stats.BadFramesByReason[err.Error()]++
}

func (n *Node) takeBuf() []byte {
	if k := len(n.spare); k > 0 {
		b := n.spare[k-1]
		n.spare = n.spare[:k-1]
		return b[:0]
	}
	return nil
}
