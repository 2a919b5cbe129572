package totem

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Submission errors.
var (
	// ErrQueueFull means the pending queue is at PendingFramesMax: try again after the ring
	// has moved (corosync: CS_ERR_TRY_AGAIN).
	ErrQueueFull = errors.New("totem: send queue full, try again")
	// ErrFrameTooLarge means the payload exceeds FrameBytesMax.
	ErrFrameTooLarge = errors.New("totem: frame larger than the configured maximum")
	// ErrStopped means the node has left the ring.
	ErrStopped = errors.New("totem: node stopped")
)

// Ready is what a Node asks its driver to do. Everything in it is owned by the Node and valid
// until Advance.
type Ready struct {
	// PersistRingSeq, when non-zero, is a new highest ring sequence. The driver must store it
	// durably before sending Packets, so that a restarted node never reuses a ring id.
	PersistRingSeq uint64
	// Packets to send, in order.
	Packets []Packet
	// Deliveries in EVS order.
	Deliveries []Delivery
	// Events are protocol events worth a log line (membership changes, failures).
	Events []Event
}

// pendingFrame is a frame submitted but not yet ordered.
type pendingFrame struct {
	safe bool
	data []byte
}

// timer names a deadline; 0 means disarmed.
type timers struct {
	tokenLoss       time.Duration
	tokenRetransmit time.Duration
	hold            time.Duration
	merge           time.Duration
	join            time.Duration
	consensus       time.Duration
	loopback        time.Duration
}

// Node is one processor's Totem SRP state machine. It is not safe for concurrent use: one
// driver goroutine owns it.
type Node struct {
	cfg     Config
	token   time.Duration // the token timeout in force (token_coefficient applied)
	id      NodeID
	now     time.Duration
	state   State
	stopped bool
	t       timers
	stats   Stats
	visits  tokenVisits

	// Ring sequence numbers: the highest seen anywhere, and the last persisted.
	maxRingSeq       uint64
	persistedRingSeq uint64

	// The ring in use: installed (operational) or being formed (commit, recovery).
	ring    RingID
	members []NodeID // sorted
	cur     *store   // frames of ring (nil in gather and commit)

	// The last installed regular configuration, kept until the next one is installed.
	oldRing    RingID
	oldMembers []NodeID // nil before the first ring
	old        *store   // frames of oldRing while a new ring is being formed

	// Gather state.
	proc, failed []NodeID
	agreed       []NodeID

	// Commit and recovery state.
	commitEntries  []MembEntry
	commitTokenSeq uint64
	transMembers   []NodeID
	lowAru         uint64 // lowest old-ring aru among transitional members
	cPoint         uint64 // old-ring seqs up to here are delivered in the old regular configuration
	recoveryQueue  []uint64
	retransFlagSet bool
	retransCount   int
	installSeq     uint64
	rotationCount  int

	// Token state.
	lastTokenSeq    uint64 // highest token_seq processed on this ring (duplicates are dropped)
	lastFwdAru      uint64 // token aru this node forwarded on its previous visit
	haveFwdAru      bool
	lastSeenSeq     uint64 // token seq at the previous visit, for idle detection
	seqUnchanged    int
	lastRecvAru     uint64
	failRecvCount   int
	myFCC, myBL     uint32 // this node's contribution to the token's fcc and backlog
	tokenCopy       []byte // the last token (or commit token) sent, for retransmission
	tokenCopyTo     NodeID
	heldToken       []byte // a token the representative holds on an idle ring
	holdBelieved    bool   // a non-representative's guess that the token is being held
	holdCancelSent  bool
	onVisit         func() // OnTokenVisit's hook
	stable          uint64 // every member has every frame up to here
	released        uint64 // deliveries acknowledged by Advance: releasable when stable
	retiredStores   []*store
	spareStore      *store
	rtrScratch      []uint64
	loopbackPackets [][]byte

	bufs bufPool // spare frame buffers

	// Pending frames: a bounded FIFO ring.
	pending      []pendingFrame
	pendingHead  int
	pendingCount int

	// The synchronisation hold (synchold.go): its own FIFO of frames sent while the
	// pending queue is held.
	syncHoldOn, syncHeld bool
	syncQ                []pendingFrame
	syncHead             int

	// Outputs.
	rd       Ready
	pktBufs  [][]byte
	msg      Message // decode scratch
	out      Message // encode scratch for control packets
	mc       Message // encode scratch for multicasts
	confBufs []*Configuration
}

// NewNode returns a node that starts, as corosync does, in the gather state looking for
// peers. persistedRingSeq is the highest ring sequence the driver stored for this node (0 if
// none); now is the current time on the driver's monotonic clock.
func NewNode(cfg Config, persistedRingSeq uint64, now time.Duration) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:              cfg,
		token:            cfg.EffectiveTokenTimeout(),
		id:               cfg.NodeID,
		now:              now,
		maxRingSeq:       persistedRingSeq,
		persistedRingSeq: persistedRingSeq,
		pending:          make([]pendingFrame, cfg.PendingFramesMax),
	}
	n.stats.DecodeErrorsByReason = map[string]uint64{}
	// A fresh node's "old ring" is one that never existed, so it shares it with nobody.
	n.oldRing = RingID{Rep: n.id, Seq: 0, Epoch: cfg.Incarnation}
	n.old = newStore(n.oldRing, cfg.WindowFramesMax, &n.bufs)
	n.ring = n.oldRing
	n.proc = []NodeID{n.id}
	n.enterGather("startup", false)
	return n, nil
}

// ID returns the node's id.
func (n *Node) ID() NodeID { return n.id }

// State returns the membership state.
func (n *Node) State() State { return n.state }

// Ring returns the ring in use and its members (do not modify the slice).
func (n *Node) Ring() (RingID, []NodeID) { return n.ring, n.members }

// Stats returns a copy of the counters.
func (n *Node) Stats() Stats {
	s := n.stats
	s.DecodeErrorsByReason = make(map[string]uint64, len(n.stats.DecodeErrorsByReason))
	for k, v := range n.stats.DecodeErrorsByReason {
		s.DecodeErrorsByReason[k] = v
	}
	return s
}

// Stopped reports whether the node has left (Leave) and produces nothing more.
func (n *Node) Stopped() bool { return n.stopped }

// PendingFrames returns how many submitted frames wait for the token.
func (n *Node) PendingFrames() int { return n.pendingCount }

// PendingRoom returns how many more frames Submit accepts now.
func (n *Node) PendingRoom() int { return len(n.pending) - n.pendingCount }

// HasFrame reports whether the node holds frame seq of ring (has), and whether it has any
// state for that ring at all (knows). For checkers and tests.
func (n *Node) HasFrame(ring RingID, seq uint64) (has, knows bool) {
	for _, s := range []*store{n.cur, n.old} {
		if s != nil && s.ring == ring {
			return seq <= s.aru || s.get(seq) != nil, true
		}
	}
	return false, false
}

// Submit queues a frame for ordering; the payload is copied. Safe frames are delivered only
// once every member of the configuration holds them. While the synchronisation hold is on
// (EnableSyncHold), the frame waits for ReleaseSync.
func (n *Node) Submit(payload []byte, safe bool) error {
	if n.stopped {
		return ErrStopped
	}
	if len(payload) > n.cfg.FrameBytesMax {
		return ErrFrameTooLarge
	}
	if n.pendingCount == len(n.pending) {
		return ErrQueueFull
	}
	p := &n.pending[(n.pendingHead+n.pendingCount)%len(n.pending)]
	p.safe = safe
	p.data = append(n.bufs.get(), payload...)
	n.pendingCount++
	if !n.syncHeld {
		n.wake()
	}
	return nil
}

// OnTokenVisit registers f to run at the start of each operational token visit, before
// the visit takes new frames from the queue: a layer above that packs messages into frames
// can hand over its partly filled frame just in time, as corosync's totempg does when the
// token arrives, instead of sending it early with few messages in it. f may call Submit.
func (n *Node) OnTokenVisit(f func()) { n.onVisit = f }

// TokenExpected reports whether a token visit is on its way: the node is operational and
// neither holds an idle ring's token nor believes the representative holds one. A frame
// queued while it is false may wait for a hold to end unless it is submitted now, which
// releases or cancels the hold.
func (n *Node) TokenExpected() bool {
	return n.state == StateOperational && n.heldToken == nil && !n.holdBelieved
}

// Leave announces that this node leaves the ring now (corosync: a join with the node in its
// own failed list, sent on shutdown) so peers reconfigure without waiting for a token timeout.
// The node produces nothing afterwards.
func (n *Node) Leave() {
	if n.stopped {
		return
	}
	n.out = Message{Header: Header{Ring: n.ring}, RingSeq: n.maxRingSeq, Leave: true, Failed: []NodeID{n.id}}
	n.emit(Broadcast, AppendJoin(n.pktBuf(), n.id, &n.out))
	n.stopped = true
	n.t = timers{}
}

// NextDeadline returns the time at which Tick must next be called, or 0 if no timer is armed.
func (n *Node) NextDeadline() time.Duration {
	var d time.Duration
	for _, t := range [...]time.Duration{n.t.tokenLoss, n.t.tokenRetransmit, n.t.hold, n.t.merge, n.t.join, n.t.consensus, n.t.loopback} {
		if t != 0 && (d == 0 || t < d) {
			d = t
		}
	}
	return d
}

// Tick advances the node's clock to now and fires expired timers.
func (n *Node) Tick(now time.Duration) {
	if now > n.now {
		n.now = now
	}
	if n.stopped {
		return
	}
	due := func(t *time.Duration) bool {
		if *t != 0 && *t <= n.now {
			*t = 0
			return true
		}
		return false
	}
	if due(&n.t.loopback) {
		pkts := n.loopbackPackets
		n.loopbackPackets = nil
		for _, p := range pkts {
			n.receive(p)
		}
	}
	if due(&n.t.tokenLoss) {
		n.onTokenLoss()
	}
	if due(&n.t.consensus) {
		n.onConsensusTimeout()
	}
	if due(&n.t.join) {
		n.sendJoin()
		n.checkConsensus()
	}
	if due(&n.t.tokenRetransmit) {
		n.onTokenRetransmit()
	}
	if due(&n.t.hold) {
		n.releaseHeldToken()
	}
	if due(&n.t.merge) {
		n.onMergeTimer()
	}
}

// Receive processes one packet received at time now. The packet is not retained.
func (n *Node) Receive(now time.Duration, pkt []byte) {
	if now > n.now {
		n.now = now
	}
	if n.stopped {
		return
	}
	n.receive(pkt)
}

func (n *Node) receive(pkt []byte) {
	m := &n.msg
	if err := Decode(pkt, m); err != nil {
		n.stats.DecodeErrors++
		n.stats.DecodeErrorsByReason[err.Error()]++
		return
	}
	if m.Sender == n.id && m.Type != MsgToken && m.Type != MsgCommit {
		return // our own broadcast echoed back by a link that loops
	}
	n.noteRingSeq(m.Ring.Seq)
	switch m.Type {
	case MsgToken:
		n.onToken(m)
	case MsgMcast:
		n.onMcast(m)
	case MsgJoin:
		n.onJoin(m)
	case MsgCommit:
		n.onCommit(m)
	case MsgMergeDetect:
		n.onMergeDetect(m)
	case MsgHoldCancel:
		n.onHoldCancel(m)
	}
}

// Ready returns the outputs accumulated since the last Advance.
func (n *Node) Ready() *Ready {
	if n.maxRingSeq > n.persistedRingSeq {
		n.rd.PersistRingSeq = n.maxRingSeq
	}
	return &n.rd
}

// Advance acknowledges the last Ready: its buffers may be reused.
func (n *Node) Advance() {
	if n.rd.PersistRingSeq != 0 {
		n.persistedRingSeq = n.rd.PersistRingSeq
	}
	n.rd.PersistRingSeq = 0
	n.rd.Packets = n.rd.Packets[:0]
	for i := range n.rd.Deliveries {
		n.rd.Deliveries[i] = Delivery{}
	}
	n.rd.Deliveries = n.rd.Deliveries[:0]
	n.rd.Events = n.rd.Events[:0]
	for _, s := range n.retiredStores {
		n.spareStore = s
	}
	n.retiredStores = n.retiredStores[:0]
	if n.cur != nil && n.state == StateOperational {
		n.released = n.cur.delivered
		n.cur.release(min(n.stable, n.released))
	}
}

// HasOutput reports whether Ready has anything to hand over.
func (n *Node) HasOutput() bool {
	return len(n.rd.Packets) > 0 || len(n.rd.Deliveries) > 0 || len(n.rd.Events) > 0 ||
		n.maxRingSeq > n.persistedRingSeq
}

// pktBuf returns an empty reusable buffer for the next packet.
func (n *Node) pktBuf() []byte {
	i := len(n.rd.Packets)
	if i == len(n.pktBufs) {
		n.pktBufs = append(n.pktBufs, make([]byte, 0, 256))
	}
	return n.pktBufs[i][:0]
}

// emit queues an encoded packet (built in pktBuf()) for sending.
func (n *Node) emit(to NodeID, b []byte) {
	i := len(n.rd.Packets)
	n.pktBufs[i] = b // keep the grown buffer for reuse
	if to == n.id {
		// A ring of one passes its token to itself: deliver it on the next Tick so that one
		// call never loops.
		n.loopbackPackets = append(n.loopbackPackets, append([]byte(nil), b...))
		n.t.loopback = n.now + 1 // deadlines are non-zero; 1ns is "at once"
		return
	}
	n.rd.Packets = append(n.rd.Packets, Packet{To: to, Data: b})
}

func (n *Node) event(format string, args ...any) {
	n.rd.Events = append(n.rd.Events, Event{At: n.now, Text: fmt.Sprintf(format, args...)})
}

func (n *Node) noteRingSeq(seq uint64) {
	if seq > n.maxRingSeq && seq < 1<<62 {
		n.maxRingSeq = seq
	}
}

func (n *Node) deliverFrame(f *frame, ring RingID) {
	n.rd.Deliveries = append(n.rd.Deliveries, Delivery{
		Kind: DeliverMessage, Ring: ring, Seq: f.seq, Sender: f.sender,
		Safe: f.flags&FlagSafe != 0, Payload: f.data,
	})
}

func (n *Node) deliverConfig(c *Configuration) {
	kind := DeliverRegular
	if c.Transitional {
		kind = DeliverTransitional
	}
	n.rd.Deliveries = append(n.rd.Deliveries, Delivery{Kind: kind, Ring: c.Ring, Config: c})
}

func (n *Node) successor() NodeID {
	i, _ := slices.BinarySearch(n.members, n.id)
	return n.members[(i+1)%len(n.members)]
}

func (n *Node) isRep() bool { return len(n.members) > 0 && n.members[0] == n.id }
