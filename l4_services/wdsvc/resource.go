package wdsvc

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
	"github.com/corosync-go/corosync/l4_services/reskit"
)

// resource is one watched resource (struct resource): resources.<type>.<name>.*, written
// by a monitor (mon for resources.system.*, an application for resources.process.*).
type resource struct {
	s        *Service
	prefix   string
	name     string
	recovery string
	fsm      *reskit.FSM
	check    *reskit.Timer
	checkMs  uint64 // check_timeout
	track    icmap.TrackHandle
	gone     bool // its state key was deleted: ignore queued notifications
}

func inCheckRange(v uint64) bool { return v >= MinCheckMs && v <= MaxCheckMs }

func ms(v uint64) time.Duration { return time.Duration(v) * time.Millisecond }

// scan is wd_scan_resources: every resources.<type>.<name>.state key makes a resource;
// later ones under resources.system and resources.process are picked up when their state
// key is added.
func (s *Service) scan() {
	count := 0
	for _, k := range s.m.Keys("resources.") {
		if prefix, name, ok := resourceOf(k.Key); ok && s.create(prefix, name) {
			count++
		}
	}
	for _, p := range []string{"resources.process.", "resources.system."} {
		s.m.Track(p, icmap.Add|icmap.Prefix, func(_ icmap.Event, key string, _, _ icmap.Value) {
			if prefix, name, ok := resourceOf(key); ok {
				s.loop.Post(func() { s.create(prefix, name) })
			}
		})
	}
	if count == 0 {
		s.log.Info("no resources configured.")
	}
}

// create is wd_resource_create; it reports whether the resource is fully configured (has
// recovery and state keys) and being checked. A partial one is still tracked, so that it
// starts when its keys come.
func (s *Service) create(prefix, name string) bool {
	r := &resource{s: s, prefix: prefix, name: name, checkMs: DefaultTimeoutSec * 1000, fsm: reskit.NewFSM(name, s.log)}
	switch p, ok := reskit.Uint64(s.m, prefix+"poll_period"); {
	case !ok:
		s.m.Set(prefix+"poll_period", cmap.Uint64(r.checkMs))
	case inCheckRange(p):
		r.checkMs = p
	default:
		s.log.Warn(fmt.Sprintf("Could NOT use poll_period:%d ms for resource %s", p, name))
	}
	r.track, _ = s.m.Track(prefix, icmap.Add|icmap.Modify|icmap.Delete|icmap.Prefix, func(ev icmap.Event, key string, _, _ icmap.Value) {
		s.loop.Post(func() { r.keyChanged(ev, key) })
	})
	rec, ok := reskit.String(s.m, prefix+"recovery")
	if !ok {
		s.log.Warn(fmt.Sprintf("resource %s missing a recovery key.", name))
		return false
	}
	r.recovery = rec
	if _, ok := reskit.String(s.m, prefix+"state"); !ok {
		s.log.Warn(fmt.Sprintf("resource %s missing a state key.", name))
		return false
	}
	// The first check waits longer, to give the monitor time to start.
	r.check = s.loop.After(ms(max(r.checkMs*2, DefaultTimeoutSec*1000)), r.checkFn)
	r.fsm.Set(reskit.Running)
	return true
}

// event runs the state machine's handler for ev. A failure while stopped or failed has no
// handler: corosync aborts on an assertion there, the resource stays as it is here.
func (r *resource) event(ev reskit.Event) {
	if !r.fsm.Process(ev) {
		r.s.log.Debug(fmt.Sprintf("resource %s: no transition for %s in state %s", r.name, ev, r.fsm.State()))
		return
	}
	switch ev {
	case reskit.ConfigChanged:
		r.configChanged()
	case reskit.Failure:
		r.failed()
	}
}

// configChanged is wd_config_changed. Like corosync 3.1.7 it looks for a new poll period
// under the resource's prefix itself ("resources.system.x.", a key that normally does not
// exist), so the check period stays the one read at creation. Without recovery or state
// key the resource stops, but a check already armed stays armed.
func (r *resource) configChanged() {
	next := r.checkMs
	if p, ok := reskit.Uint64(r.s.m, r.prefix); ok {
		if inCheckRange(p) {
			r.s.log.Debug(fmt.Sprintf("poll_period changing from:%d to %d.", r.checkMs, p))
			next = max(p, r.checkMs) // give the monitor time to adjust
			r.checkMs = p
		} else {
			r.s.log.Warn(fmt.Sprintf("Could NOT use poll_period:%d ms for resource %s", p, r.name))
		}
	}
	rec, ok := reskit.String(r.s.m, r.prefix+"recovery")
	if !ok {
		r.s.log.Warn(fmt.Sprintf("resource %s missing a recovery key.", r.name))
		r.fsm.Set(reskit.Stopped)
		return
	}
	r.recovery = rec
	state, ok := reskit.String(r.s.m, r.prefix+"state")
	if !ok {
		r.s.log.Warn(fmt.Sprintf("resource %s missing a state key.", r.name))
		r.fsm.Set(reskit.Stopped)
		return
	}
	r.check.Stop()
	r.check = nil
	if state == reskit.Stopped.String() {
		r.fsm.Set(reskit.Stopped)
		return
	}
	r.check = r.s.loop.After(ms(next), r.checkFn)
	r.fsm.Set(reskit.Running)
}

// failed is wd_resource_failed: the recovery happens, then the state becomes failed.
func (r *resource) failed() {
	r.check.Stop()
	r.check = nil
	r.s.log.Log(context.Background(), logsys.LevelCrit, fmt.Sprintf("%s resource \"%s\" failed!", r.recovery, r.name))
	r.s.failed = append(r.s.failed, r.name)
	if len(r.s.failed) > maxFailed {
		r.s.failed = r.s.failed[len(r.s.failed)-maxFailed:]
	}
	switch r.recovery {
	case "watchdog", "quit":
		r.s.ok = false // stop tickling: an open watchdog will reset the machine
	case "reboot":
		r.s.stopMachine(r.s.host.Reboot, "reboot")
	case "shutdown":
		r.s.stopMachine(r.s.host.PowerOff, "power off")
	}
	r.fsm.Set(reskit.Failed)
}

// stopMachine runs a Host action; corosync ignores reboot(2)'s failure, and so does the
// engine after a debug line.
func (s *Service) stopMachine(action func() error, what string) {
	if s.host == nil {
		s.log.Debug("no host to " + what)
		return
	}
	if err := action(); err != nil {
		s.log.Debug(fmt.Sprintf("cannot %s: %v", what, err))
	}
}

// checkFn is wd_resource_check_fn.
func (r *resource) checkFn() {
	if !r.healthy() {
		r.event(reskit.Failure)
		return
	}
	r.check = r.s.loop.After(ms(r.checkMs), r.checkFn)
}

// healthy is wd_resource_state_is_ok: the monitor must have written last_updated within
// one and a half check periods (0 means not yet) and the state must not be failed or
// disabled.
func (r *resource) healthy() bool {
	last, ok := reskit.Uint64(r.s.m, r.prefix+"last_updated")
	if !ok {
		return false
	}
	state, ok := reskit.String(r.s.m, r.prefix+"state")
	if !ok || state == "disabled" {
		return false
	}
	if last == 0 {
		return true
	}
	now := r.s.loop.Now()
	allowed := r.checkMs * uint64(time.Millisecond) * 3 / 2
	if last+allowed < now {
		late := now/uint64(time.Millisecond) - (last+allowed)/uint64(time.Millisecond)
		r.s.log.Error(fmt.Sprintf("last_updated %d ms too late, period:%d.", late, r.checkMs))
		return false
	}
	return state != reskit.Failed.String()
}

// keyChanged is wd_key_changed: changes other than of current and last_updated re-read
// the configuration; deleting the state key forgets the resource.
func (r *resource) keyChanged(ev icmap.Event, key string) {
	if r.gone {
		return
	}
	i := strings.LastIndexByte(key, '.')
	if i < 0 {
		return
	}
	last := key[i+1:]
	switch ev {
	case icmap.Add, icmap.Modify:
		if last == "last_updated" || last == "current" {
			return
		}
		r.event(reskit.ConfigChanged)
	case icmap.Delete:
		if last != "state" {
			return
		}
		r.s.log.Warn(fmt.Sprintf("resource \"%s\" deleted from cmap!", r.name))
		r.check.Stop()
		r.check = nil
		r.s.m.Untrack(r.track)
		r.gone = true
	}
}
