package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/quorum"
	"github.com/corosync-go/corosync/ipc/refcorosync"
	"github.com/corosync-go/corosync/ipc/votequorum"
)

// quorumtool runs Debian's corosync-quorumtool in node i's namespace and returns its
// output and exit status.
func (c *cluster) quorumtool(i int, args ...string) (string, int) {
	c.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", c.lab.Name(fmt.Sprintf("n%d", i)), "timeout", "10", "corosync-quorumtool"}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("corosync-quorumtool: %v", err)
	}
	return string(out), code
}

// withQuorum adds a quorum section (and totem overrides) to every node's configuration.
func (c *cluster) withQuorum(quorum string) {
	c.t.Helper()
	for i := 1; i <= c.n; i++ {
		b, err := os.ReadFile(c.confPath(i))
		if err != nil {
			c.t.Fatal(err)
		}
		s := strings.Replace(string(b), "\ttoken: 1000\n", "\ttoken: 500\n", 1)
		if err := os.WriteFile(c.confPath(i), []byte(s+"quorum {\n\tprovider: corosync_votequorum\n"+quorum+"}\n"), 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
}

var (
	dateLine = regexp.MustCompile(`(?m)^Date: .*$`)
	ringLine = regexp.MustCompile(`(?m)^Ring ID: .*$`)
)

// shape removes what differs between runs from quorumtool's output: the date and the
// ring id.
func shape(s string) string {
	s = dateLine.ReplaceAllString(s, "Date: <date>")
	return ringLine.ReplaceAllString(s, "Ring ID: <ring>")
}

// waitQuorum polls quorumtool -s on node i until its exit status is want (0 quorate,
// 2 not, -1 any) and the output contains all of lines; it returns the last output.
func (c *cluster) waitQuorum(i, want int, limit time.Duration, lines ...string) string {
	c.t.Helper()
	var out string
	var code int
	for deadline := time.Now().Add(limit); ; time.Sleep(200 * time.Millisecond) {
		out, code = c.quorumtool(i, "-s")
		ok := code == want || want < 0
		for _, l := range lines {
			ok = ok && strings.Contains(out, l)
		}
		if ok {
			return out
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %d: quorumtool -s exit %d, want %d with %q:\n%s\nlog:\n%s", i, code, want, lines, out, c.log(i))
		}
	}
}

// qstep is a step of a quorum scenario: start or kill a node, or wait until quorumtool
// -s on node `on` exits with want and shows every line of see, then record -s and -l.
type qstep struct {
	// ready waits until that node has completed a synchronisation.
	ready       int
	start, kill int
	// stop stops a node with SIGTERM (a graceful leave).
	stop     int
	on, want int
	see      []string
	// qdevice runs the quorum device calls through libvotequorum's protocol on node `on`
	// and records their results and the node's information after each.
	qdevice bool
	// vqTrackKill, when set, tracks libvotequorum's notifications on node `on`, sets
	// expected votes to 4, kills that node, and records the notifications.
	vqTrackKill int
	// trackKill, when set, tracks libquorum's notifications (models V0 and V1) on node
	// `on` while that node is killed, and records them.
	trackKill int
	// monitorKill, when set, runs corosync-quorumtool -m on node `on` while that node is
	// killed, and records what it printed.
	monitorKill int
	// cmapSet runs corosync-cmapctl -s with these arguments on node `on`.
	cmapSet []string
	// reload, when set, is added to every node's quorum section before
	// corosync-cfgtool -R runs on node `on`.
	reload string
	// tool, when set, runs corosync-quorumtool with these arguments on node `on` and
	// records its output and status instead of waiting.
	tool []string
}

type qscenario struct {
	name string
	// noProvider leaves quorum.provider out.
	noProvider bool
	n          int
	quorum     string
	// first are the nodes started at once (all when nil).
	first []int
	steps []qstep
}

// quorumRun runs a scenario on our daemons or on corosync 3.1.7 and returns the
// recorded outputs, exit statuses and logs.
func quorumRun(t *testing.T, reference bool, sc qscenario) (outs []string, codes []int, logs []string) {
	c := newCluster(t, sc.n)
	if !sc.noProvider {
		c.withQuorum(sc.quorum)
	}
	run := func(i int) {
		if reference {
			b, _ := os.ReadFile(c.confPath(i))
			s := regexp.MustCompile(`(?s)system \{.*?\}\n`).ReplaceAllString(string(b), "")
			os.WriteFile(c.confPath(i), []byte(s), 0o644)
			c.startReference(i)
		} else {
			c.start(i)
		}
	}
	first := sc.first
	if first == nil {
		first = seq(sc.n)
	}
	for _, i := range first {
		run(i)
	}
	for _, st := range sc.steps {
		switch {
		case st.start > 0:
			run(st.start)
		case st.kill > 0:
			c.kill(st.kill)
		case st.stop > 0:
			c.stop(st.stop)
		case st.qdevice:
			outs, codes = append(outs, c.qdeviceCalls(st.on)), append(codes, 0)
		case st.vqTrackKill > 0:
			outs, codes = append(outs, c.trackVotequorum(st.on, st.vqTrackKill)), append(codes, 0)
		case st.trackKill > 0:
			outs, codes = append(outs, c.trackQuorum(st.on, st.trackKill)), append(codes, 0)
		case st.monitorKill > 0:
			cmd := exec.Command("ip", "netns", "exec", c.lab.Name(fmt.Sprintf("n%d", st.on)), "timeout", "60", "stdbuf", "-oL", "corosync-quorumtool", "-m")
			var out refcorosync.Output
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			c.kill(st.monitorKill)
			c.settle(st.on)
			cmd.Process.Signal(syscall.SIGTERM) // timeout passes it on
			cmd.Wait()
			outs, codes = append(outs, shape(out.String())), append(codes, cmd.ProcessState.ExitCode())
		case st.cmapSet != nil:
			if err := c.lab.Exec(fmt.Sprintf("n%d", st.on), append([]string{"timeout", "10", "corosync-cmapctl", "-s"}, st.cmapSet...)...); err != nil {
				t.Fatal(err)
			}
		case st.reload != "":
			for i := 1; i <= sc.n; i++ {
				b, _ := os.ReadFile(c.confPath(i))
				os.WriteFile(c.confPath(i), []byte(strings.Replace(string(b), "quorum {\n", "quorum {\n"+st.reload, 1)), 0o644)
			}
			if err := c.lab.Exec(fmt.Sprintf("n%d", st.on), "timeout", "10", "corosync-cfgtool", "-R"); err != nil {
				t.Fatal(err)
			}
		case st.ready > 0:
			c.waitLog(st.ready, "ready to provide service", 30*time.Second)
		case st.tool != nil:
			out, code := c.quorumtool(st.on, st.tool...)
			outs, codes = append(outs, shape(out)), append(codes, code)
		default:
			c.waitQuorum(st.on, st.want, 30*time.Second, st.see...)
			for _, args := range [][]string{{"-s"}, {"-l"}} {
				out, code := c.quorumtool(st.on, args...)
				outs, codes = append(outs, shape(out)), append(codes, code)
			}
		}
	}
	// Node 1's runtime.votequorum keys, and the quorum engines' service keys.
	cl := c.cmapOf(1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var keys []string
	for _, p := range []string{"runtime.votequorum.", "internal_configuration.service.", "runtime.services.quorum.", "runtime.services.votequorum."} {
		entries, err := cl.Iter(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			line := fmt.Sprintf("%s (%v)", e.Key, e.Type)
			if !strings.HasSuffix(e.Key, ".rx") && !strings.HasSuffix(e.Key, ".tx") {
				// Message counts depend on how the rings formed.
				line += " = " + getString(cl, e.Key)
			}
			keys = append(keys, line)
		}
	}
	outs, codes = append(outs, strings.Join(keys, "\n")), append(codes, 0)
	for i := 1; i <= sc.n; i++ {
		logs = append(logs, c.log(i))
	}
	return outs, codes, logs
}

// quorumLogLines are corosync's lines both daemons must log (when the reference does).
// Members[...] lines are left out: corosync forms the first ring alone and merges, ours
// forms it with every node up, so the lists seen on the way differ.
var quorumLogLines = []string{
	"Using quorum provider corosync_votequorum",
	"Service engine loaded: corosync vote quorum service v1.0 [5]",
	"Service engine loaded: corosync cluster quorum service v0.1 [3]",
	"This node is within the primary component and will provide service.",
	"This node is within the non-primary component and will NOT provide any services.",
	"Waiting for all cluster members.",
}

func quorumScenarios() []qscenario {
	all3 := []string{"Total votes:      3"}
	return []qscenario{
		// Node 3 dies under corosync-quorumtool -m, node 2 under libquorum trackers, then
		// node 2 comes back.
		{name: "three nodes lose two", n: 3, steps: []qstep{
			{on: 1, want: 0, see: all3}, {on: 3, want: 0, see: all3},
			{on: 1, monitorKill: 3}, {on: 1, want: 0, see: []string{"Total votes:      2"}},
			{on: 1, tool: []string{"-l", "-a", "-H"}}, {on: 1, tool: []string{"-s", "-p"}},
			{on: 1, tool: []string{"-l", "-i", "-o", "i"}}, {on: 1, tool: []string{"-l", "-p", "-o", "n"}},
			{on: 1, trackKill: 2}, {on: 1, want: 2, see: []string{"Total votes:      1"}},
			{start: 2}, {on: 1, want: 0, see: []string{"Total votes:      2"}},
			{on: 2, want: 0, see: []string{"Total votes:      2"}},
		}},
		{name: "setexpected and setvotes", n: 3, steps: []qstep{
			{on: 1, want: 0, see: all3},
			{on: 1, tool: []string{"-e", "2"}},
			{on: 2, tool: []string{"-e", "5"}},
			{on: 3, want: 0, see: []string{"Expected votes:   5"}},
			{on: 1, tool: []string{"-v", "2", "-n", "3"}},
			{on: 2, want: 0, see: []string{"Total votes:      4"}},
			{on: 1, tool: []string{"-v", "0", "-n", "1"}},
			{on: 1, vqTrackKill: 2}, {on: 1, want: -1, see: []string{"Nodes:            2"}},
		}},
		{name: "reload two_node and votes", n: 2, steps: []qstep{
			{on: 1, want: 0, see: []string{"Total votes:      2"}},
			{on: 2, reload: "\ttwo_node: 1\n"},
			{on: 1, want: 0, see: []string{"2Node"}},
			{on: 1, reload: "\tvotes: 3\n\texpected_votes: 7\n"},
			{on: 2, want: 0, see: []string{"Expected votes:   7"}},
			{kill: 2}, {on: 1, want: 0, see: []string{"Total votes:      1"}},
		}},
		{name: "quorum device", n: 2, quorum: "\tdevice {\n\t\tmodel: net\n\t\ttimeout: 1000\n\t}\n", steps: []qstep{
			{on: 1, want: 0, see: []string{"Total votes:      2"}},
			{on: 1, qdevice: true},
			{on: 2, tool: []string{"-s"}},
		}},
		{name: "allow_downscale", n: 3, quorum: "\tallow_downscale: 1\n", steps: []qstep{
			{on: 1, want: 0, see: all3},
			{stop: 3}, {on: 1, want: 0, see: []string{"Total votes:      2"}},
			{stop: 2}, {on: 1, want: -1, see: []string{"Total votes:      1"}},
		}},
		{name: "no provider", n: 2, noProvider: true, steps: []qstep{
			{ready: 1}, {on: 1, tool: []string{"-s"}}, {on: 1, tool: []string{"-l"}},
		}},
		{name: "two_node", n: 2, quorum: "\ttwo_node: 1\n", first: []int{1}, steps: []qstep{
			{on: 1, want: 2, see: []string{"Nodes:            1", "WaitForAll"}},
			{start: 2}, {on: 1, want: 0, see: []string{"Total votes:      2"}},
			{kill: 2}, {on: 1, want: 0, see: []string{"Total votes:      1"}},
		}},
		{name: "wait_for_all", n: 3, quorum: "\twait_for_all: 1\n", first: []int{1, 2}, steps: []qstep{
			{on: 1, want: 2, see: []string{"Total votes:      2"}},
			{start: 3}, {on: 1, want: 0, see: all3},
			{kill: 3}, {on: 1, want: 0, see: []string{"Total votes:      2"}},
			// Losing quorum means waiting for all again, until cancel_wait_for_all.
			{kill: 2}, {on: 1, want: 2, see: []string{"Total votes:      1"}},
			{start: 2}, {on: 1, want: 2, see: []string{"Nodes:            2"}},
			{on: 1, cmapSet: []string{"quorum.cancel_wait_for_all", "u8", "1"}},
			{on: 2, want: 0, see: []string{"Total votes:      2"}},
		}},
		{name: "last_man_standing", n: 3, quorum: "\tlast_man_standing: 1\n\tlast_man_standing_window: 1000\n", steps: []qstep{
			{on: 1, want: 0, see: all3},
			{kill: 3}, {on: 1, want: 0, see: []string{"Total votes:      2", "Expected votes:   2"}},
			{kill: 2}, {on: 1, want: 2, see: []string{"Total votes:      1"}},
		}},
		{name: "auto_tie_breaker lowest", n: 4, quorum: "\tauto_tie_breaker: 1\n", steps: []qstep{
			{on: 1, want: 0, see: []string{"Total votes:      4"}},
			{kill: 4}, {on: 1, want: 0, see: all3},
			{kill: 3}, {on: 1, want: 0, see: []string{"Total votes:      2"}},
		}},
		{name: "auto_tie_breaker highest", n: 4, quorum: "\tauto_tie_breaker: 1\n\tauto_tie_breaker_node: highest\n", steps: []qstep{
			{on: 3, want: 0, see: []string{"Total votes:      4"}},
			{kill: 4}, {on: 1, want: 0, see: all3},
			{kill: 3}, {on: 1, want: 2, see: []string{"Total votes:      2"}},
		}},
		{name: "auto_tie_breaker list", n: 4, quorum: "\tauto_tie_breaker: 1\n\tauto_tie_breaker_node: 3 1\n", steps: []qstep{
			{on: 1, want: 0, see: []string{"Total votes:      4"}},
			{kill: 2}, {on: 1, want: 0, see: all3},
			{kill: 4}, {on: 1, want: 0, see: []string{"Total votes:      2"}},
		}},
	}
}

// TestQuorumtoolLikeCorosync: Debian's corosync-quorumtool -s and -l print the same
// thing (but dates and ring ids) and exit with the same status (0 quorate, 2 not)
// against our daemons as against corosync 3.1.7, through votequorum's scenarios: nodes
// killed, two_node, wait_for_all, last_man_standing with its window, auto_tie_breaker
// lowest, highest and a list. Both log corosync's quorum lines alike.
func TestQuorumtoolLikeCorosync(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip(why)
	}
	for _, sc := range quorumScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			// Both clusters run at once, each in its own namespaces.
			var ours, ref, ourLogs, refLogs []string
			var ourCodes, refCodes []int
			t.Run("run", func(t *testing.T) {
				t.Run("ours", func(t *testing.T) {
					t.Parallel()
					ours, ourCodes, ourLogs = quorumRun(t, false, sc)
				})
				t.Run("corosync", func(t *testing.T) {
					t.Parallel()
					ref, refCodes, refLogs = quorumRun(t, true, sc)
				})
			})
			if t.Failed() {
				return
			}
			for k := range ref {
				if ours[k] != ref[k] || ourCodes[k] != refCodes[k] {
					t.Errorf("record %d: ours (exit %d):\n%s\ncorosync 3.1.7 (exit %d):\n%s", k, ourCodes[k], ours[k], refCodes[k], ref[k])
				}
			}
			for _, l := range quorumLogLines {
				if strings.Contains(refLogs[0], l) != strings.Contains(ourLogs[0], l) {
					t.Errorf("node 1 logs %q: corosync %v, ours %v\nours:\n%s\ncorosync:\n%s", l, strings.Contains(refLogs[0], l), strings.Contains(ourLogs[0], l), ourLogs[0], refLogs[0])
				}
			}
			if testing.Verbose() {
				for k := range ours {
					t.Logf("record %d (exit %d):\n%s", k, ourCodes[k], ours[k])
				}
			}
		})
	}
}

// serviceLines are node i's SERV and QUORUM lines, without their timestamps.
func serviceLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		i := strings.Index(l, "[SERV  ]")
		if i < 0 {
			i = strings.Index(l, "[QUORUM]")
		}
		if i < 0 {
			continue
		}
		out = append(out, l[i:])
	}
	return out
}

// TestQuorumLogsLikeCorosync: a one-node cluster with votequorum logs corosync 3.1.7's
// engine and quorum lines in its order, from start to a SIGTERM stop.
func TestQuorumLogsLikeCorosync(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip(why)
	}
	var runs [][]string
	for _, ref := range []bool{true, false} {
		c := newCluster(t, 1)
		c.withQuorum("")
		if ref {
			b, _ := os.ReadFile(c.confPath(1))
			os.WriteFile(c.confPath(1), regexp.MustCompile(`(?s)system \{.*?\}\n`).ReplaceAll(b, nil), 0o644)
			c.startReference(1)
		} else {
			c.start(1)
		}
		c.waitLog(1, "ready to provide service", 20*time.Second)
		c.stop(1)
		runs = append(runs, serviceLines(c.log(1)))
	}
	if strings.Join(runs[0], "\n") != strings.Join(runs[1], "\n") {
		t.Errorf("corosync 3.1.7:\n%s\nours:\n%s", strings.Join(runs[0], "\n"), strings.Join(runs[1], "\n"))
	}
}

// trackQuorum connects libquorum clients of models V0 and V1 to node i, tracks changes,
// kills node k and returns the notifications both received (ring ids left out).
func (c *cluster) trackQuorum(i, k int) string {
	c.t.Helper()
	var clients []*quorum.Client
	for _, model := range []quorum.Model{quorum.ModelV0, quorum.ModelV1} {
		err := c.lab.Do(fmt.Sprintf("n%d", i), func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			cl, err := quorum.DialModel(ctx, model)
			if err != nil {
				return err
			}
			clients = append(clients, cl)
			return cl.TrackStart(ctx, quorum.TrackChanges)
		})
		if err != nil {
			c.t.Fatalf("libquorum model %d on node %d: %v", model, i, err)
		}
	}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	time.Sleep(500 * time.Millisecond)
	c.kill(k)
	c.settle(i)
	var b strings.Builder
	for m, cl := range clients {
		fmt.Fprintf(&b, "model V%d (type %d):\n", m, cl.Type())
	drain:
		for {
			select {
			case ev := <-cl.Events():
				switch e := ev.(type) {
				case quorum.Quorum:
					fmt.Fprintf(&b, "quorum quorate=%v members=%v\n", e.Quorate, e.Members)
				case quorum.Nodelist:
					fmt.Fprintf(&b, "nodelist members=%v joined=%v left=%v\n", e.Members, e.Joined, e.Left)
				}
			default:
				break drain
			}
		}
	}
	return b.String()
}

// qdeviceCalls registers a quorum device on node i, polls, lets it time out, and so on,
// recording each call's result and GETINFO.
func (c *cluster) qdeviceCalls(i int) string {
	c.t.Helper()
	var cl *votequorum.Client
	ns := fmt.Sprintf("n%d", i)
	err := c.lab.Do(ns, func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cl, err = votequorum.Dial(ctx)
		if err != nil {
			return err
		}
		return cl.TrackStart(ctx, votequorum.TrackCurrent, 42)
	})
	if err != nil {
		c.t.Fatalf("libvotequorum on node %d: %v", i, err)
	}
	defer cl.Close()
	var ring votequorum.RingID
	for ring == (votequorum.RingID{}) {
		select {
		case ev := <-cl.Events():
			if nl, ok := ev.(votequorum.Nodelist); ok {
				ring = nl.RingID
			}
		case <-time.After(5 * time.Second):
			c.t.Fatal("no node list notification")
		}
	}
	var b strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	step := func(what string, err error) {
		time.Sleep(300 * time.Millisecond) // let the exec messages go round
		info, ierr := cl.Info(ctx, 0)
		fmt.Fprintf(&b, "%s: %v\n  info: %+v %v\n", what, err, info, ierr)
	}
	step("poll unregistered", cl.QdevicePoll(ctx, "dev", true, ring))
	step("register", cl.QdeviceRegister(ctx, "dev"))
	step("register again", cl.QdeviceRegister(ctx, "dev"))
	step("register another", cl.QdeviceRegister(ctx, "other"))
	step("poll old ring", cl.QdevicePoll(ctx, "dev", true, votequorum.RingID{NodeID: ring.NodeID, Seq: ring.Seq - 1}))
	step("poll wrong name", cl.QdevicePoll(ctx, "nope", true, ring))
	step("poll", cl.QdevicePoll(ctx, "dev", true, ring))
	out, code := c.quorumtool(i, "-s")
	fmt.Fprintf(&b, "quorumtool (exit %d):\n%s", code, shape(out))
	step("master wins", cl.QdeviceMasterWins(ctx, "dev", true))
	time.Sleep(1500 * time.Millisecond) // past quorum.device.timeout without a poll
	step("after the timeout", nil)
	step("poll no vote", cl.QdevicePoll(ctx, "dev", false, ring))
	step("rename", cl.QdeviceUpdate(ctx, "dev", "dev2"))
	step("unregister old name", cl.QdeviceUnregister(ctx, "dev"))
	step("unregister", cl.QdeviceUnregister(ctx, "dev2"))
	return b.String()
}

// trackVotequorum tracks votequorum's notifications on node i (context 99) while expected
// votes are set to 4 and node k is killed; it returns them (ring ids left out).
func (c *cluster) trackVotequorum(i, k int) string {
	c.t.Helper()
	var cl *votequorum.Client
	err := c.lab.Do(fmt.Sprintf("n%d", i), func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if cl, err = votequorum.Dial(ctx); err != nil {
			return err
		}
		if err := cl.TrackStart(ctx, votequorum.TrackChanges, 99); err != nil {
			return err
		}
		return cl.SetExpected(ctx, 4)
	})
	if err != nil {
		c.t.Fatalf("libvotequorum on node %d: %v", i, err)
	}
	defer cl.Close()
	time.Sleep(500 * time.Millisecond)
	c.kill(k)
	c.settle(i)
	var b strings.Builder
	for {
		select {
		case ev := <-cl.Events():
			switch e := ev.(type) {
			case votequorum.Quorum:
				fmt.Fprintf(&b, "quorum context=%d quorate=%v nodes=%v\n", e.Context, e.Quorate, e.Nodes)
			case votequorum.Nodelist:
				fmt.Fprintf(&b, "nodelist context=%d members=%v\n", e.Context, e.Members)
			case votequorum.ExpectedVotes:
				fmt.Fprintf(&b, "expected context=%d votes=%d\n", e.Context, e.ExpectedVotes)
			}
		default:
			return b.String()
		}
	}
}

// settle waits until node i's quorumtool shows as many nodes as are running, then a
// moment more for the notifications of that change to arrive.
func (c *cluster) settle(i int) {
	c.t.Helper()
	alive := 0
	for _, p := range c.procs {
		if p != nil {
			alive++
		}
	}
	c.waitQuorum(i, -1, 30*time.Second, fmt.Sprintf("Nodes:            %d\n", alive))
	time.Sleep(time.Second)
}
