package cmapsvc

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// StatsSource is the read-only stats map (CMAP_MAP_STATS) whose values are computed when
// read.
type StatsSource interface {
	// Keys lists the keys starting with prefix, sorted byte-wise, like icmap.Map.Keys.
	Keys(prefix string) []icmap.KeyInfo
	// Get computes the value of key; ipc.CSErrNotExist when absent.
	Get(key string) (icmap.Value, error)
}

// StatsClearer is implemented by a StatsSource that can reset its counters, which clients
// ask for by setting a stats.clear.* key (corosync-cmapctl -C). what is "knet", "ipc",
// "totem", "schedmiss" or "all". Without it those sets answer CS_ERR_NOT_SUPPORTED.
type StatsClearer interface {
	ClearStats(what string) error
}

// Config configures a Service.
type Config struct {
	Map *icmap.Map
	// Stats is the stats map; nil: the stats map is empty.
	Stats StatsSource
	Log   *slog.Logger
	// StatsPoll is how often tracked stats keys are compared for changes (default 1.5 s,
	// the period of corosync 3.1.7's stats timer: corosync polls too).
	StatsPoll time.Duration
}

// DefaultStatsPoll is corosync 3.1.7's stats update period (corosync_totem_stats_updater).
const DefaultStatsPoll = 1500 * time.Millisecond

// Per-connection bounds.
const (
	// MaxIterators is how many iterations one connection may have open.
	MaxIterators = 4096
	// MaxTrackers is how many trackers one connection may have.
	MaxTrackers = 4096
)

// Service is the cmap service engine; it implements ipc.Service.
type Service struct {
	icmap backend
	stats *statsBackend
	log   *slog.Logger

	// open counts live iterators and trackers over all connections (for tests and
	// leak checks).
	openIters, openTracks atomic.Int64

	stop      context.CancelFunc
	pollDone  chan struct{}
	closeOnce sync.Once
}

// New returns a running service; call Close when done with it.
func New(cfg Config) *Service {
	if cfg.Map == nil {
		cfg.Map = icmap.New()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.StatsPoll <= 0 {
		cfg.StatsPoll = DefaultStatsPoll
	}
	src := cfg.Stats
	if src == nil {
		src = emptyStats{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		icmap:    &icmapBackend{m: cfg.Map},
		stats:    newStatsBackend(src, cfg.Log),
		log:      cfg.Log,
		stop:     cancel,
		pollDone: make(chan struct{}),
	}
	go s.stats.run(ctx, cfg.StatsPoll, s.pollDone)
	return s
}

// StatsKeysChanged tells the service that stats keys were added or removed (an IPC
// connection or a node came or went): trackers get their create and delete notifications
// at once instead of at the next poll, as corosync's stats trie notifies them. Safe from
// any goroutine; it never blocks.
func (s *Service) StatsKeysChanged() { s.stats.keysChanged() }

// Close stops the stats poller. Connections belong to the ipc.Server and end with it.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.stop()
		<-s.pollDone
	})
}

// Name is the IPC name, "cmap".
func (s *Service) Name() string { return "cmap" }

// Connected starts a connection on the icmap, as cmap_lib_init_fn does.
func (s *Service) Connected(c *ipc.Conn) {
	c.State = s.newConnState(c, c.MaxMessageBytes())
	s.log.Debug("cmap: lib_init_fn", "pid", c.Creds().PID)
}

// Disconnected frees the connection's iterators and trackers (cmap_lib_exit_fn).
func (s *Service) Disconnected(c *ipc.Conn) {
	if st, ok := c.State.(*connState); ok {
		s.release(st)
	}
	s.log.Debug("cmap: exit_fn", "pid", c.Creds().PID)
}

// Request answers one request.
func (s *Service) Request(c *ipc.Conn, h ipc.RequestHeader, msg []byte) {
	st, ok := c.State.(*connState)
	if !ok {
		// Connected always sets it; answer rather than leave the client waiting.
		c.Respond(cmap.EncodeStatusResponse(0, ipc.CSErrLibrary))
		return
	}
	c.Respond(s.handle(st, h.ID, msg))
}

// eventSink receives a connection's notifications (*ipc.Conn in the daemon).
type eventSink interface {
	Event(msg []byte) error
}

// connState is one connection's cmap_conn_info. Requests of one connection arrive one at
// a time and Disconnected follows the last, so it needs no lock of its own; what the
// stats poller shares is locked by the stats backend.
type connState struct {
	sink eventSink
	// maxRoom is the largest value room a GET answer can carry on this connection.
	maxRoom int
	mapID   cmap.Map
	iters   map[uint64]*iterator
	tracks  map[uint64]*tracker
	next    uint64
}

// newConnState starts a connection whose messages may be maxMsg bytes long.
func (s *Service) newConnState(sink eventSink, maxMsg int) *connState {
	return &connState{sink: sink, maxRoom: max(maxMsg-cmap.GetResponseBytes, 0), mapID: cmap.MapICMAP,
		iters: map[uint64]*iterator{}, tracks: map[uint64]*tracker{}}
}

// backendOf returns the map the connection works on.
func (s *Service) backendOf(st *connState) backend {
	if st.mapID == cmap.MapStats {
		return s.stats
	}
	return s.icmap
}

// handle returns the answer to one request; there is exactly one for every message.
func (s *Service) handle(st *connState, id int32, msg []byte) []byte {
	switch id {
	case cmap.ReqSet:
		return s.set(st, msg)
	case cmap.ReqDelete:
		return s.delete(st, msg)
	case cmap.ReqGet:
		return s.get(st, msg)
	case cmap.ReqAdjustInt:
		return s.adjust(st, msg)
	case cmap.ReqIterInit:
		return s.iterInit(st, msg)
	case cmap.ReqIterNext:
		return s.iterNext(st, msg)
	case cmap.ReqIterFinalize:
		return s.iterFinalize(st, msg)
	case cmap.ReqTrackAdd:
		return s.trackAdd(st, msg)
	case cmap.ReqTrackDelete:
		return s.trackDelete(st, msg)
	case cmap.ReqSetCurrentMap:
		return s.setCurrentMap(st, msg)
	}
	// corosync_sending_allowed refuses ids past the service's handlers with -EINVAL,
	// which ipc_glue answers with a bare header of id 0.
	return cmap.EncodeStatusResponse(0, ipc.CSErrInvalid)
}

// release frees a connection's iterators and trackers.
func (s *Service) release(st *connState) {
	s.openIters.Add(-int64(len(st.iters)))
	clear(st.iters)
	for h, t := range st.tracks {
		t.backend.trackDelete(t)
		delete(st.tracks, h)
		s.openTracks.Add(-1)
	}
}

// newHandle returns the connection's next iterator or tracker handle (never 0, which
// the answers carry on failure).
func (st *connState) newHandle() uint64 {
	st.next++
	return st.next
}
