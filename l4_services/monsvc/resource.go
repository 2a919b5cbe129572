package monsvc

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/reskit"
)

// kind says what a resource measures and how its max is typed.
type kind int8

const (
	kindMemory kind = iota // i32 percent, max read with %d
	kindLoad               // double, max read with %lf
)

// resource is one monitored figure (struct resource_instance).
type resource struct {
	s      *Service
	name   string
	prefix string // resources.system.<name>.
	kind   kind
	fsm    *reskit.FSM
	period uint64 // ms
	maxI   int32
	maxF   float64
	timer  *reskit.Timer
}

func newResource(s *Service, name string, k kind) *resource {
	return &resource{
		s: s, name: name, prefix: "resources.system." + name + ".", kind: k,
		fsm:    reskit.NewFSM(name, s.log),
		period: DefaultPeriod,
		maxI:   math.MaxInt32,
		maxF:   math.MaxInt32,
	}
}

func (r *resource) set(key string, v cmap.Value) { r.s.m.Set(r.prefix+key, v) }

// init is mon_instance_init. poll_period is taken only from a string (a u64 from
// corosync.conf is not one, so it is replaced by the default, as in 3.1.7).
func (r *resource) init() {
	if r.kind == kindMemory {
		r.set("current", cmap.Int32(0))
	} else {
		r.set("current", cmap.Double(0))
	}
	r.set("last_updated", cmap.Uint64(0))
	r.set("state", cmap.String(reskit.Stopped.String()))

	str, ok := reskit.String(r.s.m, r.prefix+"poll_period")
	p, parsed := scanUint64(str)
	switch {
	case !ok || !parsed:
		r.set("poll_period", cmap.Uint64(r.period))
	case p >= MinPeriod && p <= MaxPeriod:
		r.period = p
	default:
		r.s.log.Warn(fmt.Sprintf("Could NOT use poll_period:%d ms for resource %s", p, r.name))
	}
	r.event(reskit.ConfigChanged)
	r.s.m.Track(r.prefix, icmap.Add|icmap.Modify|icmap.Delete|icmap.Prefix, func(ev icmap.Event, key string, _, _ icmap.Value) {
		r.s.loop.Post(func() { r.keyChanged(ev, key) })
	})
}

// event runs the state machine's handler for ev.
func (r *resource) event(ev reskit.Event) {
	if !r.fsm.Process(ev) {
		return
	}
	switch ev {
	case reskit.ConfigChanged:
		r.configChanged()
	case reskit.Failure:
		r.setState(reskit.Failed)
	}
}

// setState moves the machine and, when the state changed, writes the state key.
func (r *resource) setState(next reskit.State) {
	prev := r.fsm.State()
	r.fsm.Set(next)
	if r.fsm.State() != prev {
		r.set("state", cmap.String(r.fsm.State().String()))
	}
}

// configChanged is mon_config_changed. Only string values of poll_period and max count; a
// max that is not a string (or deleted) leaves the state as it is and stops polling.
func (r *resource) configChanged() {
	if str, ok := reskit.String(r.s.m, r.prefix+"poll_period"); ok {
		p, parsed := scanUint64(str)
		switch {
		case !parsed:
			// corosync goes on to check an uninitialised number; this warning is its first.
			r.s.log.Warn(fmt.Sprintf("Could NOT use poll_period: %s (not uint64 type) for resource %s", str, r.name))
		case p >= MinPeriod && p <= MaxPeriod:
			r.s.log.Debug(fmt.Sprintf("poll_period changing from:%d to %d.", r.period, p))
			r.period = p
		default:
			r.s.log.Warn(fmt.Sprintf("Could NOT use poll_period:%d ms for resource %s", p, r.name))
		}
	}
	r.timer.Stop()
	r.timer = nil

	str, ok := reskit.String(r.s.m, r.prefix+"max")
	if !ok {
		return
	}
	parsed := false
	if r.kind == kindMemory {
		var v int32
		if v, parsed = scanInt32(str); parsed {
			r.maxI = v
		} else {
			r.maxI = math.MaxInt32
		}
	} else {
		var v float64
		if v, parsed = scanDouble(str); parsed {
			r.maxF = v
		} else {
			r.maxF = math.MaxInt32
		}
	}
	if !parsed {
		r.setState(reskit.Stopped)
		return
	}
	r.setState(reskit.Running)
	r.update() // at once, in case the period shortened, and to start the timer
}

// update is mem_update_stats_fn and load_update_stats_fn: read the figure, publish it when
// positive, fail the resource when it exceeds max, and poll again after the period.
func (r *resource) update() {
	over := false
	if r.kind == kindMemory {
		v, err := r.s.stats.MemoryUsed()
		if err != nil {
			r.s.log.Error("Unable to get memory stats: " + err.Error())
			v = -1
		}
		if v > 0 {
			r.set("current", cmap.Uint32(uint32(v))) // corosync stores u32 over its own i32
			r.set("last_updated", cmap.Uint64(r.s.loop.Now()))
			over = v > r.maxI
		}
	} else {
		v, err := r.s.stats.Load15()
		if err != nil {
			r.s.log.Error("Unable to get load stats: " + err.Error())
			v = -1
		}
		if v > 0 {
			r.set("current", cmap.Double(v))
			r.set("last_updated", cmap.Uint64(r.s.loop.Now()))
			over = v > r.maxF
		}
	}
	if over && r.fsm.State() != reskit.Failed {
		r.event(reskit.Failure)
	}
	r.timer = r.s.loop.After(time.Duration(r.period)*time.Millisecond, r.update)
}

// keyChanged is mon_key_changed_cb: any deletion under the prefix and a change of max or
// poll_period re-read the configuration; additions do nothing.
func (r *resource) keyChanged(ev icmap.Event, key string) {
	switch ev {
	case icmap.Delete:
		r.s.log.Warn(fmt.Sprintf("resource \"%s\" deleted from cmap!", r.name))
		r.event(reskit.ConfigChanged)
	case icmap.Modify:
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			return
		}
		if last := key[i+1:]; last == "max" || last == "poll_period" {
			r.event(reskit.ConfigChanged)
		}
	}
}
