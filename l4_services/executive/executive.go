package executive

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

// Subsystem names used in log records (the "subsys" attribute).
const (
	SubsysTotem = "TOTEM"
	SubsysSync  = "SYNC"
	SubsysMain  = "MAIN"
)

// Errors.
var (
	// ErrTryAgain: the submit queue is full; retry once the ring has moved
	// (CS_ERR_TRY_AGAIN to IPC clients).
	ErrTryAgain = errors.New("executive: queue full, try again")
	// ErrMessageTooLarge: the message exceeds the configured maximum.
	ErrMessageTooLarge = evs.ErrMessageTooLarge
	// ErrStopped: the executive is not running any more.
	ErrStopped = errors.New("executive: stopped")
)

// syncService is the EVS service id of the executive's own barrier messages; corosync's
// service ids are small, so it cannot collide with an engine.
const syncService = 0xFFFF

// msgHeaderBytes is the message id every engine message starts with.
const msgHeaderBytes = 2

// Defaults.
const (
	DefaultQueueBytes = 4 << 20
	inboxPacketsMax   = 1 << 16
	// sendSpareMax and sendSpareBytes bound the send buffers kept for reuse: enough for a
	// busy ring's queue of small messages, without keeping large ones.
	sendSpareMax   = 256
	sendSpareBytes = 64 << 10
)

// Config configures an Executive.
type Config struct {
	Totem           evs.TotemConfig
	MessageBytesMax int
	// RingSeq is the highest ring sequence stored by a previous run (0 if none).
	RingSeq uint64
	// StoreRingSeq stores a new highest ring sequence durably. It runs before the packets
	// that use the sequence are sent; an error is logged and the packets go out anyway
	// (the ring id's epoch still keeps ids unique).
	StoreRingSeq func(seq uint64) error
	// Send hands packets to the transport in order. Packet data is valid only during the
	// call.
	Send func(pkts []evs.Packet) error
	// Log receives the executive's records; subsystems are set with logsys.SubsysKey.
	Log *slog.Logger
	// QueueBytes bounds messages submitted and not yet taken by the ring
	// (DefaultQueueBytes); Submit says ErrTryAgain beyond it.
	QueueBytes int
}

type queued struct {
	service uint16
	g       evs.Guarantee
	msg     []byte // message id included
}

type inPacket struct {
	from evs.NodeID
	buf  []byte
}

// Executive is one node's run loop. Create it with New, start it with Run.
type Executive struct {
	cfg                    Config
	node                   *evs.Node
	start                  time.Time
	engines                map[uint16]Engine
	order                  []Engine // by id
	syncers                []Syncer
	names                  []string // of syncers
	watchers               []ConfChanger
	log, totemLog, syncLog *slog.Logger

	wake chan struct{}

	mu         sync.Mutex // guards the fields below
	inbox      []inPacket
	spare      [][]byte
	sendSpare  [][]byte // buffers of messages the ring has copied, for submit to reuse
	queue      []queued
	queueBytes int
	// syncQueue holds synchronisation messages (barriers, SendSync): while the ring holds
	// the others for a new configuration, only these go out.
	syncQueue []queued
	funcs     []func()
	leave     bool
	stopped   bool
	dropped   uint64

	counters counters
	pg       queueFigures
	stall    stallMeter

	sync      syncState
	ready     chan struct{}
	readyOnce sync.Once
	done      chan struct{} // closed when Run returns
	outBuf    []byte
}

// New creates an executive running the given engines (ids must be distinct).
func New(cfg Config, engines ...Engine) (*Executive, error) {
	if cfg.Send == nil {
		return nil, errors.New("executive: Config.Send is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MessageBytesMax <= 0 {
		cfg.MessageBytesMax = evs.DefaultMessageBytesMax
	}
	if cfg.QueueBytes <= 0 {
		cfg.QueueBytes = DefaultQueueBytes
	}
	start := time.Now()
	// Messages of services wait at each new ring until every engine is synchronised, so
	// that all members apply them to the same state (corosync's waiting_trans_ack).
	node, err := evs.NewNode(evs.Config{Totem: cfg.Totem, MessageBytesMax: cfg.MessageBytesMax, HoldForSync: true}, cfg.RingSeq, 0)
	if err != nil {
		return nil, err
	}
	x := &Executive{
		cfg: cfg, node: node, start: start,
		engines:  map[uint16]Engine{},
		wake:     make(chan struct{}, 1),
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
		counters: counters{},
		log:      cfg.Log.With(logsys.SubsysKey, SubsysMain),
		totemLog: cfg.Log.With(logsys.SubsysKey, SubsysTotem),
		syncLog:  cfg.Log.With(logsys.SubsysKey, SubsysSync),
	}
	for _, e := range engines {
		if e.ID() == syncService {
			return nil, fmt.Errorf("executive: service id %d is reserved", e.ID())
		}
		if _, dup := x.engines[e.ID()]; dup {
			return nil, fmt.Errorf("executive: two engines with service id %d", e.ID())
		}
		x.engines[e.ID()] = e
		x.order = append(x.order, e)
	}
	slices.SortFunc(x.order, func(a, b Engine) int { return int(a.ID()) - int(b.ID()) })
	for _, e := range x.order {
		if s, ok := e.(Syncer); ok {
			x.syncers = append(x.syncers, s)
			x.names = append(x.names, e.Name())
		}
	}
	return x, nil
}

// Watch registers an observer of configuration changes that is not an engine (the
// runtime.members keys, for example). Call it before Run.
func (x *Executive) Watch(w ConfChanger) { x.watchers = append(x.watchers, w) }

// NodeID is this node's id.
func (x *Executive) NodeID() evs.NodeID { return x.cfg.Totem.NodeID }

// Ready is closed once the first synchronisation has completed: the node provides service.
func (x *Executive) Ready() <-chan struct{} { return x.ready }

// now is the executive's monotonic clock.
func (x *Executive) now() time.Duration { return time.Since(x.start) }

func (x *Executive) poke() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Receive queues a packet from the transport; pkt is copied. Safe from any goroutine.
func (x *Executive) Receive(from evs.NodeID, pkt []byte) {
	x.mu.Lock()
	if x.stopped || len(x.inbox) >= inboxPacketsMax {
		x.dropped++
		x.mu.Unlock()
		return
	}
	var b []byte
	if n := len(x.spare); n > 0 {
		b, x.spare = x.spare[n-1][:0], x.spare[:n-1]
	}
	x.inbox = append(x.inbox, inPacket{from: from, buf: append(b, pkt...)})
	x.mu.Unlock()
	x.poke()
}

// submit queues msg under msgID for service with guarantee g; msg is copied. A
// synchronisation message (sync) goes to its own queue, which has no byte limit: there are
// few of them and synchronisation must not stall behind application traffic.
func (x *Executive) submit(service uint16, msgID uint16, msg []byte, g evs.Guarantee, sync bool) error {
	total := msgHeaderBytes + len(msg)
	if total > x.cfg.MessageBytesMax {
		return ErrMessageTooLarge
	}
	x.mu.Lock()
	if x.stopped {
		x.mu.Unlock()
		return ErrStopped
	}
	if !sync && x.queueBytes+total > x.cfg.QueueBytes && len(x.queue) > 0 {
		x.mu.Unlock()
		return ErrTryAgain
	}
	var buf []byte
	if n := len(x.sendSpare); n > 0 && cap(x.sendSpare[n-1]) >= total {
		buf, x.sendSpare = x.sendSpare[n-1][:total], x.sendSpare[:n-1]
	} else {
		buf = make([]byte, total)
	}
	binary.LittleEndian.PutUint16(buf, msgID)
	copy(buf[msgHeaderBytes:], msg)
	if sync {
		x.syncQueue = append(x.syncQueue, queued{service: service, g: g, msg: buf})
	} else {
		x.queue = append(x.queue, queued{service: service, g: g, msg: buf})
	}
	x.queueBytes += total
	x.mu.Unlock()
	x.poke()
	return nil
}

// Do runs f on the executive's goroutine and waits for it, or for ctx.
func (x *Executive) Do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	x.mu.Lock()
	if x.stopped {
		x.mu.Unlock()
		return ErrStopped
	}
	x.funcs = append(x.funcs, func() { f(); close(done) })
	x.mu.Unlock()
	x.poke()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed once Run has returned (after Leave, the leave has been sent).
func (x *Executive) Done() <-chan struct{} { return x.done }

// Leave makes Run leave the ring gracefully (peers reconfigure at once, without waiting
// for a token timeout) and return. Safe from any goroutine.
func (x *Executive) Leave() {
	x.mu.Lock()
	x.leave = true
	x.mu.Unlock()
	x.poke()
}

// Run drives the node until ctx ends (an abrupt stop: peers notice by token loss) or Leave
// completes. It returns nil after a graceful leave.
func (x *Executive) Run(ctx context.Context) error {
	defer close(x.done)
	defer func() {
		x.mu.Lock()
		x.stopped = true
		funcs := x.funcs
		x.funcs = nil
		x.mu.Unlock()
		for _, f := range funcs { // release waiters
			f()
		}
	}()
	seq := x.cfg.RingSeq
	x.totemLog.Debug(fmt.Sprintf("Created or loaded sequence id %x.%x for this ring.", uint32(x.NodeID()), seq))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var inbox []inPacket
	var funcs []func()
	for {
		start := x.now()
		x.mu.Lock()
		inbox, x.inbox = x.inbox, inbox[:0]
		funcs, x.funcs = x.funcs, funcs[:0]
		leave := x.leave
		x.mu.Unlock()

		// Messages submitted meanwhile go into the open frame first: a token among the
		// packets takes that frame with it.
		x.takeQueue()
		now := x.now()
		for i := range inbox {
			x.node.Receive(now, inbox[i].buf)
		}
		x.mu.Lock()
		for i := range inbox {
			x.spare = append(x.spare, inbox[i].buf)
			inbox[i].buf = nil
		}
		x.mu.Unlock()
		for i, f := range funcs {
			f()
			funcs[i] = nil
		}
		x.node.Tick(x.now())
		x.pump()
		x.publishRoom()
		if leave {
			x.node.Leave()
			x.pump()
			x.log.Debug("left the ring")
			return nil
		}

		now = x.now()
		x.stall.note(now - start)
		wait := x.node.NextDeadline() - now
		if wait < 0 {
			wait = 0
		}
		if wait > time.Hour {
			wait = time.Hour
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-x.wake:
		case <-timer.C:
			x.stall.note(x.now() - (now + wait)) // how late the loop woke for it
		}
	}
}

// pump moves queued submissions into the node and handles its outputs until it has none.
func (x *Executive) pump() {
	for range 64 {
		x.takeQueue()
		rd := x.node.Ready()
		if rd.PersistRingSeq == 0 && len(rd.Packets) == 0 && len(rd.Events) == 0 && len(rd.Log) == 0 {
			// Advance even so: the ring may have delivered frames that made no event yet
			// (fragments of a larger message), and a Ready without Advance hands them to
			// l3 again, which appends them to the message a second time.
			x.node.Advance()
			return
		}
		if rd.PersistRingSeq != 0 {
			x.log.Debug(fmt.Sprintf("Storing new sequence id for ring %x", rd.PersistRingSeq))
			if x.cfg.StoreRingSeq != nil {
				if err := x.cfg.StoreRingSeq(rd.PersistRingSeq); err != nil {
					x.log.Error("cannot store the ring sequence", "err", err)
				}
			}
		}
		if len(rd.Packets) > 0 {
			if err := x.cfg.Send(rd.Packets); err != nil {
				x.totemLog.Debug("send failed", "err", err)
			}
		}
		for _, e := range rd.Log {
			x.logTotem(e.Text)
		}
		for i := range rd.Events {
			x.handle(&rd.Events[i])
		}
		x.node.Advance()
		x.syncProcess()
	}
}

// takeQueue submits queued messages while the node accepts them, synchronisation
// messages first.
func (x *Executive) takeQueue() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.syncQueue = x.take(x.syncQueue, x.node.SubmitSync)
	x.queue = x.take(x.queue, x.node.Submit)
}

// take submits q's messages in order until submit refuses one for lack of room, and
// returns what is left. Called with x.mu held.
func (x *Executive) take(q []queued, submit func(uint16, []byte, evs.Guarantee) error) []queued {
	n := 0
	for _, m := range q {
		if err := submit(m.service, m.msg, m.g); err != nil {
			if errors.Is(err, evs.ErrTryAgain) {
				break
			}
			x.log.Error("dropping a message the ring refused", "service", m.service, "err", err)
		}
		if m.service != syncService {
			x.counters.add(m.service, binary.LittleEndian.Uint16(m.msg), true)
		}
		x.queueBytes -= len(m.msg)
		if cap(m.msg) <= sendSpareBytes && len(x.sendSpare) < sendSpareMax {
			x.sendSpare = append(x.sendSpare, m.msg) // the ring copied it
		}
		n++
	}
	if n == 0 {
		return q
	}
	clear(q[:n])
	return append(q[:0], q[n:]...)
}

// logTotem logs a protocol event, at notice for the lines corosync logs at notice.
func (x *Executive) logTotem(text string) {
	level := slog.LevelDebug
	for _, p := range []string{"A new membership", "A processor failed", "The token was lost", "FAILED TO RECEIVE"} {
		if strings.HasPrefix(text, p) {
			level = logsys.LevelNotice
		}
	}
	x.totemLog.Log(context.Background(), level, text)
}

func (x *Executive) handle(ev *evs.Event) {
	switch ev.Kind {
	case evs.EventMessage:
		if ev.Service == syncService {
			x.barrier(ev.Sender, ev.Payload)
			return
		}
		if len(ev.Payload) < msgHeaderBytes {
			x.log.Debug("dropping a message without a message id", "service", ev.Service, "sender", ev.Sender)
			return
		}
		id := binary.LittleEndian.Uint16(ev.Payload)
		e := x.engines[ev.Service]
		d, ok := e.(Deliverer)
		if !ok {
			x.log.Debug("message for a service not loaded here", "service", ev.Service, "sender", ev.Sender)
			return
		}
		x.counters.add(ev.Service, id, false)
		d.Deliver(ev.Sender, id, ev.Payload[msgHeaderBytes:])
	case evs.EventTransitional, evs.EventRegular:
		for _, e := range x.order {
			if c, ok := e.(ConfChanger); ok {
				c.ConfChg(ev.Config)
			}
		}
		for _, w := range x.watchers {
			w.ConfChg(ev.Config)
		}
		if ev.Kind == evs.EventTransitional {
			x.sync.trans = append(x.sync.trans[:0], ev.Config.Members...)
			x.sync.haveTrans = true
		} else {
			x.syncStart(ev.Config)
		}
	}
}
