// Package ploadsvc is corosync's profile loading service (exec/pload.c of corosync 3.1.7,
// service id 4): a load generator for measuring the ring. Setting the cmap key pload.start
// to StartPhrase makes the node multicast a start message; every node that delivers it
// multicasts pload.count agreed messages of pload.size bytes (defaults 1,500,000 and 300)
// as fast as the ring takes them, and a node that has delivered that many messages (from
// every sender together) logs the rate and ends the daemon "the hard way" with status 99,
// as 3.1.7 does. It is never started by default.
package ploadsvc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/executive"
	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

// ServiceID is corosync's PLOAD_SERVICE.
const ServiceID = 4

// Name is the engine's name as corosync logs it.
const Name = "corosync profile loading service"

// Subsys is the engine's log subsystem.
const Subsys = "PLOAD"

// StartPhrase is the value of pload.start that starts the load.
const StartPhrase = "i_totally_understand_pload_will_crash_my_cluster_and_kill_corosync_on_exit"

// ExitStatus is corosync's COROSYNC_DONE_PLOAD, the daemon's status when the load is done.
const ExitStatus = 99

// Exec message ids (corosync's MESSAGE_REQ_EXEC_PLOAD_*).
const (
	execStart = 0
	execMcast = 1
)

// Defaults and bounds of pload.count and pload.size (pload_read_config).
const (
	defaultCount = 1500000
	defaultSize  = 300
	// sizeMax is corosync's MESSAGE_SIZE_MAX.
	sizeMax = 1 << 20
	// headerBytes is what of pload.size the executive's message id takes (corosync counts
	// its 8-byte request header in the size the same way).
	headerBytes = 2
)

// retryPause is how long the sender waits when the ring's queue is full (corosync's
// schedwrk runs again at the next turn of its main loop).
const retryPause = 200 * time.Microsecond

// Sender multicasts the engine's messages (executive.Endpoint).
type Sender interface {
	Send(msgID uint16, msg []byte, g evs.Guarantee) error
}

// Config configures the engine.
type Config struct {
	// Map holds pload.count, pload.size and pload.start.
	Map *icmap.Map
	Log *slog.Logger
	// Exit ends the daemon at once with status (corosync calls exit()).
	Exit func(status int)
}

// Engine is the pload engine.
type Engine struct {
	cfg  Config
	log  *slog.Logger
	send Sender
	ctx  context.Context

	mu        sync.Mutex
	started   bool
	wanted    uint32
	size      uint32
	delivered uint32
	first     time.Time

	badMessages atomic.Uint64
}

// BadMessages counts the exec messages dropped as malformed or of an unknown id.
func (e *Engine) BadMessages() uint64 { return e.badMessages.Load() }

// New creates the engine; Bind gives it its Sender and Start its tracking of pload.*.
func New(c Config) *Engine {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return &Engine{cfg: c, log: c.Log.With(logsys.SubsysKey, Subsys), ctx: context.Background()}
}

// Bind sets the sender of the engine's ordered messages.
func (e *Engine) Bind(s Sender) { e.send = s }

// ID is the engine's service id.
func (e *Engine) ID() uint16 { return ServiceID }

// Name is the engine's long name.
func (e *Engine) Name() string { return Name }

// Start follows the pload.* keys until ctx ends (pload_exec_init_fn); ctx also bounds the
// sending of a started load.
func (e *Engine) Start(ctx context.Context) error {
	e.ctx = ctx
	h, err := e.cfg.Map.Track("pload.", icmap.Add|icmap.Modify|icmap.Delete|icmap.Prefix,
		func(icmap.Event, string, cmap.Value, cmap.Value) { e.readConfig() })
	if err != nil {
		return errors.New("Unable to setup pload config tracking!")
	}
	go func() {
		<-ctx.Done()
		e.cfg.Map.Untrack(h)
	}()
	return nil
}

// readConfig is pload_read_config: on any pload.* change, a pload.start holding the
// phrase starts the load once, with pload.count and pload.size where they are uint32.
func (e *Engine) readConfig() {
	count, size := uint32(defaultCount), uint32(defaultSize)
	if v, err := e.cfg.Map.Get("pload.count"); err == nil && v.Type() == cmap.TypeUint32 {
		count = v.Uint32()
	}
	if v, err := e.cfg.Map.Get("pload.size"); err == nil && v.Type() == cmap.TypeUint32 {
		size = v.Uint32()
	}
	if size > sizeMax {
		size = sizeMax
		e.log.Warn(fmt.Sprintf("pload size limited to %d", size))
	}
	e.mu.Lock()
	started := e.started
	e.mu.Unlock()
	v, err := e.cfg.Map.Get("pload.start")
	if started || err != nil || v.Type() != cmap.TypeString || v.String() != StartPhrase {
		return
	}
	e.log.Warn("Starting pload!")
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], count)
	binary.LittleEndian.PutUint32(b[4:], size)
	go e.sendRetrying(execStart, b[:], nil)
}

// Deliver handles the engine's ordered messages.
func (e *Engine) Deliver(sender evs.NodeID, id uint16, msg []byte) {
	switch id {
	case execStart:
		if len(msg) < 8 {
			e.badMessages.Add(1)
			e.log.Warn("dropping a pload start message of the wrong size", "sender", sender, "bytes", len(msg))
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.started {
			return
		}
		e.started = true
		e.wanted = binary.LittleEndian.Uint32(msg[0:])
		e.size = binary.LittleEndian.Uint32(msg[4:])
		go e.sendLoad(e.wanted, e.size)
	case execMcast:
		e.mu.Lock()
		if e.delivered == 0 {
			e.first = time.Now()
		}
		e.delivered++
		done := e.delivered == e.wanted
		n, size := e.delivered, e.size
		e.mu.Unlock()
		if done {
			e.finish(n, size, time.Since(e.first))
		}
	default:
		e.badMessages.Add(1)
		e.log.Warn("dropping a pload message of unknown id", "sender", sender, "id", id)
	}
}

// sendLoad multicasts count messages of size bytes (pload_send_message).
func (e *Engine) sendLoad(count, size uint32) {
	body := make([]byte, max(int(size)-headerBytes, 0))
	pause := time.NewTimer(retryPause)
	defer pause.Stop()
	for range count {
		if !e.sendRetrying(execMcast, body, pause) {
			return
		}
	}
}

// sendRetrying sends msg, waiting on pause (a new timer when nil) while the ring's queue
// is full; false if it cannot be sent (the node stops).
func (e *Engine) sendRetrying(id uint16, msg []byte, pause *time.Timer) bool {
	for {
		err := e.send.Send(id, msg, evs.Agreed)
		if err == nil {
			return true
		}
		if !errors.Is(err, executive.ErrTryAgain) {
			e.log.Debug("pload message not sent", "err", err)
			return false
		}
		if pause == nil {
			pause = time.NewTimer(retryPause)
			defer pause.Stop()
		} else {
			pause.Reset(retryPause)
		}
		select {
		case <-e.ctx.Done():
			return false
		case <-pause.C:
		}
	}
}

// finish logs the rate as 3.1.7 does (its arithmetic: the MB/s product in single
// precision) and ends the daemon.
func (e *Engine) finish(n, size uint32, elapsed time.Duration) {
	secs := float64(elapsed.Nanoseconds()) / 1e9
	tps := float64(float32(n)) / secs
	mbs := float64(float32(n)*float32(size)) / secs / (1024.0 * 1024.0)
	e.log.Log(context.Background(), logsys.LevelNotice,
		fmt.Sprintf("%5d Writes %d bytes per write %7.3f seconds runtime, %9.3f TP/S, %9.3f MB/S.", n, size, secs, tps, mbs))
	e.log.Warn("Stopping corosync the hard way")
	e.cfg.Exit(ExitStatus)
}
