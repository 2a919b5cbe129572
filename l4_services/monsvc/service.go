package monsvc

import (
	"context"
	"log/slog"

	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
	"github.com/corosync-go/corosync/l4_services/reskit"
)

// ServiceID is corosync's MON_SERVICE.
const ServiceID = 6

// Name is the engine's name as corosync logs it.
const Name = "corosync resource monitoring service"

// Poll periods in milliseconds (MON_DEFAULT_PERIOD, MON_MIN_PERIOD, MON_MAX_PERIOD).
const (
	DefaultPeriod = 3000
	MinPeriod     = 500
	MaxPeriod     = 120000
)

// Config is what the engine needs.
type Config struct {
	// Map is the icmap holding resources.system.*.
	Map *icmap.Map
	// Loop runs the engine's work; share it with the wd engine, as corosync runs both on
	// its main loop. It must be running for Init to return.
	Loop *reskit.Loop
	// Stats reads memory and load (ProcStats{} when nil).
	Stats Stats
	// Log receives the engine's lines; they carry corosync's subsystem "MON".
	Log *slog.Logger
}

// Service is the mon engine. Its methods other than ID and Name run its work on the loop.
type Service struct {
	m     *icmap.Map
	loop  *reskit.Loop
	stats Stats
	log   *slog.Logger
	res   []*resource
}

// New returns the engine; Init starts it.
func New(cfg Config) *Service {
	stats := cfg.Stats
	if stats == nil {
		stats = ProcStats{}
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{m: cfg.Map, loop: cfg.Loop, stats: stats, log: log.With(logsys.SubsysKey, "MON")}
}

// ID implements executive.Engine.
func (s *Service) ID() uint16 { return ServiceID }

// Name implements executive.Engine.
func (s *Service) Name() string { return Name }

// Init is mon_exec_init_fn: it publishes the keys of memory_used and load_15min, starts
// polling those with a max, and tracks their keys. It returns when done.
func (s *Service) Init(ctx context.Context) error {
	return s.loop.Do(ctx, func() {
		s.res = []*resource{
			newResource(s, "memory_used", kindMemory),
			newResource(s, "load_15min", kindLoad),
		}
		for _, r := range s.res {
			r.init()
		}
	})
}

// States returns each resource's state machine state by name (for tests and status).
func (s *Service) States(ctx context.Context) (map[string]reskit.State, error) {
	out := map[string]reskit.State{}
	err := s.loop.Do(ctx, func() {
		for _, r := range s.res {
			out[r.name] = r.fsm.State()
		}
	})
	return out, err
}
