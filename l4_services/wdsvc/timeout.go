package wdsvc

import (
	"context"
	"fmt"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
	"github.com/corosync-go/corosync/l4_services/reskit"
)

func inTimeoutRange(v uint32) bool { return v >= MinTimeoutSec && v <= MaxTimeoutSec }

// initialTimeout is watchdog_timeout_get_initial: take a u32 resources.watchdog_timeout
// in range, else the default (writing it back), and follow later changes of the key.
func (s *Service) initialTimeout() {
	v, ok := reskit.Uint32(s.m, KeyTimeout)
	switch {
	case !ok:
		s.apply(DefaultTimeoutSec)
		s.m.Set(KeyTimeout, cmap.Uint32(s.timeout))
	case inTimeoutRange(v):
		s.apply(v)
	default:
		s.log.Warn("Set watchdog_timeout is out of range (2..120).")
		s.log.Info(fmt.Sprintf("use default value %d seconds.", DefaultTimeoutSec))
		s.apply(DefaultTimeoutSec)
		s.m.Set(KeyTimeout, cmap.Uint32(s.timeout))
	}
	s.m.Track(KeyTimeout, icmap.Modify, func(icmap.Event, string, icmap.Value, icmap.Value) {
		s.loop.Post(s.timeoutChanged)
	})
}

// timeoutChanged is wd_top_level_key_changed: a bad value (type or range) is replaced by
// the timeout in force.
func (s *Service) timeoutChanged() {
	if v, ok := reskit.Uint32(s.m, KeyTimeout); ok && inTimeoutRange(v) {
		s.apply(v)
		return
	}
	s.log.Warn("Set watchdog_timeout is out of range (2..120).")
	s.m.Set(KeyTimeout, cmap.Uint32(s.timeout))
}

// apply is watchdog_timeout_apply. Without a device the "current" timeout is 0, so every
// value is applied again (and logged), as in corosync.
func (s *Service) apply(want uint32) {
	var original uint32
	if s.dog != nil {
		if t, err := s.dog.Timeout(); err == nil {
			original = t
		}
	}
	if want == original {
		return
	}
	s.timeout = want
	if s.dog != nil {
		info, _ := s.dog.Info()
		if info.Options&OptionSetTimeout != 0 {
			if t, err := s.dog.SetTimeout(s.timeout); err == nil {
				s.timeout = t
			}
		}
		if t, err := s.dog.Timeout(); err == nil {
			s.timeout = t
		}
	}
	if s.timeout != want {
		s.log.Warn(fmt.Sprintf("Could not change the Watchdog timeout from %d to %d seconds", original, want))
		return
	}
	s.tickle = uint64(s.timeout) * 1000 / 2
	s.tickler.Stop()
	s.tickler = s.loop.After(time.Duration(s.tickle)*time.Millisecond, s.tickleFn)
	s.log.Debug(fmt.Sprintf("The Watchdog timeout is %d seconds", s.timeout))
	s.log.Debug(fmt.Sprintf("The tickle timeout is %d ms", s.tickle))
}

// tickleFn is wd_tickle_fn: keep the device alive while no resource has failed with
// recovery watchdog or quit; once one has, say so and stop.
func (s *Service) tickleFn() {
	if !s.ok {
		s.log.Log(context.Background(), logsys.LevelAlert, "NOT tickling the watchdog!")
		return
	}
	if s.dog != nil {
		s.dog.Keepalive()
	}
	s.tickler = s.loop.After(time.Duration(s.tickle)*time.Millisecond, s.tickleFn)
}

// setupDevice is setup_watchdog: only a device named in resources.watchdog_device (not
// empty, not "off") is opened.
func (s *Service) setupDevice() {
	path, ok := reskit.String(s.m, KeyDevice)
	switch {
	case !ok:
		s.log.Warn("Watchdog not enabled by configuration")
		return
	case path == "" || path == "off":
		s.log.Warn("Watchdog disabled by configuration")
		return
	}
	if s.devices == nil || !s.devices.Writable(path) {
		s.log.Warn(fmt.Sprintf("No watchdog %s, try modprobe <a watchdog>", path))
		return
	}
	dog, err := s.devices.Open(path)
	if err != nil {
		s.log.Warn(fmt.Sprintf("Watchdog %s exists but couldn't be opened.", path))
		return
	}
	s.dog = dog
	info, _ := dog.Info()
	s.log.Info(fmt.Sprintf("Watchdog %s is now being tickled by corosync.", path))
	s.log.Debug(info.Identity)
	s.apply(s.timeout)
	dog.Enable()
}
