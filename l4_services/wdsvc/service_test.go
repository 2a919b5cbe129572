package wdsvc

import (
	"fmt"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
)

const mem = "resources.system.memory_used."

// monKeys are the keys the mon engine leaves for a resource it does not poll.
func monKeys(prefix string, keys map[string]cmap.Value) map[string]cmap.Value {
	if keys == nil {
		keys = map[string]cmap.Value{}
	}
	for k, v := range map[string]cmap.Value{"current": cmap.Int32(0), "last_updated": cmap.Uint64(0), "poll_period": cmap.Uint64(3000), "state": cmap.String("stopped")} {
		if _, ok := keys[prefix+k]; !ok {
			keys[prefix+k] = v
		}
	}
	return keys
}

// TestDefaults: what 3.1.7 logged and set on a configuration without resources{}.
func TestDefaults(t *testing.T) {
	devs := &fakeDevices{writable: true, dev: &fakeDevice{}}
	keys := monKeys(mem, monKeys("resources.system.load_15min.", nil))
	e := newEnv(t, keys, devs)
	e.expectLog(
		"debug [WD] The Watchdog timeout is 6 seconds",
		"debug [WD] The tickle timeout is 3000 ms",
		"warning [WD] Watchdog not enabled by configuration",
		"warning [WD] resource load_15min missing a recovery key.",
		"warning [WD] resource memory_used missing a recovery key.",
		"info [WD] no resources configured.",
	)
	if v, _ := e.m.Get(KeyTimeout); !v.Equal(cmap.Uint32(6)) {
		t.Errorf("watchdog_timeout %v", v)
	}
	if len(devs.opened) != 0 {
		t.Fatalf("opened %v without resources.watchdog_device", devs.opened)
	}
	if p := e.clock.Pending(); len(p) != 1 || p[0] != 3*time.Second {
		t.Errorf("timers %v, want the tickle at 3s", p)
	}
	// Partial resources are tracked: changing their keys re-reads them.
	e.set(mem+"max", cmap.String("10"))
	e.expectLog("warning [WD] resource memory_used missing a recovery key.")
	e.set(mem+"current", cmap.Uint32(3))
	e.set(mem+"last_updated", cmap.Uint64(7))
	e.expectLog()
}

// TestDeviceOnlyWhenNamed: absent, empty, "off" or non-string device names open nothing.
func TestDeviceOnlyWhenNamed(t *testing.T) {
	for _, c := range []struct {
		val  cmap.Value
		want string
	}{
		{cmap.String("off"), "warning [WD] Watchdog disabled by configuration"},
		{cmap.String(""), "warning [WD] Watchdog disabled by configuration"},
		{cmap.Uint32(1), "warning [WD] Watchdog not enabled by configuration"},
	} {
		devs := &fakeDevices{writable: true, dev: &fakeDevice{}}
		e := newEnv(t, map[string]cmap.Value{KeyDevice: c.val}, devs)
		e.expectLog("debug [WD] The Watchdog timeout is 6 seconds", "debug [WD] The tickle timeout is 3000 ms", c.want, "info [WD] no resources configured.")
		if len(devs.opened) != 0 || e.status().Device {
			t.Errorf("%v: opened %v", c.val, devs.opened)
		}
	}
	e := newEnv(t, map[string]cmap.Value{KeyDevice: cmap.String("/dev/fake0")}, nil)
	e.expectLog("debug [WD] The Watchdog timeout is 6 seconds", "debug [WD] The tickle timeout is 3000 ms",
		"warning [WD] No watchdog /dev/fake0, try modprobe <a watchdog>", "info [WD] no resources configured.")
	devs := &fakeDevices{writable: true, openErr: fmt.Errorf("busy")}
	e = newEnv(t, map[string]cmap.Value{KeyDevice: cmap.String("/dev/fake0")}, devs)
	e.expectLog("debug [WD] The Watchdog timeout is 6 seconds", "debug [WD] The tickle timeout is 3000 ms",
		"warning [WD] Watchdog /dev/fake0 exists but couldn't be opened.", "info [WD] no resources configured.")
}

// TestDeviceProtocol: the device gets corosync's timeout, is enabled, tickled every half
// timeout, and magically closed.
func TestDeviceProtocol(t *testing.T) {
	dog := &fakeDevice{timeout: 60, options: OptionSetTimeout}
	e := newEnv(t, map[string]cmap.Value{KeyDevice: cmap.String("/dev/fake0"), KeyTimeout: cmap.Uint32(4)}, &fakeDevices{writable: true, dev: dog})
	e.expectLog(
		"debug [WD] The Watchdog timeout is 4 seconds",
		"debug [WD] The tickle timeout is 2000 ms",
		"info [WD] Watchdog /dev/fake0 is now being tickled by corosync.",
		"debug [WD] fake watchdog",
		"debug [WD] The Watchdog timeout is 4 seconds",
		"debug [WD] The tickle timeout is 2000 ms",
		"info [WD] no resources configured.",
	)
	if !dog.enabled || fmt.Sprint(dog.calls) != "[set 4]" {
		t.Errorf("enabled %v, calls %v", dog.enabled, dog.calls)
	}
	e.advance(5 * time.Second)
	if n := dog.count(); n != 2 {
		t.Errorf("%d keepalives in 5 s, want 2", n)
	}
	// A timeout the device already has is not applied again.
	e.set(KeyTimeout, cmap.Uint32(10))
	e.expectLog("debug [WD] The Watchdog timeout is 10 seconds", "debug [WD] The tickle timeout is 5000 ms")
	if p := e.clock.Pending(); len(p) != 1 || p[0] != 5*time.Second {
		t.Errorf("tickle timers %v", p)
	}
	if err := e.svc.Close(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.expectLog("info [WD] magically closing the watchdog.")
	if !dog.closed || len(e.clock.Pending()) != 0 {
		t.Errorf("closed %v, timers %v", dog.closed, e.clock.Pending())
	}
}

// TestUntrainedDevice: a device whose timeout cannot be set keeps its own, with corosync's
// warning, and the engine then believes the device's value.
func TestUntrainedDevice(t *testing.T) {
	dog := &fakeDevice{timeout: 60}
	e := newEnv(t, map[string]cmap.Value{KeyDevice: cmap.String("/dev/fake0")}, &fakeDevices{writable: true, dev: dog})
	e.expectLog(
		"debug [WD] The Watchdog timeout is 6 seconds",
		"debug [WD] The tickle timeout is 3000 ms",
		"info [WD] Watchdog /dev/fake0 is now being tickled by corosync.",
		"debug [WD] fake watchdog",
		"warning [WD] Could not change the Watchdog timeout from 60 to 6 seconds",
		"info [WD] no resources configured.",
	)
	if st := e.status(); st.TimeoutSec != 60 || st.TickleMs != 3000 {
		t.Errorf("status %+v", st)
	}
}

// TestTimeoutKey: 3.1.7's answers to corosync-cmapctl -s resources.watchdog_timeout.
func TestTimeoutKey(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.log.take()
	e.set(KeyTimeout, cmap.Uint32(10))
	e.expectLog("debug [WD] The Watchdog timeout is 10 seconds", "debug [WD] The tickle timeout is 5000 ms")
	for _, bad := range []cmap.Value{cmap.Uint32(1), cmap.Uint32(121), cmap.String("7")} {
		e.set(KeyTimeout, bad)
		e.expectLog("warning [WD] Set watchdog_timeout is out of range (2..120).",
			"debug [WD] The Watchdog timeout is 10 seconds", "debug [WD] The tickle timeout is 5000 ms")
		if v, _ := e.m.Get(KeyTimeout); !v.Equal(cmap.Uint32(10)) {
			t.Errorf("after %v: %v", bad, v)
		}
	}
	e.del(KeyTimeout)
	e.expectLog()
	// Out of range at start: the default, written back.
	e = newEnv(t, map[string]cmap.Value{KeyTimeout: cmap.Uint32(200)}, nil)
	e.expectLog("warning [WD] Set watchdog_timeout is out of range (2..120).", "info [WD] use default value 6 seconds.",
		"debug [WD] The Watchdog timeout is 6 seconds", "debug [WD] The tickle timeout is 3000 ms",
		"warning [WD] Watchdog not enabled by configuration", "info [WD] no resources configured.")
	if v, _ := e.m.Get(KeyTimeout); !v.Equal(cmap.Uint32(6)) {
		t.Errorf("watchdog_timeout %v", v)
	}
}

// TestWatchdogRecovery: mon's failed resource with recovery watchdog stops the tickling,
// as 3.1.7 did 6 s after start.
func TestWatchdogRecovery(t *testing.T) {
	dog := &fakeDevice{timeout: 6, options: OptionSetTimeout}
	keys := monKeys(mem, map[string]cmap.Value{mem + "recovery": cmap.String("watchdog"), mem + "state": cmap.String("failed"),
		KeyDevice: cmap.String("/dev/fake0")})
	e := newEnv(t, keys, &fakeDevices{writable: true, dev: dog})
	e.log.take()
	// mon keeps last_updated fresh; wd fails the resource for its state at the first check.
	e.advance(5 * time.Second)
	e.set(mem+"last_updated", cmap.Uint64(e.clock.Now()))
	e.advance(999 * time.Millisecond)
	if e.log.take() != "" || !e.status().Tickling {
		t.Fatal("failed before the first check at 6 s")
	}
	e.advance(time.Millisecond)
	// The tickle due at the same time was armed later, so it runs after the check.
	e.expectLog(`crit [WD] watchdog resource "memory_used" failed!`, `info [WD] Fsm:memory_used event "failure", state "running" --> "failed"`,
		"alert [WD] NOT tickling the watchdog!")
	if st := e.status(); st.Tickling || fmt.Sprint(st.Failed) != "[memory_used]" {
		t.Errorf("status %+v", st)
	}
	before := dog.count()
	e.advance(10 * time.Second)
	e.expectLog()
	if dog.count() != before {
		t.Error("tickled after the failure")
	}
	if e.host.reboots+e.host.poweroff != 0 {
		t.Error("the host was asked to stop")
	}
}

// TestLateMonitor: a process resource whose monitor stopped writing last_updated fails
// with corosync's "too late" line; one kept up to date does not.
func TestLateMonitor(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.log.take()
	p := "resources.process.foo."
	e.set(p+"recovery", cmap.String("quit"))
	e.set(p+"poll_period", cmap.Uint64(1000))
	e.set(p+"last_updated", cmap.Uint64(1))
	e.set(p+"state", cmap.String("running"))
	e.expectLog(`info [WD] Fsm:foo event "config_changed", state "stopped" --> "running"`)
	e.advance(6 * time.Second)
	late := (start+6*uint64(time.Second))/1e6 - (1+1500*uint64(time.Millisecond))/1e6
	e.expectLog(fmt.Sprintf("error [WD] last_updated %d ms too late, period:1000.", late),
		`crit [WD] quit resource "foo" failed!`, `info [WD] Fsm:foo event "failure", state "running" --> "failed"`,
		"alert [WD] NOT tickling the watchdog!") // the tickle due at the same time comes after

	q := "resources.process.bar."
	e.set(q+"recovery", cmap.String("quit"))
	e.set(q+"poll_period", cmap.Uint64(1000))
	e.set(q+"last_updated", cmap.Uint64(e.clock.Now()))
	e.set(q+"state", cmap.String("running"))
	e.log.take()
	for i := 0; i < 20; i++ {
		e.advance(500 * time.Millisecond)
		e.set(q+"last_updated", cmap.Uint64(e.clock.Now()))
	}
	e.expectLog()
	// Now the monitor stops: the check after 1.5 periods fails it.
	e.advance(2500 * time.Millisecond)
	if st := e.status(); fmt.Sprint(st.Failed) != "[foo bar]" {
		t.Errorf("failed %v", st.Failed)
	}
}

// TestRecoveries: reboot and shutdown go to the Host (a fake: never the real machine).
func TestRecoveries(t *testing.T) {
	for _, rec := range []string{"reboot", "shutdown", "none"} {
		keys := monKeys(mem, map[string]cmap.Value{mem + "recovery": cmap.String(rec), mem + "last_updated": cmap.Uint64(1)})
		e := newEnv(t, keys, nil)
		e.advance(6 * time.Second)
		want := map[string][2]int{"reboot": {1, 0}, "shutdown": {0, 1}, "none": {0, 0}}[rec]
		if e.host.reboots != want[0] || e.host.poweroff != want[1] || !e.status().Tickling {
			t.Errorf("%s: reboots %d, power-offs %d, tickling %v", rec, e.host.reboots, e.host.poweroff, e.status().Tickling)
		}
	}
}

// TestResourceLifecycle: partial resources start when their recovery key comes, stop on
// state stopped, fail on state disabled, and are forgotten when the state key goes.
func TestResourceLifecycle(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.log.take()
	p := "resources.process.bar."
	e.set(p+"state", cmap.String("running"))
	e.expectLog("warning [WD] resource bar missing a recovery key.")
	if v, _ := e.m.Get(p + "poll_period"); !v.Equal(cmap.Uint64(6000)) {
		t.Errorf("poll_period %v, want the default written", v)
	}
	e.set(p+"recovery", cmap.String("none"))
	e.expectLog(`info [WD] Fsm:bar event "config_changed", state "stopped" --> "running"`)
	e.set(p+"state", cmap.String("stopped"))
	e.expectLog(`info [WD] Fsm:bar event "config_changed", state "running" --> "stopped"`)
	if p := e.clock.Pending(); len(p) != 1 {
		t.Errorf("timers %v, want only the tickle", p)
	}
	e.set(p+"last_updated", cmap.Uint64(5))
	e.set(p+"state", cmap.String("disabled"))
	e.expectLog(`info [WD] Fsm:bar event "config_changed", state "stopped" --> "running"`)
	e.advance(6 * time.Second)
	e.expectLog(`crit [WD] none resource "bar" failed!`, `info [WD] Fsm:bar event "failure", state "running" --> "failed"`)
	e.del(p + "state")
	e.expectLog(`warning [WD] resource "bar" deleted from cmap!`)
	e.set(p+"recovery", cmap.String("quit"))
	e.advance(20 * time.Second)
	e.expectLog()
	if !e.status().Tickling {
		t.Error("a forgotten resource failed")
	}
}

// TestFailureWhileStopped: corosync aborts on an assertion when a check fails a stopped
// resource (its recovery key lost its type while a check was armed); the engine goes on.
func TestFailureWhileStopped(t *testing.T) {
	p := "resources.process.baz."
	e := newEnv(t, map[string]cmap.Value{p + "recovery": cmap.String("quit"), p + "state": cmap.String("running"), p + "last_updated": cmap.Uint64(1)}, nil)
	e.log.take()
	e.set(p+"recovery", cmap.Uint8(1))
	e.expectLog("warning [WD] resource baz missing a recovery key.", `info [WD] Fsm:baz event "config_changed", state "running" --> "stopped"`)
	e.log.take()
	e.advance(12 * time.Second) // the first check waits two periods
	e.expectLog(fmt.Sprintf("error [WD] last_updated %d ms too late, period:6000.", (start+12*uint64(time.Second))/1e6-(1+9000*uint64(time.Millisecond))/1e6),
		"debug [WD] resource baz: no transition for failure in state stopped")
	if !e.status().Tickling {
		t.Error("a stopped resource failed")
	}
}
