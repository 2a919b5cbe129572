package main

import (
	"cmp"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/cmd/internal/refcluster"
	"github.com/corosync-go/corosync/l4_services/ploadsvc"
)

// ploadResult is corosync's closing line of a pload run (the part after the subsystem).
var ploadResult = regexp.MustCompile(`\[PLOAD \] +(\d+) Writes (\d+) bytes per write +[0-9.]+ seconds runtime, +([0-9.]+) TP/S, +[0-9.]+ MB/S\.`)

// TestPloadLikeCorosync starts corosync's load generator on a three-node cluster of
// corosync 3.1.7 and then of corosyncd, the way corosync documents it (pload.count,
// pload.size and pload.start set with corosync-cmapctl on one node): every node sends the
// load, logs its rate and exits with status 99, on both. The rates are logged; PLOAD_COUNT
// and PLOAD_SIZE change the load (perf/RESULTS.md uses them).
func TestPloadLikeCorosync(t *testing.T) {
	count, size := cmp.Or(os.Getenv("PLOAD_COUNT"), "20000"), cmp.Or(os.Getenv("PLOAD_SIZE"), "300")
	run := func(c *refcluster.Cluster) (rates []string) {
		conf := refclusterConf("pload", 3)
		for i := 1; i <= 3; i++ {
			c.Start(i, conf)
		}
		waitRing(t, c, 3)
		for _, kv := range [][]string{{"pload.count", "u32", count}, {"pload.size", "u32", size}, {"pload.start", "str", ploadsvc.StartPhrase}} {
			if out, err := c.Node(1).Command("corosync-cmapctl", append([]string{"-s"}, kv...)...).CombinedOutput(); err != nil {
				t.Fatalf("corosync-cmapctl -s %v: %v\n%s", kv, err, out)
			}
		}
		for i := 1; i <= 3; i++ {
			select {
			case <-c.Exited(i):
			case <-time.After(2 * time.Minute):
				t.Fatalf("node %d still runs:\n%s", i, tail(c.Log(i), 20))
			}
			if code := c.ExitCode(i); code != ploadsvc.ExitStatus {
				t.Errorf("node %d exited with %d, want %d:\n%s", i, code, ploadsvc.ExitStatus, tail(c.Log(i), 20))
			}
			log := c.Log(i)
			m := ploadResult.FindStringSubmatch(log)
			if m == nil || m[1] != count || m[2] != size || !strings.Contains(log, "Stopping corosync the hard way") {
				t.Errorf("node %d did not log pload's result:\n%s", i, tail(log, 20))
				continue
			}
			rates = append(rates, m[3])
		}
		if !strings.Contains(c.Log(1), "Starting pload!") {
			t.Errorf("node 1 did not log the start:\n%s", tail(c.Log(1), 20))
		}
		return rates
	}
	theirs := run(refcluster.New(t, 3))
	ours := run(refcluster.NewOurs(t, 3))
	t.Logf("pload %s messages of %s bytes, TP/S per node: corosync 3.1.7 %v, corosyncd %v", count, size, theirs, ours)
}
