package wdsvc

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
	"github.com/corosync-go/corosync/l4_services/reskit"
)

// ServiceID is corosync's WD_SERVICE.
const ServiceID = 7

// Name is the engine's name as corosync logs it.
const Name = "corosync watchdog service"

// Timeouts (WD_DEFAULT_TIMEOUT_SEC, WD_MIN_TIMEOUT_MS, WD_MAX_TIMEOUT_MS and the range
// corosync accepts for resources.watchdog_timeout).
const (
	DefaultTimeoutSec = 6
	MinCheckMs        = 500
	MaxCheckMs        = 120000
	MinTimeoutSec     = 2
	MaxTimeoutSec     = 120
)

// Keys the engine reads at the top of resources.
const (
	KeyTimeout = "resources.watchdog_timeout"
	KeyDevice  = "resources.watchdog_device"
)

// Config is what the engine needs.
type Config struct {
	// Map is the icmap holding resources.*.
	Map *icmap.Map
	// Loop runs the engine's work (shared with the mon engine). It must be running for Init
	// and Close to return.
	Loop *reskit.Loop
	// Devices opens the watchdog device named by resources.watchdog_device; with nil a
	// named device is reported missing ("No watchdog ..."), never opened.
	Devices Devices
	// Host reboots or powers the machine off for those recoveries; nil refuses them.
	Host Host
	// Log receives the engine's lines; they carry corosync's subsystem "WD".
	Log *slog.Logger
}

// Service is the wd engine. Its methods other than ID and Name run its work on the loop.
type Service struct {
	m       *icmap.Map
	loop    *reskit.Loop
	devices Devices
	host    Host
	log     *slog.Logger

	timeout uint32 // watchdog_timeout, seconds
	tickle  uint64 // tickle_timeout, ms
	dog     Device // nil: no device (corosync's dog = -1)
	ok      bool   // watchdog_ok: tickle while true
	tickler *reskit.Timer
	failed  []string // the last resources that failed, in order (for Status)
}

// New returns the engine; Init starts it.
func New(cfg Config) *Service {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		m: cfg.Map, loop: cfg.Loop, devices: cfg.Devices, host: cfg.Host,
		log:     log.With(logsys.SubsysKey, "WD"),
		timeout: DefaultTimeoutSec, tickle: DefaultTimeoutSec * 1000 / 2, ok: true,
	}
}

// ID implements executive.Engine.
func (s *Service) ID() uint16 { return ServiceID }

// Name implements executive.Engine.
func (s *Service) Name() string { return Name }

// Init is wd_exec_init_fn: the watchdog timeout, the device, then the resources. Run it
// after the mon engine's Init, as corosync loads mon first.
func (s *Service) Init(ctx context.Context) error {
	return s.loop.Do(ctx, func() {
		s.initialTimeout()
		s.setupDevice()
		s.scan()
	})
}

// Close is wd_exec_exit_fn: an open device is closed with the magic 'V' so that it does
// not reboot the machine.
func (s *Service) Close(ctx context.Context) error {
	return s.loop.Do(ctx, func() {
		s.tickler.Stop()
		if s.dog == nil {
			return
		}
		s.log.Info("magically closing the watchdog.")
		if err := s.dog.MagicClose(); err != nil {
			s.log.Error(fmt.Sprintf("failed to write V to dog(%d).", s.dog.Fd()))
		}
		s.dog = nil
	})
}

// Status is the engine's state, for tests and status output.
type Status struct {
	TimeoutSec uint32
	TickleMs   uint64
	Device     bool     // a device is open
	Tickling   bool     // watchdog_ok: no resource with recovery watchdog or quit failed
	Failed     []string // the last maxFailed resources that failed, in order
}

// maxFailed bounds Status.Failed: a resource can fail again after every change of its keys.
const maxFailed = 32

// Status returns the engine's state.
func (s *Service) Status(ctx context.Context) (Status, error) {
	var st Status
	err := s.loop.Do(ctx, func() {
		st = Status{TimeoutSec: s.timeout, TickleMs: s.tickle, Device: s.dog != nil, Tickling: s.ok, Failed: append([]string(nil), s.failed...)}
	})
	return st, err
}
