package votequorum

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/corosync-go/corosync/ipc"
	vq "github.com/corosync-go/corosync/ipc/votequorum"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// ServiceID is corosync's VOTEQUORUM_SERVICE.
const ServiceID = 5

// Name is the engine's name as corosync logs it.
const Name = "corosync vote quorum service v1.0"

// Sender multicasts the engine's messages (executive.Endpoint); all of them go out even
// while a configuration is being synchronised.
type Sender interface {
	SendSync(msgID uint16, msg []byte, g evs.Guarantee) error
}

// Config configures the engine.
type Config struct {
	NodeID uint32
	// Map holds the configuration (quorum.*, nodelist.*) and receives
	// runtime.votequorum.*.
	Map *icmap.Map
	// StateDir holds the ev_tracking file (system.state_dir).
	StateDir string
	Log      *slog.Logger
	// SetQuorum is told every quorum decision: the quorum service's quorum_api_set_quorum.
	// It runs under the engine's lock and must not call back into it.
	SetQuorum func(members []uint32, quorate bool, ring vq.RingID)
}

// Engine is the votequorum service engine and its IPC service ("votequorum").
type Engine struct {
	cfg    Config
	sender Sender

	mu     sync.Mutex
	core   *core
	timers [2]*time.Timer
	gen    [2]uint64
	left   chan struct{} // closed when this node's leaving nodeinfo is delivered

	keys    chan struct{}
	keyMu   sync.Mutex
	changed keyChanges
}

// keyChanges are the configuration changes waiting for the engine's goroutine: a burst
// of them (a reload writes many keys) re-reads the configuration once.
type keyChanges struct {
	cancelWFA   bool   // quorum.cancel_wait_for_all was set
	reloadEnded bool   // config.totemconfig_reload_in_progress changed
	other       string // the last of the other quorum.* and nodelist.* keys changed
}

// New creates the engine; Bind must give it its Sender, then Init reads the configuration.
func New(cfg Config) *Engine {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Map == nil {
		cfg.Map = icmap.New()
	}
	if cfg.SetQuorum == nil {
		cfg.SetQuorum = func([]uint32, bool, vq.RingID) {}
	}
	e := &Engine{cfg: cfg, keys: make(chan struct{}, 1)}
	e.core = newCore(cfg.Map, cfg.Log, (*engineHooks)(e), cfg.NodeID, cfg.StateDir)
	return e
}

// Bind sets the sender of the engine's ordered messages.
func (e *Engine) Bind(s Sender) { e.sender = s }

// ID is the engine's service id.
func (e *Engine) ID() uint16 { return ServiceID }

// Name is the engine's long name.
func (e *Engine) Name() string { return Name }

// Init is votequorum_exec_init_fn: it reads quorum.* and the node list, computes the
// first quorum and announces this node. An error is a configuration error corosync
// refuses to start with.
func (e *Engine) Init() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.core.init()
}

// Start follows changes of quorum.*, nodelist.* and reloads (votequorum_refresh_config)
// until ctx ends.
func (e *Engine) Start(ctx context.Context) error {
	var hs []icmap.TrackHandle
	for _, t := range []struct {
		key   string
		flags icmap.Event
	}{
		{"nodelist.", icmap.Add | icmap.Delete | icmap.Modify | icmap.Prefix},
		{"quorum.", icmap.Add | icmap.Delete | icmap.Modify | icmap.Prefix},
		{"config.totemconfig_reload_in_progress", icmap.Add | icmap.Modify},
	} {
		h, err := e.cfg.Map.Track(t.key, t.flags, func(_ icmap.Event, key string, _, _ icmap.Value) {
			// Trackers must not change the map synchronously: note the change. As in
			// corosync, a change made while a reload is under way is ignored (the
			// reload's end re-reads everything).
			e.keyMu.Lock()
			switch key {
			case "quorum.cancel_wait_for_all":
				e.changed.cancelWFA = true
			case "config.totemconfig_reload_in_progress":
				e.changed.reloadEnded = true
			default:
				if !reloading(e.cfg.Map) {
					e.changed.other = key
				}
			}
			e.keyMu.Unlock()
			select {
			case e.keys <- struct{}{}:
			default:
			}
		})
		if err != nil {
			return err
		}
		hs = append(hs, h)
	}
	go func() {
		defer func() {
			for _, h := range hs {
				e.cfg.Map.Untrack(h)
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-e.keys:
				e.keyMu.Lock()
				ch := e.changed
				e.changed = keyChanges{}
				e.keyMu.Unlock()
				e.mu.Lock()
				if ch.cancelWFA {
					e.core.refresh("quorum.cancel_wait_for_all")
				}
				reread := ch.reloadEnded && e.core.refresh("config.totemconfig_reload_in_progress")
				if ch.other != "" && !reread {
					e.core.refresh(ch.other)
				}
				e.mu.Unlock()
			}
		}
	}()
	return nil
}

// Leave is votequorum_exec_exit_fn: with allow_downscale, it tells the others that this
// node leaves and waits (bounded by ctx) until that message is delivered, so that the ring
// carries it before the node departs.
func (e *Engine) Leave(ctx context.Context) {
	e.mu.Lock()
	e.left = make(chan struct{})
	left := e.left
	sent := e.core.leaving()
	e.mu.Unlock()
	if !sent {
		return
	}
	select {
	case <-left:
	case <-ctx.Done():
	}
}

// Deliver handles the engine's ordered messages.
func (e *Engine) Deliver(sender evs.NodeID, msgID uint16, msg []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.core.deliver(uint32(sender), msgID, msg)
	if e.left != nil && uint32(sender) == e.cfg.NodeID && msgID == execNodeInfo {
		if m, err := decodeNodeInfo(msg); err == nil && m.NodeID == e.cfg.NodeID && m.Flags&flagLeaving != 0 {
			close(e.left)
			e.left = nil
		}
	}
}

func toRing(r evs.RingID) vq.RingID { return vq.RingID{NodeID: uint32(r.Rep), Seq: r.Seq} }

// ConfChg marks synchronisation in progress from the regular configuration on, before
// SyncInit (which the executive calls for every engine right after it, as corosync does):
// nothing delivered in between may announce a quorum for the old member list.
func (e *Engine) ConfChg(c *evs.Configuration) {
	if c.Transitional {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.core.syncInProgress = true
}

// SyncInit implements executive.Syncer.
func (e *Engine) SyncInit(trans, members []evs.NodeID, ring evs.RingID) {
	ids := make([]uint32, len(members))
	for i, m := range members {
		ids[i] = uint32(m)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.core.syncInit(ids, toRing(ring))
}

// SyncProcess implements executive.Syncer.
func (e *Engine) SyncProcess() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.core.syncProcess()
}

// SyncActivate implements executive.Syncer.
func (e *Engine) SyncActivate() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.core.syncActivate()
}

// SyncAbort implements executive.Syncer (votequorum_sync_abort does nothing).
func (e *Engine) SyncAbort() {}

// Info is what GETINFO answers about node (0: this node); false if unknown.
func (e *Engine) Info(node uint32) (vq.Info, bool) {
	rec := &recorder{}
	e.mu.Lock()
	e.core.getInfo(&conn{c: rec}, vq.GetInfoRequest{NodeID: node})
	e.mu.Unlock()
	r, err := vq.DecodeGetInfoResponse(rec.last)
	if err != nil || r.Error != ipc.CSOk {
		return vq.Info{}, false
	}
	return r.Info, true
}

// BadMessages counts exec messages dropped as malformed.
func (e *Engine) BadMessages() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.core.badMessages
}

// recorder is a client that keeps the last answer.
type recorder struct{ last []byte }

func (r *recorder) event([]byte)       {}
func (r *recorder) respond(msg []byte) { r.last = msg }

// engineHooks are the core's effects; they run under e.mu.
type engineHooks Engine

func (h *engineHooks) send(id uint16, msg []byte) error {
	if h.sender == nil {
		return errors.New("votequorum: no sender bound")
	}
	// Every votequorum message may be one the synchronisation waits for (a quorum
	// device's poll during it, say), and all of them are small: as in corosync, where
	// whatever is sent during synchronisation goes out during it.
	return h.sender.SendSync(id, msg, evs.Agreed)
}

func (h *engineHooks) setQuorum(members []uint32, quorate bool, ring vq.RingID) {
	h.cfg.SetQuorum(members, quorate, ring)
}

func (h *engineHooks) startTimer(k timerKind, d time.Duration) {
	e := (*Engine)(h)
	if t := e.timers[k]; t != nil {
		t.Stop()
	}
	e.gen[k]++
	gen := e.gen[k]
	e.timers[k] = time.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.gen[k] != gen {
			return // stopped or re-armed since
		}
		e.timers[k] = nil
		e.core.timerFired(k)
	})
}

func (h *engineHooks) stopTimer(k timerKind) {
	e := (*Engine)(h)
	e.gen[k]++
	if t := e.timers[k]; t != nil {
		t.Stop()
		e.timers[k] = nil
	}
}

// --- IPC

type ipcService struct{ *Engine }

// IPC returns the engine's IPC service ("votequorum").
func (e *Engine) IPC() ipc.Service { return ipcService{e} }

// Name is the IPC service name.
func (ipcService) Name() string { return "votequorum" }

type ipcClient struct{ c *ipc.Conn }

func (c ipcClient) event(msg []byte)   { c.c.Event(msg) }
func (c ipcClient) respond(msg []byte) { c.c.Respond(msg) }

// Connected gives a new connection its state (quorum_lib_init_fn).
func (p ipcService) Connected(c *ipc.Conn) { c.State = &conn{c: ipcClient{c}} }

// Disconnected forgets the connection's tracking (quorum_lib_exit_fn).
func (p ipcService) Disconnected(c *ipc.Conn) {
	if st, ok := c.State.(*conn); ok {
		p.mu.Lock()
		p.core.disconnected(st)
		p.mu.Unlock()
	}
}

// Request runs a library request under the engine's lock.
func (p ipcService) Request(c *ipc.Conn, h ipc.RequestHeader, msg []byte) {
	st, ok := c.State.(*conn)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.core.request(st, h.ID, msg)
}

// request decodes a library request and runs its handler; a request that does not have
// its type's layout is answered CS_ERR_INVALID_PARAM.
func (c *core) request(to *conn, id int32, msg []byte) {
	bad := func(err error) bool {
		if err == nil {
			return false
		}
		c.log.Debug("malformed library request", "id", id, "err", err)
		if id == vq.ReqGetInfo {
			b, _ := vq.GetInfoResponse{Error: ipc.CSErrInvalid}.Encode()
			to.c.respond(b)
		} else {
			to.c.respond(vq.EncodeStatusResponse(ipc.CSErrInvalid))
		}
		return true
	}
	switch id {
	case vq.ReqGetInfo:
		if r, err := vq.DecodeGetInfoRequest(msg); !bad(err) {
			c.getInfo(to, r)
		}
	case vq.ReqSetExpected:
		if r, err := vq.DecodeSetExpectedRequest(msg); !bad(err) {
			c.setExpected(to, r)
		}
	case vq.ReqSetVotes:
		if r, err := vq.DecodeSetVotesRequest(msg); !bad(err) {
			c.setVotes(to, r)
		}
	case vq.ReqTrackStart:
		if r, err := vq.DecodeTrackStartRequest(msg); !bad(err) {
			c.trackStart(to, r)
		}
	case vq.ReqTrackStop:
		if err := vq.DecodeHeaderRequest(msg, vq.ReqTrackStop); !bad(err) {
			c.trackStop(to)
		}
	case vq.ReqQdeviceRegister:
		if r, err := vq.DecodeQdeviceRegisterRequest(msg); !bad(err) {
			c.qdeviceRegister(to, r)
		}
	case vq.ReqQdeviceUnregister:
		if r, err := vq.DecodeQdeviceUnregisterRequest(msg); !bad(err) {
			c.qdeviceUnregister(to, r)
		}
	case vq.ReqQdeviceUpdate:
		if r, err := vq.DecodeQdeviceUpdateRequest(msg); !bad(err) {
			c.qdeviceUpdate(to, r)
		}
	case vq.ReqQdevicePoll:
		if r, err := vq.DecodeQdevicePollRequest(msg); !bad(err) {
			c.qdevicePoll(to, r)
		}
	case vq.ReqQdeviceMasterWins:
		if r, err := vq.DecodeQdeviceMasterWinsRequest(msg); !bad(err) {
			c.qdeviceMasterWinsReq(to, r)
		}
	default:
		to.c.respond(vq.EncodeStatusResponse(ipc.CSErrInvalid))
	}
}
