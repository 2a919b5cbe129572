package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// figures are the resources keys whose values vary between runs.
var figures = regexp.MustCompile(`\.(current|last_updated) \((\w+)\) = (.*)$`)

// resourcesShape is a corosync-cmapctl -b resources listing with the figures reduced to
// their type and whether they are 0.
func resourcesShape(listing string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(listing), "\n") {
		if m := figures.FindStringSubmatchIndex(l); m != nil {
			v := l[m[6]:m[7]]
			l = fmt.Sprintf("%s (zero %v)", l[:m[6]-3], v == "0" || v == "0.000000")
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// subsysLines are a log's lines of one subsystem ("MON", "WD").
func subsysLines(log, sub string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "["+sub+" ") {
			out = append(out, strings.TrimRight(l, " "))
		}
	}
	return strings.Join(out, "\n")
}

// TestResourcesLikeCorosync317: our daemon's mon and wd engines against corosync 3.1.7 on
// the same file, under Debian's corosync-cmapctl: the resources keys and the MON and WD log
// lines at start, and after memory_used.max is set at run time (added, which mon ignores,
// then changed to 0, which fails the resource).
func TestResourcesLikeCorosync317(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	dir := t.TempDir()
	ref := refcorosync.Start(t, refcorosync.Options{Conf: oneNodeConf("/var/lib/corosync")})
	ns := refcorosync.NewNetns(t)
	conf := filepath.Join(dir, "corosync.conf")
	if err := os.WriteFile(conf, []byte(oneNodeConf(dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	// SIGTERM at the end, not SIGKILL: the daemon must remove the /dev/shm files of the
	// tools that have just disconnected.
	log := startOurs(t, ns, conf)
	cmapctl := func(c *exec.Cmd) string {
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", c.Args, err, out)
		}
		return string(out)
	}
	both := func(args ...string) (theirs, ours string) {
		a := append([]string{"10", "corosync-cmapctl"}, args...)
		return cmapctl(ref.Command("timeout", a...)), cmapctl(ns.Command("timeout", a...))
	}
	compare := func(when string) {
		t.Helper()
		theirs, ours := both("-b", "resources")
		if a, b := resourcesShape(theirs), resourcesShape(ours); a != b {
			t.Errorf("%s: corosync-cmapctl -b resources:\ncorosync 3.1.7:\n%s\nours:\n%s", when, a, b)
		}
		for _, sub := range []string{"MON", "WD"} {
			if a, b := subsysLines(ref.Log(), sub), subsysLines(log.String(), sub); a != b {
				t.Errorf("%s: %s lines:\ncorosync 3.1.7:\n%s\nours:\n%s", when, sub, a, b)
			}
		}
	}
	compare("start")
	both("-s", "resources.system.memory_used.max", "str", "5")
	both("-s", "resources.system.memory_used.max", "str", "0")
	time.Sleep(300 * time.Millisecond)
	compare("after max 5, then 0")
	if _, ours := both("-g", "resources.system.memory_used.state"); !strings.Contains(ours, "= failed") {
		t.Errorf("memory_used after max 0: %s", ours)
	}
}
