package monsvc

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/reskit"
)

const (
	memKey  = "resources.system.memory_used."
	loadKey = "resources.system.load_15min."
)

func (e *env) keys(prefix string) string {
	var b strings.Builder
	for _, k := range e.m.Keys(prefix) {
		fmt.Fprintf(&b, "%s %s\n", k.Key, e.get(k.Key))
	}
	return b.String()
}

// TestDefaultKeys: the keys 3.1.7 shows on a configuration without resources.
func TestDefaultKeys(t *testing.T) {
	e := newEnv(t, nil)
	want := `resources.system.load_15min.current (dbl) = 0.000000
resources.system.load_15min.last_updated (u64) = 0
resources.system.load_15min.poll_period (u64) = 3000
resources.system.load_15min.state (str) = stopped
resources.system.memory_used.current (i32) = 0
resources.system.memory_used.last_updated (u64) = 0
resources.system.memory_used.poll_period (u64) = 3000
resources.system.memory_used.state (str) = stopped
`
	if got := e.keys("resources."); got != want {
		t.Errorf("keys:\n%s\nwant:\n%s", got, want)
	}
	if p := e.clock.Pending(); len(p) != 0 {
		t.Errorf("polling without a max: %v", p)
	}
	if l := e.log.take(); l != "" {
		t.Errorf("logged %q", l)
	}
}

// TestMaxAtRunTime replays what 3.1.7 did under corosync-cmapctl -s: adding max is
// ignored, changing it starts polling, a value over max fails the resource, an
// unparsable max stops it, a good one restarts it.
func TestMaxAtRunTime(t *testing.T) {
	e := newEnv(t, nil)
	e.set(memKey+"max", cmap.String("10"))
	if e.get(memKey+"state") != "(str) = stopped" || e.stats.reads != 0 {
		t.Fatalf("adding max acted: state %s, reads %d", e.get(memKey+"state"), e.stats.reads)
	}
	e.set(memKey+"max", cmap.String("50"))
	if got := e.get(memKey + "state"); got != "(str) = running" {
		t.Fatalf("state %s", got)
	}
	if got := e.get(memKey + "current"); got != "(u32) = 40" {
		t.Errorf("current %s (corosync stores a u32 over its i32 0)", got)
	}
	if got := e.get(memKey + "last_updated"); got != fmt.Sprintf("(u64) = %d", start) {
		t.Errorf("last_updated %s", got)
	}
	if p := e.clock.Pending(); len(p) != 1 || p[0] != 3*time.Second {
		t.Errorf("timers %v, want one of 3s", p)
	}
	if l := e.log.take(); l != `info [MON] Fsm:memory_used event "config_changed", state "stopped" --> "running"` {
		t.Errorf("log %q", l)
	}

	e.stats.setMem(60)
	e.advance(3 * time.Second)
	if got := e.get(memKey + "state"); got != "(str) = failed" {
		t.Fatalf("state %s", got)
	}
	if got := e.get(memKey + "last_updated"); got != fmt.Sprintf("(u64) = %d", start+3*uint64(time.Second)) {
		t.Errorf("last_updated %s", got)
	}
	if l := e.log.take(); l != `info [MON] Fsm:memory_used event "failure", state "running" --> "failed"` {
		t.Errorf("log %q", l)
	}
	// Failed resources are still polled, without new failures.
	e.stats.setMem(70)
	e.advance(3 * time.Second)
	if e.get(memKey+"current") != "(u32) = 70" || e.log.take() != "" {
		t.Error("polling in failed state differs")
	}

	e.set(memKey+"max", cmap.String("abc"))
	if got := e.get(memKey + "state"); got != "(str) = stopped" {
		t.Errorf("state %s", got)
	}
	if p := e.clock.Pending(); len(p) != 0 {
		t.Errorf("still polling: %v", p)
	}
	e.set(memKey+"max", cmap.String("80"))
	if e.state("memory_used") != reskit.Running || e.get(memKey+"state") != "(str) = running" {
		t.Error("not running again")
	}
	want := `info [MON] Fsm:memory_used event "config_changed", state "failed" --> "stopped"
info [MON] Fsm:memory_used event "config_changed", state "stopped" --> "running"`
	if l := e.log.take(); l != want {
		t.Errorf("log:\n%s\nwant:\n%s", l, want)
	}
}

// TestMaxTypesAndDeletion: only string values count; deleting max stops polling but
// leaves the state (3.1.7 did the same).
func TestMaxTypesAndDeletion(t *testing.T) {
	e := newEnv(t, map[string]cmap.Value{memKey + "max": cmap.String("90")})
	if e.get(memKey+"state") != "(str) = running" {
		t.Fatal("max from the configuration did not start polling")
	}
	e.log.take()
	e.set(memKey+"max", cmap.Int32(1)) // not a string: the state stays, polling stops
	if e.get(memKey+"state") != "(str) = running" || len(e.clock.Pending()) != 0 {
		t.Errorf("an i32 max: state %s, timers %v", e.get(memKey+"state"), e.clock.Pending())
	}
	e.set(memKey+"max", cmap.String("90"))
	if len(e.clock.Pending()) != 1 {
		t.Fatal("not polling")
	}
	if err := e.m.Delete(memKey + "max"); err != nil {
		t.Fatal(err)
	}
	e.settle()
	if e.get(memKey+"state") != "(str) = running" || len(e.clock.Pending()) != 0 {
		t.Errorf("after deleting max: state %s, timers %v", e.get(memKey+"state"), e.clock.Pending())
	}
	if l := e.log.take(); l != `warning [MON] resource "memory_used" deleted from cmap!` {
		t.Errorf("log %q", l)
	}
	// Deleting the state key is a deletion too; setting max again polls but does not
	// write the state back (the machine is already running).
	e.m.Delete(memKey + "state")
	e.settle()
	e.set(memKey+"max", cmap.String("91"))
	e.set(memKey+"max", cmap.String("92"))
	if e.get(memKey+"state") != "absent" || len(e.clock.Pending()) != 1 {
		t.Errorf("state %s, timers %v", e.get(memKey+"state"), e.clock.Pending())
	}
}

// TestPollPeriod: strings in 500..120000 change the period, others are refused with
// corosync's warnings; a u64 poll_period is not read (and one from corosync.conf is
// replaced by the default at start).
func TestPollPeriod(t *testing.T) {
	e := newEnv(t, map[string]cmap.Value{memKey + "poll_period": cmap.Uint64(1000), memKey + "max": cmap.String("90")})
	if got := e.get(memKey + "poll_period"); got != "(u64) = 3000" {
		t.Errorf("configured u64 poll_period became %s", got)
	}
	e.log.take()
	for _, c := range []struct {
		val    cmap.Value
		period time.Duration
		log    string
	}{
		{cmap.String("1000x"), time.Second, "debug [MON] poll_period changing from:3000 to 1000."},
		{cmap.String("100"), time.Second, "warning [MON] Could NOT use poll_period:100 ms for resource memory_used"},
		{cmap.String(" -1"), time.Second, "warning [MON] Could NOT use poll_period:18446744073709551615 ms for resource memory_used"},
		{cmap.String("abc"), time.Second, "warning [MON] Could NOT use poll_period: abc (not uint64 type) for resource memory_used"},
		{cmap.Uint64(700), time.Second, ""},
		{cmap.String("120000"), 120 * time.Second, "debug [MON] poll_period changing from:1000 to 120000."},
	} {
		e.set(memKey+"poll_period", c.val)
		if p := e.clock.Pending(); len(p) != 1 || p[0] != c.period {
			t.Errorf("%v: timers %v, want %v", c.val, p, c.period)
		}
		if l := e.log.take(); l != c.log {
			t.Errorf("%v: log %q, want %q", c.val, l, c.log)
		}
	}
	// A string poll_period at start is used.
	e2 := newEnv(t, map[string]cmap.Value{loadKey + "poll_period": cmap.String("2000"), loadKey + "max": cmap.String("9")})
	if p := e2.clock.Pending(); len(p) != 1 || p[0] != 2*time.Second {
		t.Errorf("timers %v", p)
	}
	if got := e2.get(loadKey + "poll_period"); got != "(str) = 2000" {
		t.Errorf("poll_period %s", got)
	}
}

// TestLoad: the load is a double compared with a double max; a load of 0 is not
// published (corosync publishes only positive figures).
func TestLoad(t *testing.T) {
	e := newEnv(t, nil)
	e.stats.mu.Lock()
	e.stats.load = 0
	e.stats.mu.Unlock()
	e.set(loadKey+"max", cmap.String("1"))
	e.set(loadKey+"max", cmap.String("0.02"))
	if e.get(loadKey+"current") != "(dbl) = 0.000000" || e.get(loadKey+"last_updated") != "(u64) = 0" || e.get(loadKey+"state") != "(str) = running" {
		t.Errorf("a zero load:\n%s", e.keys(loadKey))
	}
	e.stats.mu.Lock()
	e.stats.load = 0.495117
	e.stats.mu.Unlock()
	e.advance(3 * time.Second)
	if e.get(loadKey+"current") != "(dbl) = 0.495117" || e.get(loadKey+"state") != "(str) = failed" {
		t.Errorf("over max:\n%s", e.keys(loadKey))
	}
	if e.get(memKey+"state") != "(str) = stopped" {
		t.Error("memory_used moved with load_15min")
	}
}

// TestStatsError: a failed read is logged and skipped; polling goes on.
func TestStatsError(t *testing.T) {
	e := newEnv(t, map[string]cmap.Value{memKey + "max": cmap.String("1")})
	e.log.take()
	e.stats.mu.Lock()
	e.stats.memErr = errors.New("failed to parse input")
	e.stats.mu.Unlock()
	before := e.get(memKey + "last_updated")
	e.advance(3 * time.Second)
	if e.get(memKey+"last_updated") != before || len(e.clock.Pending()) != 1 {
		t.Error("a failed read was published or stopped polling")
	}
	if l := e.log.take(); l != "error [MON] Unable to get memory stats: failed to parse input" {
		t.Errorf("log %q", l)
	}
}

// TestFailsAtStart: a configured max under the figure fails the resource during Init, as
// 3.1.7 logged it before "Service engine loaded".
func TestFailsAtStart(t *testing.T) {
	e := newEnv(t, map[string]cmap.Value{memKey + "max": cmap.String("1")})
	want := `info [MON] Fsm:memory_used event "config_changed", state "stopped" --> "running"
info [MON] Fsm:memory_used event "failure", state "running" --> "failed"`
	if l := e.log.take(); l != want {
		t.Errorf("log:\n%s\nwant:\n%s", l, want)
	}
	if e.get(memKey+"state") != "(str) = failed" {
		t.Error("not failed")
	}
}
