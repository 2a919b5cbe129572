package rdma

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"

	link "github.com/corosync-go/corosync/l0_link"
)

// Link is an RDMA UD link. See link.Link for the calling contract. Receive holds rxMu and
// Send holds txMu, so the two run concurrently; Close takes both to wait them out before
// it destroys what they use.
type Link struct {
	cfg       Config
	gidIndex  int
	qpn       uint32 // kept: the backend's queue pair is gone after Close
	mtuBytes  int    // largest UD message, frame header included
	slotBytes int
	maxLent   int // receive slots one Receive may hand out

	ctx            Context
	pd             ProtectionDomain
	sendCQ, recvCQ CompletionQueue
	qp             QueuePair
	mr             MemoryRegion
	mem            []byte // mr's bytes: receive slots, then send slots

	closed atomic.Bool

	rxMu       sync.Mutex
	rxWC       []WorkCompletion
	recvPosted []bool // recvPosted[slot]: the device owns the slot
	toPost     []int  // slots to post at the next Receive: lent out or refused before

	txMu     sync.Mutex
	txWC     []WorkCompletion
	sendBusy []bool // sendBusy[slot]: posted, completion not yet seen
	freeSend []int
	ahs      map[GID]AddressHandle

	peersMu sync.Mutex
	peers   map[netip.Addr]uint32

	stats counters
}

var _ link.Link = (*Link)(nil)

type counters = link.Counters

// Open finds the RDMA device for cfg and opens a link on it through libibverbs. On a
// machine without RDMA hardware it fails with an error wrapping ErrNoDevice; in a binary
// built without -tags rdma, with ErrNoVerbs.
func Open(cfg Config) (*Link, error) {
	devs, err := Discover()
	if err != nil {
		return nil, err
	}
	if len(devs) == 0 {
		return nil, noDeviceError()
	}
	if cfg.Device, err = chooseDevice(cfg, devs); err != nil {
		return nil, err
	}
	v, err := SystemVerbs()
	if err != nil {
		return nil, err
	}
	return OpenWith(v, cfg)
}

// OpenWith opens a link on cfg.Device of the given backend; tests pass a FakeFabric.
func OpenWith(v Verbs, cfg Config) (*Link, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	l := &Link{cfg: cfg, peers: cfg.Peers, ahs: map[GID]AddressHandle{}}
	if err := l.setup(v); err != nil {
		return nil, errors.Join(err, l.release())
	}
	return l, nil
}

// setup creates the verbs objects in dependency order and posts every receive slot. On
// error the caller releases whatever was created.
func (l *Link) setup(v Verbs) error {
	cfg := &l.cfg
	var err error
	if l.ctx, err = v.OpenDevice(cfg.Device); err != nil {
		return err
	}
	port, err := l.ctx.QueryPort(cfg.Port)
	if err != nil {
		return err
	}
	if !port.Active {
		return fmt.Errorf("rdma: %s port %d is not active (link down?)", cfg.Device, cfg.Port)
	}
	l.mtuBytes = port.ActiveMTUBytes
	if cfg.MTUBytes > 0 {
		l.mtuBytes = min(l.mtuBytes, cfg.MTUBytes)
	}
	// No link carries more than a UDP datagram, which also fits the frame's length field.
	l.mtuBytes = min(l.mtuBytes, frameHeaderBytes+link.MaxDatagramBytes)
	if l.mtuBytes <= frameHeaderBytes {
		return fmt.Errorf("rdma: %d-byte MTU leaves no room for a payload", l.mtuBytes)
	}
	if l.gidIndex, err = pickGID(l.ctx, cfg.Port, port.GIDTableLen, cfg.Local.Addr(), cfg.GIDIndex); err != nil {
		return fmt.Errorf("rdma: %s port %d: %w", cfg.Device, cfg.Port, err)
	}
	// Receive slots need room for the GRH in front of the largest message.
	l.slotBytes = (GRHBytes + l.mtuBytes + slotAlignBytes - 1) / slotAlignBytes * slotAlignBytes
	l.maxLent = cfg.RecvSlots / 2

	if l.pd, err = l.ctx.AllocPD(); err != nil {
		return err
	}
	if l.sendCQ, err = l.ctx.CreateCQ(cfg.SendSlots); err != nil {
		return err
	}
	if l.recvCQ, err = l.ctx.CreateCQ(cfg.RecvSlots); err != nil {
		return err
	}
	if l.mr, err = l.pd.AllocMemory((cfg.RecvSlots + cfg.SendSlots) * l.slotBytes); err != nil {
		return err
	}
	l.mem = l.mr.Bytes()
	l.qp, err = l.pd.CreateUDQP(QPConfig{SendCQ: l.sendCQ, RecvCQ: l.recvCQ, SendWRs: cfg.SendSlots, RecvWRs: cfg.RecvSlots})
	if err != nil {
		return err
	}
	l.qpn = l.qp.QPN()
	if err := l.qp.ModifyToInit(cfg.Port, pkeyIndex, cfg.QKey); err != nil {
		return err
	}
	// Receive buffers go in before RTR so that nothing arriving at once is dropped.
	l.recvPosted = make([]bool, cfg.RecvSlots)
	for slot := range cfg.RecvSlots {
		if err := l.postRecv(slot); err != nil {
			return err
		}
	}
	if err := l.qp.ModifyToRTR(); err != nil {
		return err
	}
	if err := l.qp.ModifyToRTS(initialPSN); err != nil {
		return err
	}
	l.rxWC = make([]WorkCompletion, cfg.RecvSlots)
	l.txWC = make([]WorkCompletion, cfg.SendSlots)
	l.sendBusy = make([]bool, cfg.SendSlots)
	l.freeSend = make([]int, 0, cfg.SendSlots)
	for slot := cfg.SendSlots - 1; slot >= 0; slot-- {
		l.freeSend = append(l.freeSend, slot)
	}
	return nil
}

// LocalAddr implements link.Link.
func (l *Link) LocalAddr() netip.AddrPort { return l.cfg.Local }

// MaxPayloadBytes implements link.Link: the path MTU less the frame header.
func (l *Link) MaxPayloadBytes() int { return l.mtuBytes - frameHeaderBytes }

// Kind implements link.Link.
func (l *Link) Kind() string { return "rdma" }

// QPN is this link's queue pair number, which peers need in their Config.Peers.
func (l *Link) QPN() uint32 { return l.qpn }

// GIDIndex is the GID table entry the link sends from.
func (l *Link) GIDIndex() int { return l.gidIndex }

// Stats implements link.Link. It first collects finished sends, so that failed ones show
// in TxErrors without waiting for the next Send.
func (l *Link) Stats() link.Stats {
	l.txMu.Lock()
	if !l.closed.Load() {
		l.reapSends()
	}
	l.txMu.Unlock()
	return l.stats.Snapshot()
}

// Close implements link.Link. A pending Receive returns ErrClosed within rxWaitSlice.
func (l *Link) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	l.rxMu.Lock()
	defer l.rxMu.Unlock()
	l.txMu.Lock()
	defer l.txMu.Unlock()
	return l.release()
}

// release destroys the verbs objects children first, as verbs refuses otherwise. Fields
// are nil for objects a failed Open never created.
func (l *Link) release() error {
	var errs []error
	for _, ah := range l.ahs {
		errs = append(errs, ah.Close())
	}
	l.ahs = nil
	for _, c := range []io.Closer{l.qp, l.mr, l.recvCQ, l.sendCQ, l.pd, l.ctx} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	l.mem = nil
	return errors.Join(errs...)
}

// peerQPN looks a peer's queue pair number up.
func (l *Link) peerQPN(a netip.Addr) (uint32, bool) {
	l.peersMu.Lock()
	defer l.peersMu.Unlock()
	qpn, ok := l.peers[a]
	return qpn, ok
}

// learn records the queue pair a datagram came from. A known peer's entry is replaced,
// because a restarted peer comes back with a new queue pair; new peers are added while
// the table has room.
func (l *Link) learn(a netip.Addr, qpn uint32) {
	l.peersMu.Lock()
	defer l.peersMu.Unlock()
	if _, known := l.peers[a]; known || len(l.peers) < maxPeers {
		l.peers[a] = qpn
	}
}

// SetPeer records the queue pair number of the peer at addr, for peers learned of after
// Open (from a membership service, say). It replaces an entry from Config.Peers.
func (l *Link) SetPeer(addr netip.Addr, qpn uint32) {
	l.peersMu.Lock()
	defer l.peersMu.Unlock()
	l.peers[peerKey(addr)] = qpn
}
