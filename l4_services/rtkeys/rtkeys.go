// Package rtkeys keeps corosync's runtime.* and internal_configuration.* cmap keys: the
// membership as corosync publishes it (runtime.members.<id>.*), the loaded engines and
// their message counters (runtime.services.*), and the fixed runtime switches.
package rtkeys

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/corosync-go/corosync/ipc/cmap"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/executive"
	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

// Service names an engine as corosync's internal_configuration and runtime.services keys
// do.
type Service struct {
	ID    uint16
	Short string // "cmap", "cfg", ...: runtime.services.<short>, corosync_<short>
	// MsgIDs are the engine's exec message ids: corosync publishes rx and tx for each.
	MsgIDs int
}

// PublishStatic sets the keys corosync sets once at start: internal_configuration.service.N
// for each loaded engine (N is the service id, as corosync's service.c numbers them: mon
// is 6 even when 2 to 5 are not loaded), runtime.services.<name>.service_id and the
// counters at zero, and runtime.blackbox.* and runtime.force_gather at "no".
func PublishStatic(m *icmap.Map, services []Service) {
	for _, s := range services {
		p := fmt.Sprintf("internal_configuration.service.%d.", s.ID)
		m.Set(p+"name", cmap.String("corosync_"+s.Short))
		m.Set(p+"ver", cmap.Uint32(0))
		m.Set(fmt.Sprintf("runtime.services.%s.service_id", s.Short), cmap.Uint16(s.ID))
		for id := 0; id < s.MsgIDs; id++ {
			m.Set(fmt.Sprintf("runtime.services.%s.%d.rx", s.Short, id), cmap.Uint64(0))
			m.Set(fmt.Sprintf("runtime.services.%s.%d.tx", s.Short, id), cmap.Uint64(0))
		}
	}
	for _, k := range []string{"runtime.blackbox.dump_flight_data", "runtime.blackbox.dump_state", "runtime.force_gather"} {
		m.Set(k, cmap.String("no"))
	}
}

// PublishCounters copies the executive's per-message counters into
// runtime.services.<name>.<id>.rx/tx. corosync updates them on every message; the daemon
// calls this periodically instead, so a busy ring does not pay a map update per message.
func PublishCounters(m *icmap.Map, services []Service, counters []executive.ServiceCounter) {
	short := map[uint16]string{}
	for _, s := range services {
		short[s.ID] = s.Short
	}
	for _, c := range counters {
		name, ok := short[c.Service]
		if !ok {
			continue
		}
		m.Set(fmt.Sprintf("runtime.services.%s.%d.rx", name, c.MsgID), cmap.Uint64(c.RX))
		m.Set(fmt.Sprintf("runtime.services.%s.%d.tx", name, c.MsgID), cmap.Uint64(c.TX))
	}
}

// Members keeps runtime.members.<id>.* as corosync does: on every regular configuration,
// joined members get status "joined", their ip string and join_count incremented (from 1),
// and members that left get status "left" (their keys stay).
type Members struct {
	m   *icmap.Map
	log *slog.Logger
	// addrs returns a node's addresses by link (invalid entries for absent links).
	addrs         func(id uint32) []string
	configVersion uint64

	mu   sync.Mutex
	prev map[evs.NodeID]bool
}

// NewMembers returns the watcher; addrs gives a node's ring addresses by link number ("" for
// none); configVersion is totem.config_version.
func NewMembers(m *icmap.Map, log *slog.Logger, addrs func(id uint32) []string, configVersion uint64) *Members {
	return &Members{m: m, log: log.With(logsys.SubsysKey, "MAIN"), addrs: addrs, configVersion: configVersion, prev: map[evs.NodeID]bool{}}
}

// IP formats a node's addresses as corosync's runtime.members.<id>.ip: "r(0) ip(a) r(1)
// ip(b) ", with the trailing space.
func IP(addrs []string) string {
	var b strings.Builder
	for i, a := range addrs {
		if a == "" {
			continue
		}
		fmt.Fprintf(&b, "r(%d) ip(%s) ", i, a)
	}
	return b.String()
}

// ConfChg implements executive.ConfChanger.
func (w *Members) ConfChg(c *evs.Configuration) {
	if c.Transitional {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := map[evs.NodeID]bool{}
	for _, id := range c.Members {
		now[id] = true
	}
	for id := range w.prev {
		if !now[id] {
			p := fmt.Sprintf("runtime.members.%d.", id)
			w.m.Set(p+"status", cmap.String("left"))
			w.log.Debug("Member left: " + IP(w.addrs(uint32(id))))
		}
	}
	for _, id := range c.Members {
		if w.prev[id] {
			continue
		}
		p := fmt.Sprintf("runtime.members.%d.", id)
		ip := IP(w.addrs(uint32(id)))
		joins := uint32(1)
		if v, err := w.m.Get(p + "join_count"); err == nil {
			joins = v.Uint32() + 1
		}
		w.m.Set(p+"config_version", cmap.Uint64(w.configVersion))
		w.m.Set(p+"ip", cmap.String(ip))
		w.m.Set(p+"join_count", cmap.Uint32(joins))
		w.m.Set(p+"status", cmap.String("joined"))
		w.log.Debug("Member joined: " + ip)
	}
	w.prev = now
}
