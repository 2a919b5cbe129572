package wdsvc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/refcorosync"
	"github.com/corosync-go/corosync/l4_services/cmapsvc"
	"github.com/corosync-go/corosync/l4_services/config"
	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
	"github.com/corosync-go/corosync/l4_services/monsvc"
	"github.com/corosync-go/corosync/l4_services/reskit"
)

// refDevice is the watchdog_device both daemons get: /dev/null takes the open and the
// write of corosync's protocol and refuses the ioctls, so the device path of both runs
// without a watchdog. Never put a real watchdog here: opening one arms a machine reset.
const refDevice = "/dev/null"

// refConf is the reference configuration: one node, debug logging without timestamps, and
// resources with recovery none only (never reboot or shutdown: this is the real machine).
const refConf = `totem {
	version: 2
	cluster_name: refcluster
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 1000
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		nodeid: 1
		name: node1
	}
}
logging {
	to_stderr: yes
	to_syslog: no
	to_logfile: no
	timestamp: off
	debug: on
}
resources {
	watchdog_timeout: 4
	watchdog_device: ` + refDevice + `
	system {
		memory_used {
			recovery: none
			poll_period: 1000
		}
		load_15min {
			max: 1000
		}
	}
}
`

// ours runs our mon and wd engines on refConf's resources keys, with cmap served over IPC
// in a namespace of the test's own, logging as corosync does to a buffer.
type ours struct {
	ns  *refcorosync.Netns
	log *refcorosync.Output
}

func startOurs(t *testing.T) *ours {
	t.Helper()
	cfg, err := config.ParseBytes("corosync.conf", []byte(refConf))
	if err != nil {
		t.Fatal(err)
	}
	m := icmap.New()
	for _, k := range cfg.Keys("resources.") {
		v, _ := cfg.Get(k)
		m.Set(k, v.ICMAP())
	}
	o := &ours{ns: refcorosync.NewNetns(t), log: &refcorosync.Output{}}
	lcfg, err := logsys.FromKeys(map[string]string{"logging.to_stderr": "yes", "logging.to_syslog": "no", "logging.timestamp": "off", "logging.debug": "on"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := logsys.New(lcfg, logsys.Options{Stderr: o.log})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)

	// Stopped by the cleanup, after wd's Close.
	ctx, cancel := context.WithCancel(context.Background())
	loop := reskit.NewLoop(nil)
	loopDone := make(chan struct{})
	go func() { loop.Run(ctx); close(loopDone) }()
	mon := monsvc.New(monsvc.Config{Map: m, Loop: loop, Log: log})
	wd := New(Config{Map: m, Loop: loop, Devices: LinuxDevices{}, Host: &fakeHost{}, Log: log})
	if err := mon.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := wd.Init(ctx); err != nil {
		t.Fatal(err)
	}

	svc := cmapsvc.New(cmapsvc.Config{Map: m, Log: slog.New(slog.DiscardHandler)})
	srv := ipc.NewServer(ipc.Config{Log: slog.New(slog.DiscardHandler)})
	var ln *net.UnixListener
	if err := o.ns.Do(func() (err error) { ln, err = srv.Listen(svc); return err }); err != nil {
		t.Fatal(err)
	}
	before := refcorosync.ShmNames()
	srvDone := make(chan struct{})
	go func() { srv.ServeOn(ctx, ln, svc); close(srvDone) }()
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		if err := wd.Close(cctx); err != nil {
			t.Errorf("closing wd: %v", err)
		}
		cancel()
		<-srvDone
		<-loopDone
		svc.Close()
		if left := refcorosync.ShmLeftovers(before, 5*time.Second); len(left) > 0 {
			t.Errorf("left in /dev/shm: %v", left)
		}
	})
	return o
}

// cmapctl runs Debian's corosync-cmapctl in a namespace, bounded in time.
func cmapctl(t *testing.T, ns *refcorosync.Netns, args ...string) string {
	t.Helper()
	cmd := ns.Command("timeout", append([]string{"10", "corosync-cmapctl"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("corosync-cmapctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

var varying = regexp.MustCompile(`\.(current|last_updated) \((\w+)\) = (.*)$`)

// shape keeps what must match in a -b resources listing: keys, types and values, except
// the figures and times, of which it keeps the type and whether they are 0.
func shape(listing string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(listing), "\n") {
		if m := varying.FindStringSubmatchIndex(l); m != nil {
			zero := l[m[6]:m[7]] == "0" || l[m[6]:m[7]] == "0.000000"
			l = fmt.Sprintf("%s (zero %v)", l[:m[6]-3], zero)
		}
		out = append(out, l)
	}
	return out
}

// monWdLines returns the MON and WD lines of a log, one subsystem at a time.
func monWdLines(log, sub string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "["+sub+" ") {
			out = append(out, strings.TrimRight(l, " "))
		}
	}
	return out
}

func compareLines(t *testing.T, what string, theirs, ours []string) {
	t.Helper()
	if strings.Join(theirs, "\n") != strings.Join(ours, "\n") {
		t.Errorf("%s:\ncorosync 3.1.7:\n%s\nours:\n%s", what, strings.Join(theirs, "\n"), strings.Join(ours, "\n"))
	}
}

// TestAgainstCorosync317 runs corosync 3.1.7 and our engines on the same resources{}
// and compares corosync-cmapctl -b resources and the MON and WD log lines (byte for byte,
// subsystem by subsystem) at start, after memory_used.max is set twice at run time (the
// second set fails the resource) and after wd's check of the failed resource.
func TestAgainstCorosync317(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	ref := refcorosync.Start(t, refcorosync.Options{Conf: refConf})
	o := startOurs(t)
	marks := [2]int{}
	newLines := func(sub string) (theirs, mine []string) {
		theirs = monWdLines(ref.Log(), sub)
		mine = monWdLines(o.log.String(), sub)
		return
	}
	step := func(what string) {
		t.Helper()
		theirs := shape(cmapctl(t, ref.Netns, "-b", "resources"))
		mine := shape(cmapctl(t, o.ns, "-b", "resources"))
		compareLines(t, what+": corosync-cmapctl -b resources", theirs, mine)
		for i, sub := range []string{"MON", "WD"} {
			a, b := newLines(sub)
			if len(a) < marks[i] || len(b) < marks[i] {
				t.Fatalf("%s: %s lines shrank", what, sub)
			}
			compareLines(t, what+": "+sub+" lines", a[marks[i]:], b[marks[i]:])
			marks[i] = min(len(a), len(b))
		}
	}
	step("start")

	// The first set adds the key, which mon ignores; the second changes it, and any
	// memory use is above 0.
	for _, v := range []string{"5", "0"} {
		for _, ns := range []*refcorosync.Netns{ref.Netns, o.ns} {
			cmapctl(t, ns, "-s", "resources.system.memory_used.max", "str", v)
		}
	}
	time.Sleep(300 * time.Millisecond) // both handle the change
	step("memory_used.max set to 5, then 0")
	if got := cmapctl(t, o.ns, "-g", "resources.system.memory_used.state"); !strings.Contains(got, "= failed") {
		t.Errorf("memory_used state after max 0: %s", got)
	}
	// wd checks every poll_period (3000 ms: mon replaced the configured u64) and finds it
	// failed.
	time.Sleep(3500 * time.Millisecond)
	step("after wd's check")
}
