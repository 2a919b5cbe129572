package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// debianTool is Debian's corosync-cfgtool 3.1.7, the reference.
const debianTool = "/usr/sbin/corosync-cfgtool"

// sysPath is the PATH both tools run with; ours is found first through toolPath.
const sysPath = "/usr/sbin:/usr/bin:/sbin:/bin"

// commander runs programs inside a test's namespace (a refcorosync.Instance or Netns).
type commander interface {
	Command(name string, args ...string) *exec.Cmd
}

// buildTool builds this command into a fresh directory, as corosync-cfgtool, and returns
// the directory. It skips the test when the reference tool is missing.
func buildTool(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(debianTool); err != nil {
		t.Skip("skipping: Debian's corosync-cfgtool is not installed (apt-get install corosync)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", filepath.Join(dir, "corosync-cfgtool"), ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// result is what a run of a tool showed: its streams apart, or merged when merged.
type result struct {
	Stdout, Stderr string
	Code           int
}

// runTool runs corosync-cfgtool (ours when toolDir is set, else Debian's) with args inside
// the namespace, under timeout(1), with argv[0] "corosync-cfgtool" for both (getopt's
// messages name it). With merged, stdout and stderr share one pipe, as with 2>&1.
func runTool(t *testing.T, ns commander, toolDir string, merged bool, args ...string) result {
	t.Helper()
	path := sysPath
	if toolDir != "" {
		path = toolDir + ":" + sysPath
	}
	cmd := ns.Command("timeout", append([]string{"-k", "5", "20", "corosync-cfgtool"}, args...)...)
	cmd.Env = []string{"PATH=" + path, "LC_ALL=C"}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if merged {
		cmd.Stderr = &so
	}
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%v: %v", args, err)
	}
	if code == 124 || code == 137 {
		t.Fatalf("%v timed out (%s)", args, toolName(toolDir))
	}
	return result{so.String(), se.String(), code}
}

func toolName(toolDir string) string {
	if toolDir == "" {
		return "debian"
	}
	return "ours"
}

// same runs both tools with args and fails unless they print and exit alike.
func same(t *testing.T, ns commander, toolDir string, merged bool, args ...string) result {
	t.Helper()
	want := runTool(t, ns, "", merged, args...)
	got := runTool(t, ns, toolDir, merged, args...)
	if got != want {
		t.Errorf("corosync-cfgtool %q (merged %v):\nours   %+v\ndebian %+v", args, merged, got, want)
	}
	return want
}

// cmapctl runs Debian's corosync-cmapctl inside the namespace.
func cmapctl(t *testing.T, ns commander, args ...string) {
	t.Helper()
	cmd := ns.Command("timeout", append([]string{"10", "corosync-cmapctl"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("corosync-cmapctl %v: %v\n%s", args, err, out)
	}
}

// argCases are command lines that never reach a daemon or reach it only to read, or to
// kill a node that does not exist.
var argCases = [][]string{
	{}, {"-h"}, {"-r"}, {"-b"}, {"--force"}, {"-i", "1.2.3.4"}, {"-x"}, {"-sx"}, {"-k"}, {"-i"}, {"--foo=bar"},
	{"--re"}, {"--re=5"}, {"--s"}, {"--=x"}, {"--force=1"}, {"--stat=1"}, {"--kill"}, {"--i"}, {"--h"},
	{"-k", "0"}, {"-k", "abc"}, {"-k", "-5"}, {"-k", "4294967296"}, {"-a", "0x5"}, {"-ks"}, {"-k", ""},
	{"-", "--", "-x"}, {"foo", "-x"}, {"-W", "foo"}, {"-:"}, {"-?"}, {"-\xe9"}, {"-k", "0", "-x"}, {"-x", "-k", "0"},
	{"-s"}, {"-sb"}, {"-b", "-s"}, {"--status", "--brief"}, {"-n"}, {"--nodes"}, {"-i", "127.0.0.1", "-s"},
	{"-s", "-n"}, {"-n", "-s", "-h"}, {"-a", "1"}, {"--address=1"}, {"-a", "2"}, {"-a", " +1"}, {"-a", "4294967295"},
	{"-k", "2"}, {"--kill", "4294967295"}, {"-k", "3000000000"},
}

// TestSameAsDebian compares both tools on the default one-node reference, then on
// a link transport changed in cmap behind the daemon's back, then on a broken reload.
func TestSameAsDebian(t *testing.T) {
	tool := buildTool(t)
	ref := refcorosync.Start(t, refcorosync.Options{})
	for _, args := range argCases {
		same(t, ref, tool, false, args...)
	}
	for _, args := range [][]string{{"-s"}, {"-n"}, {"-R"}, {"-L"}, {"-k", "2"}, {"-x"}, {}} {
		same(t, ref, tool, true, args...)
	}
	if r := same(t, ref, tool, false, "-R"); r.Stdout != "Reloading corosync.conf...\nDone\n" {
		t.Errorf("reload: %+v", r)
	}

	// A link transport of cmap's own (nodelist keys and totem.transport are read-only to
	// clients, so they cannot be changed likewise).
	cmapctl(t, ref, "-s", "totem.interface.0.knet_transport", "str", "sctp")
	if r := same(t, ref, tool, false, "-s"); !strings.Contains(r.Stdout, "LINK ID 0 sctp\n") {
		t.Errorf("knet_transport override not shown: %+v", r)
	}
	same(t, ref, tool, false, "-sb")
	same(t, ref, tool, false, "-n")

	// A configuration file the daemon cannot use: the reload fails with its code.
	if err := os.WriteFile(ref.ConfPath, []byte("totem {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := same(t, ref, tool, false, "-R"); r.Code == 0 {
		t.Errorf("broken reload succeeded: %+v", r)
	}
	same(t, ref, tool, true, "-R")
}

// threeNodeConf has nodes 1 (local), 7 and 3 on two links; 7 and 3 never come up.
const threeNodeConf = `totem {
	version: 2
	cluster_name: refcluster
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 1000
	interface {
		linknumber: 1
		knet_transport: udp
	}
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		ring1_addr: 127.0.0.2
		nodeid: 1
		name: node1
	}
	node {
		ring0_addr: 127.0.0.3
		ring1_addr: 127.0.0.4
		nodeid: 7
		name: node7
	}
	node {
		ring0_addr: 127.0.0.5
		ring1_addr: 127.0.0.6
		nodeid: 3
		name: node3
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: yes
	to_syslog: no
	to_logfile: no
	timestamp: off
}
`

// TestTwoLinks compares both tools on a three-node, two-link cluster whose other nodes
// are down, so every link and node state of -s differs from the one-node case.
func TestTwoLinks(t *testing.T) {
	tool := buildTool(t)
	ref := refcorosync.Start(t, refcorosync.Options{Conf: threeNodeConf})
	r := same(t, ref, tool, false, "-s")
	if !strings.Contains(r.Stdout, "LINK ID 1 udp\n\taddr\t= 127.0.0.2\n") || !strings.Contains(r.Stdout, "nodeid:          7:\tdisconnected") {
		t.Errorf("two-link status:\n%s", r.Stdout)
	}
	if r := same(t, ref, tool, false, "-sb"); !strings.Contains(r.Stdout, "\tstatus\t= n11\n") {
		t.Errorf("two-link brief status:\n%s", r.Stdout)
	}
	if r := same(t, ref, tool, false, "-a", "7"); r.Stdout != "127.0.0.3 127.0.0.4\n" {
		t.Errorf("addresses of 7: %+v", r)
	}
	for _, args := range [][]string{{"-n"}, {"-a", "1"}, {"-a", "3"}, {"-a", "5"}, {"-k", "7"}, {"-k", "5"}} {
		same(t, ref, tool, false, args...)
	}
	cmapctl(t, ref, "-s", "totem.interface.1.knet_transport", "str", "sctp")
	if r := same(t, ref, tool, false, "-s"); !strings.Contains(r.Stdout, "LINK ID 1 sctp\n") {
		t.Errorf("link 1 transport:\n%s", r.Stdout)
	}
	same(t, ref, tool, false, "-sb")
}

// TestUDPU compares both tools under the udpu transport (no link transports, no
// arrows, the other node's address).
func TestUDPU(t *testing.T) {
	tool := buildTool(t)
	conf := strings.NewReplacer("transport: knet", "transport: udpu", "\tinterface {\n\t\tlinknumber: 1\n\t\tknet_transport: udp\n\t}\n", "").Replace(threeNodeConf)
	var lines []string
	for _, l := range strings.Split(conf, "\n") {
		if !strings.Contains(l, "ring1_addr") {
			lines = append(lines, l)
		}
	}
	ref := refcorosync.Start(t, refcorosync.Options{Conf: strings.Join(lines, "\n")})
	if r := same(t, ref, tool, false, "-s"); !strings.HasPrefix(r.Stdout, "Local node ID 1, transport udpu\nLINK ID 0 \n") {
		t.Errorf("udpu status:\n%s", r.Stdout)
	}
	for _, args := range [][]string{{"-sb"}, {"-n"}, {"-a", "1"}, {"-a", "7"}} {
		same(t, ref, tool, false, args...)
	}
}

// TestNoDaemon compares both tools where no corosync runs, and on command lines built
// from a fixed pseudo-random sequence of option words.
func TestNoDaemon(t *testing.T) {
	tool := buildTool(t)
	ns := refcorosync.NewNetns(t)
	for _, args := range argCases {
		same(t, ns, tool, false, args...)
	}
	for _, args := range [][]string{{"-s"}, {"-n"}, {"-R"}, {"-L"}, {"-k", "1"}, {"-a", "1"}, {"-H"}, {"-H", "--force"}} {
		same(t, ns, tool, false, args...)
		same(t, ns, tool, true, args...)
	}
	words := []string{"-s", "-n", "-b", "-i", "1", "-k", "-a", "0", "2", "x", "--", "-", "-h", "-r", "-R", "-L",
		"--kill", "--kill=3", "--re", "--reo", "--force", "--status", "--if=", "-sbk", "-bx", "--nodes=1", "--foo", "-H"}
	seed := uint32(2463534242)
	for range 60 {
		var args []string
		for range 1 + seed%4 {
			seed ^= seed << 13
			seed ^= seed >> 17
			seed ^= seed << 5
			args = append(args, words[seed%uint32(len(words))])
		}
		same(t, ns, tool, false, args...)
	}
	if !t.Failed() {
		// POSIXLY_CORRECT stops the options at the first other word.
		for _, toolDir := range []string{"", tool} {
			cmd := ns.Command("env", "POSIXLY_CORRECT=1", "PATH="+toolDir+":"+sysPath, "timeout", "10", "corosync-cfgtool", "foo", "-x")
			if out, err := cmd.Output(); err != nil || !strings.HasPrefix(string(out), "corosync-cfgtool [[-i") {
				t.Errorf("%s with POSIXLY_CORRECT: %v\n%s", toolName(toolDir), err, out)
			}
		}
	}
}

// exitsWith runs one tool with args on a reference of its own and expects the daemon to
// exit; it returns what the tool showed.
func exitsWith(t *testing.T, toolDir string, setup func(*refcorosync.Instance), args ...string) result {
	t.Helper()
	ref := refcorosync.Start(t, refcorosync.Options{})
	pid := daemonPID(t, ref)
	if setup != nil {
		setup(ref)
	}
	r := runTool(t, ref, toolDir, false, args...)
	select {
	case <-ref.Exited():
	case <-time.After(15 * time.Second):
		t.Fatalf("%s %v: corosync still running\n%s", toolName(toolDir), args, ref.Log())
	}
	removeShmOf(t, pid)
	return r
}

// daemonPID returns the pid of the reference's corosync, the only process in its
// namespace right after Start.
func daemonPID(t *testing.T, ref *refcorosync.Instance) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "pids", ref.Name).Output()
	pids := strings.Fields(string(out))
	if err != nil || len(pids) != 1 {
		t.Fatalf("ip netns pids %s: %v %q", ref.Name, err, pids)
	}
	return pids[0]
}

// removeShmOf removes the /dev/shm connection directories of an exited corosync. A
// daemon that exits while answering a client (kill of its own node) leaves them behind
// whichever tool, libqb's or ours, was connected: each client removes them only when it
// sees the server gone, and the server was still exiting.
func removeShmOf(t *testing.T, pid string) {
	t.Helper()
	entries, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "qb-"+pid+"-") || strings.HasPrefix(e.Name(), "qb-corosync-"+pid+"-") {
			if err := os.RemoveAll(filepath.Join("/dev/shm", e.Name())); err != nil {
				t.Error(err)
			}
		}
	}
}

// vetoShutdowns connects a cfg client to ref that refuses every shutdown request, until
// the test ends.
func vetoShutdowns(t *testing.T, ref *refcorosync.Instance) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	var c *cfg.Client
	if err := ref.Do(func() (err error) {
		c, err = cfg.Dial(ctx)
		return err
	}); err != nil {
		cancel()
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	// The answering goroutine ends before Close: ipc's Close must not overlap a request.
	t.Cleanup(func() {
		close(stop)
		<-done
		c.Close()
		cancel()
	})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case ev, ok := <-c.Events():
				if !ok {
					return
				}
				if ev.Status == ipc.CSOk {
					c.ReplyToShutdown(ctx, false)
				}
			}
		}
	}()
	if err := c.TrackStart(ctx, 0); err != nil {
		t.Fatal(err)
	}
}

// TestKillLocalNode kills the reference's own node with each tool.
func TestKillLocalNode(t *testing.T) {
	tool := buildTool(t)
	want := exitsWith(t, "", nil, "-k", "1")
	got := exitsWith(t, tool, nil, "-k", "1")
	if got != want || want != (result{"Killing node 1\n", "", 0}) {
		t.Errorf("kill local node:\nours   %+v\ndebian %+v", got, want)
	}
}

// TestShutdown shuts the reference down with each tool, plainly and with --force over a
// client's veto, and compares a vetoed plain shutdown, which leaves the daemon running.
func TestShutdown(t *testing.T) {
	tool := buildTool(t)
	want := exitsWith(t, "", nil, "-H")
	if got := exitsWith(t, tool, nil, "-H"); got != want || want != (result{"Shutting down corosync\n", "", 0}) {
		t.Errorf("shutdown:\nours   %+v\ndebian %+v", got, want)
	}
	veto := func(ref *refcorosync.Instance) { vetoShutdowns(t, ref) }
	want = exitsWith(t, "", veto, "-H", "--force")
	if got := exitsWith(t, tool, veto, "--force", "-H"); got != want || want.Code != 0 {
		t.Errorf("forced shutdown:\nours   %+v\ndebian %+v", got, want)
	}

	ref := refcorosync.Start(t, refcorosync.Options{})
	vetoShutdowns(t, ref)
	if r := same(t, ref, tool, false, "-H"); r != (result{"Shutting down corosync\n", "Could not shutdown (error = 10)\n", 0}) {
		t.Errorf("vetoed shutdown: %+v", r)
	}
	same(t, ref, tool, true, "-H")
	select {
	case <-ref.Exited():
		t.Fatalf("a vetoed shutdown stopped corosync:\n%s", ref.Log())
	default:
	}
}
