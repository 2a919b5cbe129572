package main

import (
	"context"
	"fmt"
	"github.com/corosync-go/corosync/l4_services/executive"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// statsLine is one line of corosync-cmapctl -m stats: key, type, value.
var statsLine = regexp.MustCompile(`^(\S+) \((\w+)\) = (.*)$`)

// connKey matches the per-connection keys, whose pid and connection id vary.
var connKey = regexp.MustCompile(`^stats\.ipcs\.service(\d+)\.\d+\.0x[0-9a-f]+\.`)

// ourExtraStats are the keys we have and corosync has not.
var ourExtraStats = regexp.MustCompile(`^stats\.knet\.node\d+\.link\d+\.rx_dropped$`)

// statsValue is a key's type and value.
type statsValue struct{ typ, value string }

// statsShape parses corosync-cmapctl -m stats output into keys (per-connection keys with
// their pid and connection id replaced) and their types and values. stats.schedmiss keys
// are left out: whether a daemon missed its scheduling depends on the machine.
func statsShape(t *testing.T, out string) map[string]statsValue {
	t.Helper()
	shape := map[string]statsValue{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := statsLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("stats line of unexpected shape: %q", l)
			continue
		}
		if strings.HasPrefix(m[1], "stats.schedmiss.") {
			continue
		}
		k := connKey.ReplaceAllString(m[1], "stats.ipcs.service$1.PID.CONN.")
		shape[k] = statsValue{m[2], m[3]}
	}
	return shape
}

// compareStatsShape checks that ours has every key of corosync's with its type, no other
// key but ourExtraStats, and the same value for the keys sameValue accepts.
func compareStatsShape(t *testing.T, theirs, ours map[string]statsValue, sameValue func(key string) bool) {
	t.Helper()
	var keys []string
	for k := range theirs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := theirs[k]
		got, ok := ours[k]
		switch {
		case !ok:
			t.Errorf("corosync has %s (%s), we do not", k, want.typ)
		case got.typ != want.typ:
			t.Errorf("%s: type %s, corosync's %s", k, got.typ, want.typ)
		case sameValue(k) && got.value != want.value:
			t.Errorf("%s = %s, corosync has %s", k, got.value, want.value)
		}
	}
	for k := range ours {
		if _, ok := theirs[k]; !ok && !ourExtraStats.MatchString(k) {
			t.Errorf("we have %s, corosync does not", k)
		}
	}
}

// ourOneNode starts our daemon on oneNodeConf in a namespace of its own and waits until it
// provides service; it is stopped with SIGTERM at the end of the test.
func ourOneNode(t *testing.T) (*refcorosync.Netns, *exec.Cmd, *refcorosync.Output) {
	t.Helper()
	dir := t.TempDir()
	ns := refcorosync.NewNetns(t)
	conf := filepath.Join(dir, "corosync.conf")
	if err := os.WriteFile(conf, []byte(oneNodeConf(dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := ns.Command(os.Args[0], "-f", "-c", conf)
	cmd.Env = append(os.Environ(), "COROSYNCD_TEST_MAIN=1")
	log := &refcorosync.Output{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("our daemon ignored SIGTERM:\n%s", log)
		}
	})
	waitText(t, log, "ready to provide service", 15*time.Second)
	return ns, cmd, log
}

// waitText waits until what appears in out.
func waitText(t *testing.T, out interface{ String() string }, what string, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); !strings.Contains(out.String(), what); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%q never appeared in:\n%s", what, out)
		}
	}
}

// TestStatsMapThroughCmapctl reads the new stats families with Debian's corosync-cmapctl:
// a client's stats.ipcs.service0.<pid>.<conn> keys (with the invalid request it sent), a
// prefix tracker's create and delete notifications as the client comes and goes, the knet
// handle and loopback link keys, stats.pg, and a scheduling miss caused by stopping the
// daemon.
func TestStatsMapThroughCmapctl(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	ns, daemon, log := ourOneNode(t)
	cmapctl := func(args ...string) string {
		out, err := ns.Command("timeout", append([]string{"10", "corosync-cmapctl"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("corosync-cmapctl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	tracker := ns.Command("timeout", "20", "stdbuf", "-oL", "corosync-cmapctl", "-m", "stats", "-T", "stats.ipcs.")
	tracked := &refcorosync.Output{}
	tracker.Stdout, tracker.Stderr = tracked, tracked
	quit, err := tracker.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tracker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { quit.Write([]byte("q\n")); quit.Close(); tracker.Wait() }()
	waitText(t, tracked, "Type \"q\" to finish", 10*time.Second)

	// A client of our own, in the namespace: one request with an id cmap does not have.
	var c *ipc.Client
	if err := ns.Do(func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err = ipc.Dial(ctx, "cmap")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	req := make([]byte, ipc.RequestHeaderBytes)
	ipc.PutRequestHeader(req, 99)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Request(ctx, req); err != nil {
		t.Fatal(err)
	}
	mine := fmt.Sprintf("stats.ipcs.service0.%d.", os.Getpid())
	waitText(t, tracked, "create> "+mine, 10*time.Second)

	shape := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(cmapctl("-m", "stats")), "\n") {
		if m := statsLine.FindStringSubmatch(l); m != nil {
			shape[connKey.ReplaceAllStringFunc(m[1], func(p string) string {
				if strings.HasPrefix(p, mine) {
					return "MINE."
				}
				return "CMAPCTL."
			})] = m[2] + " " + m[3]
		}
	}
	self, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"MINE.procname": "str " + strings.TrimSpace(string(self)), "MINE.requests": "u64 1", "MINE.responses": "u64 1",
		"MINE.invalid_request": "u64 1", "MINE.queueing": "i32 0", "MINE.sent": "u32 0",
		"CMAPCTL.procname": "str corosync-cmapct", "CMAPCTL.invalid_request": "u64 0",
		"stats.pg.msg_reserved":                     "u32 2",
		"stats.knet.handle.tx_crypt_time_min":       "u64 18446744073709551615",
		"stats.knet.handle.tx_uncompressed_packets": "u64 0",
		"stats.knet.node1.link0.mtu":                "u32 65535",
		"stats.knet.node1.link0.latency_min":        "u32 4294967295",
		"stats.knet.node1.link0.connected":          "u8 1",
	} {
		if shape[k] != want {
			t.Errorf("%s: %q, want %q", k, shape[k], want)
		}
	}
	if v := strings.TrimPrefix(shape["stats.pg.msg_queue_avail"], "u32 "); v == "" || v == "0" {
		t.Errorf("stats.pg.msg_queue_avail = %q: the ring's queue is empty", v)
	}

	c.Close()
	waitText(t, tracked, "delete> "+mine, 10*time.Second)

	// Stop the daemon for longer than 0.8 × the 1000 ms token: it must notice.
	if err := daemon.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	if err := daemon.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitText(t, log, "ms (threshold is 800.0000 ms). Consider token timeout increase.", 10*time.Second)
	line := regexp.MustCompile(`warning \[MAIN  \] Corosync main process was not scheduled \(@(\d+)\) for (\d+\.\d{4}) ms \(threshold is 800\.0000 ms\)\. Consider token timeout increase\.`).FindStringSubmatch(log.String())
	if line == nil {
		t.Fatalf("the scheduling miss is not logged as corosync logs it:\n%s", log)
	}
	miss := cmapctl("-m", "stats", "stats.schedmiss.")
	m := regexp.MustCompile(`^stats\.schedmiss\.0\.delay \(flt\) = (\d+\.\d{6})\nstats\.schedmiss\.0\.timestamp \(u64\) = (\d+)\n`).FindStringSubmatch(miss)
	if m == nil || m[2] != line[1] {
		t.Fatalf("stats.schedmiss after the logged miss %v:\n%s", line, miss)
	}
	delay, _ := strconv.ParseFloat(m[1], 64)
	logged, _ := strconv.ParseFloat(line[2], 64)
	if delay < 1000 || math.Abs(delay-logged) > 0.00006 {
		t.Errorf("delay %s ms, logged %s ms, stopped for 1200 ms", m[1], line[2])
	}

	// corosync-cmapctl -C clears: the scheduling misses are forgotten.
	cmapctl("-C", "schedmiss")
	if out, _ := ns.Command("timeout", "10", "corosync-cmapctl", "-m", "stats", "stats.schedmiss.").CombinedOutput(); strings.Contains(string(out), "stats.schedmiss.0") {
		t.Errorf("after -C schedmiss:\n%s", out)
	}
	// The ring's counters start again from zero, and so does the count of closed
	// connections (the clearing tool's own close is the first one).
	gathers := func() uint64 {
		out := cmapctl("-m", "stats", "-g", "stats.srp.gather_entered")
		n, err := strconv.ParseUint(out[strings.LastIndex(out, " ")+1:len(out)-1], 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return n
	}
	before := gathers() // the start and the token loss after the stop
	cmapctl("-C", "totem")
	if after := gathers(); before < 2 || after >= before {
		t.Errorf("gather_entered %d before -C totem, %d after", before, after)
	}
	cmapctl("-C", "ipc")
	if out := cmapctl("-m", "stats", "stats.ipcs.global.closed"); out != "stats.ipcs.global.closed (u64) = 1\n" {
		t.Errorf("after -C ipc: %q", out)
	}
	for _, what := range []string{"knet", "all"} {
		cmapctl("-C", what)
	}
}

// TestStatsKeysTwoNodes compares the stats map of a formed 2-node ring, corosync 3.1.7's
// and ours, on the same configuration (knet with crypto): the same keys with the same
// types, and the same values where they do not depend on the implementation (the loopback
// link, link state, and the listing tool's own connection).
func TestStatsKeysTwoNodes(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	ref, ours := newCluster(t, 2), newCluster(t, 2)
	for i := 1; i <= 2; i++ {
		// corosync keeps the state_dir line; its own private /var/lib/corosync is mounted.
		if err := os.WriteFile(ref.confPath(i), []byte(clusterConf(2, ref.dir, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		ref.startReference(i)
		ours.start(i)
	}
	stats := map[string]map[string]statsValue{}
	for name, c := range map[string]*cluster{"corosync 3.1.7": ref, "ours": ours} {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			members, _ := c.lab.Output("n1", "timeout", "5", "corosync-cmapctl", "-g", "runtime.members.2.status")
			link, _ := c.lab.Output("n1", "timeout", "5", "corosync-cmapctl", "-m", "stats", "stats.knet.node2.link0.connected")
			if strings.Contains(members, "joined") && strings.HasSuffix(strings.TrimSpace(link), "= 1") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no 2-node ring:\n%s\n%s", name, c.log(1), c.log(2))
			}
		}
		out, err := c.lab.Output("n1", "timeout", "5", "corosync-cmapctl", "-m", "stats")
		if err != nil {
			t.Fatalf("%s: corosync-cmapctl -m stats: %v", name, err)
		}
		stats[name] = statsShape(t, out)
	}
	// The token timing gauges follow the running ring on both (corosync computes them every
	// 1.5 s, so read them after that): the token comes round, and came round recently.
	time.Sleep(2 * time.Second)
	for name, c := range map[string]*cluster{"corosync 3.1.7": ref, "ours": ours} {
		out, err := c.lab.Output("n1", "timeout", "5", "corosync-cmapctl", "-m", "stats", "stats.srp.")
		if err != nil {
			t.Fatalf("%s: corosync-cmapctl -m stats stats.srp.: %v", name, err)
		}
		srp := statsShape(t, out)
		mtt, _ := strconv.Atoi(srp["stats.srp.mtt_rx_token"].value)
		since, _ := strconv.Atoi(srp["stats.srp.time_since_token_last_received"].value)
		t.Logf("%s: mtt_rx_token %d ms, avg_token_workload %s, time_since_token_last_received %d ms, continuous_gather %s", name,
			mtt, srp["stats.srp.avg_token_workload"].value, since, srp["stats.srp.continuous_gather"].value)
		if mtt <= 0 || mtt > 1000 || since > 2000 || srp["stats.srp.continuous_gather"].value != "0" || srp["stats.srp.firewall_enabled_or_nic_failure"].value != "0" {
			t.Errorf("%s: token gauges do not describe a running ring:\n%s", name, out)
		}
	}
	constant := regexp.MustCompile(`^stats\.knet\.node(1\.link0\.(enabled|connected|mtu|latency_\w+|up_count|down_count|rx_\w+)|2\.link0\.(enabled|connected))$`)
	compareStatsShape(t, stats["corosync 3.1.7"], stats["ours"], func(k string) bool {
		return constant.MatchString(k) || strings.HasPrefix(k, "stats.ipcs.service") || k == "stats.ipcs.global.active" || k == "stats.pg.msg_reserved"
	})
}

// TestRingFaultThresholds: corosync 3.1.7 raises firewall_enabled_or_nic_failure and warns
// past 3 gather restarts in a row or 30 refused sends in a row, not at them.
func TestRingFaultThresholds(t *testing.T) {
	for _, c := range []struct {
		gather, sends uint64
		want          string
	}{
		{3, 30, ""},
		{4, 0, "totem is continuously in gather state"},
		{0, 31, "number of multicast sendmsg failures is above threshold"},
		{4, 31, "totem is continuously in gather state"},
	} {
		if got := ringFault(c.gather, c.sends); got != c.want {
			t.Errorf("ringFault(%d, %d) = %q, want %q", c.gather, c.sends, got, c.want)
		}
		var snap executive.Snapshot
		snap.Totem.ContinuousGather = c.gather
		flag := srpGauges(snap, c.sends)["firewall_enabled_or_nic_failure"].Uint8()
		if (flag == 1) != (c.want != "") {
			t.Errorf("gather %d, sends %d: firewall_enabled_or_nic_failure %d", c.gather, c.sends, flag)
		}
	}
}
