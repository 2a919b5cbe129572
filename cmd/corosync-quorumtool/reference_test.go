package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/cmd/internal/refcluster"
	"github.com/corosync-go/corosync/cmd/internal/toolcmp"
	"github.com/corosync-go/corosync/ipc/refcorosync"
	"github.com/corosync-go/corosync/ipc/votequorum"
)

// buildTool builds this command and sets up its comparison with Debian's.
func buildTool(t *testing.T) *toolcmp.Tool {
	t.Helper()
	tl := toolcmp.Build(t, "corosync-quorumtool")
	tl.Mask = toolcmp.MaskDate
	return tl
}

// readCases only read the daemon's state, or are refused before reaching it.
var readCases = [][]string{
	{}, {"-s"}, {"-l"}, {"-p"}, {"-s", "-p"}, {"-l", "-p"}, {"-H"}, {"-l", "-H"}, {"-sH", "-p"},
	{"-i"}, {"-l", "-i"}, {"-a"}, {"-l", "-a"}, {"-a", "-i"}, {"-l", "-a", "-i", "-H"},
	{"-o", "a"}, {"-o", "i"}, {"-o", "n"}, {"-l", "-o", "i"}, {"-l", "-on"}, {"-l", "-o", "n", "-i"},
	{"-l", "-o", "i", "-p", "-H", "-a"}, {"-s", "-o", "n", "-a"}, {"-l", "-s"}, {"-s", "-l"},
	{"-V"}, {"-h"}, {"-x"}, {"-sx"}, {"-o"}, {"-o", "z"}, {"-o", ""}, {"-o", "ai"}, {"-e"}, {"-n"},
	{"-e", "0"}, {"-e", "abc"}, {"-e", "2147483648"}, {"-v", "-1"}, {"-v", "2147483648"},
	{"-n", "0"}, {"-n", "4294967296"}, {"-n", " 5x"}, {"-v"}, {"-V", "-x"}, {"-x", "-V"}, {"-h", "-e", "0"},
	{"-e", "0", "-h"}, {"--help"}, {"--", "-l"}, {"foo", "-l"}, {"-", "--", "-x"}, {"-:"}, {"-?"}, {"-\xe9"},
	{"-n", "3", "-l"}, {"-e", "x", "-v", "y"}, {"-v", "y", "-e", "x"}, {"-o", "q", "-e", "0"},
}

// Compare runs every read-only command line with both tools in ns, where a corosync
// serves (Debian's, or ours: pass a commander that runs programs in its namespace).
func Compare(t *testing.T, ns toolcmp.Commander, tl *toolcmp.Tool) {
	t.Helper()
	tl.Compare(t, ns, readCases)
}

// TestOneNode compares both tools on the default one-node reference, then changes votes
// and expected votes with each.
func TestOneNode(t *testing.T) {
	tl := buildTool(t)
	ref := refcorosync.Start(t, refcorosync.Options{})
	Compare(t, ref, tl)
	if r := tl.Same(t, ref, false, "-s"); r.Code != 0 || !strings.Contains(r.Stdout, "\nFlags:            Quorate \n") ||
		!strings.Contains(r.Stdout, "         1          1 node1 (local)\n") {
		t.Errorf("one-node status: %+v", r)
	}
	// Changes, each made by Debian's tool and then repeated by ours (or refused by both).
	for _, args := range [][]string{
		{"-v", "1"}, {"-v", "3"}, {"-v", "3", "-n", "1"}, {"-n", "5", "-v", "1"}, {"-e", "1"}, {"-e", "3"},
		{"-e", "9"}, {"-e", "2147483647"}, {"-v", "0"}, {"-f"}, {"-s"}, {"-l"},
	} {
		tl.Same(t, ref, false, args...)
	}
	// Ours alone changes the votes; Debian's shows the change.
	if r := tl.Run(t, ref, toolcmp.Ours, false, "-v", "4"); r != (toolcmp.Result{}) {
		t.Errorf("ours -v 4: %+v", r)
	}
	if r := tl.Run(t, ref, toolcmp.Debian, false, "-l"); !strings.Contains(r.Stdout, "         1          4 node1 (local)\n") {
		t.Errorf("after ours -v 4:\n%s", r.Stdout)
	}
	tl.Compare(t, ref, [][]string{{"-s"}, {"-e", "5"}, {"-s", "-p"}})
}

// noQuorumConf is a one-node corosync.conf without a quorum provider.
const noQuorumConf = `totem {
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
}
`

// TestNoProvider compares both tools where no quorum provider is configured: -s fails
// on its votequorum tracking, -m says it cannot monitor, the changes are refused.
func TestNoProvider(t *testing.T) {
	tl := buildTool(t)
	ref := refcorosync.Start(t, refcorosync.Options{Conf: noQuorumConf})
	Compare(t, ref, tl)
	tl.Compare(t, ref, [][]string{{"-m"}, {"-v", "2"}, {"-e", "2"}, {"-f"}, {"-m", "-H"}})
	// Without a provider the quorum service reports no members.
	if r := tl.Same(t, ref, false, "-l"); r.Code != 0 || r.Stdout != "\nMembership information\n----------------------\n    Nodeid Name\n" {
		t.Errorf("no provider -l: %+v", r)
	}
}

// TestNoDaemon compares both tools where no corosync runs, and on command lines built
// from a fixed pseudo-random sequence of option words.
func TestNoDaemon(t *testing.T) {
	tl := buildTool(t)
	ns := refcorosync.NewNetns(t)
	Compare(t, ns, tl)
	tl.Compare(t, ns, [][]string{{"-m"}, {"-v", "2"}, {"-e", "2"}, {"-f"}})
	words := []string{"-s", "-l", "-m", "-a", "-p", "-H", "-i", "-o", "a", "n", "i", "-e", "-v", "-n", "1", "0", "-x",
		"--", "-", "-h", "-V", "-f", "-sHp", "-e2", "-oz", "x"}
	seed := uint32(2463534242)
	for range 80 {
		var args []string
		for range 1 + seed%5 {
			seed ^= seed << 13
			seed ^= seed >> 17
			seed ^= seed << 5
			args = append(args, words[seed%uint32(len(words))])
		}
		tl.Same(t, ns, false, args...)
	}
	if t.Failed() {
		return
	}
	// POSIXLY_CORRECT stops the options at the first other word.
	for _, which := range []toolcmp.Which{toolcmp.Debian, toolcmp.Ours} {
		cmd := tl.Cmd(ns, which, "foo", "-x")
		cmd.Env = append(cmd.Env, "POSIXLY_CORRECT=1")
		if out, err := cmd.CombinedOutput(); err == nil || string(out) != "Cannot initialize CMAP service\n" {
			t.Errorf("%s with POSIXLY_CORRECT: %v %q", which, err, out)
		}
	}
}

// clusterNode is one node of a test cluster's nodelist.
type clusterNode struct {
	addr  int // refcluster.Addr's index
	id    uint32
	name  string // "" for none
	votes int    // 0 for the default
}

// clusterConf is a corosync.conf for the nodes with quorum options quorumExtra.
func clusterConf(nodes []clusterNode, quorumExtra string) string {
	var b strings.Builder
	b.WriteString("totem {\n\tversion: 2\n\tcluster_name: qtool\n\ttransport: knet\n\tcrypto_cipher: none\n\tcrypto_hash: none\n\ttoken: 1000\n}\nnodelist {\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "\tnode {\n\t\tring0_addr: %s\n\t\tnodeid: %d\n", refcluster.Addr(n.addr), n.id)
		if n.name != "" {
			fmt.Fprintf(&b, "\t\tname: %s\n", n.name)
		}
		if n.votes != 0 {
			fmt.Fprintf(&b, "\t\tquorum_votes: %d\n", n.votes)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\nquorum {\n\tprovider: corosync_votequorum\n" + quorumExtra + "}\n")
	b.WriteString("logging {\n\tto_stderr: yes\n\tto_syslog: no\n\tto_logfile: no\n\ttimestamp: off\n}\n")
	return b.String()
}

// waitStatus polls Debian's tool on node until its -s output contains all of want.
func waitStatus(t *testing.T, tl *toolcmp.Tool, node toolcmp.Commander, want ...string) {
	t.Helper()
	var r toolcmp.Result
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		r = tl.Run(t, node, toolcmp.Debian, false, "-s")
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(r.Stdout, w)
		}
		if ok {
			return
		}
	}
	t.Fatalf("status never showed %q:\n%s%s", want, r.Stdout, r.Stderr)
}

// monitor is a -m run with its stdout on a terminal, read as it comes.
type monitor struct {
	cmd    *exec.Cmd
	leader *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	stderr bytes.Buffer
	read   chan struct{} // closed when the terminal's output has been read to its end
	exited chan error
}

func startMonitor(t *testing.T, tl *toolcmp.Tool, node toolcmp.Commander, which toolcmp.Which, args ...string) *monitor {
	t.Helper()
	leader, follower, err := toolcmp.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	m := &monitor{cmd: tl.Cmd(node, which, append([]string{"-m"}, args...)...), leader: leader, read: make(chan struct{}), exited: make(chan error, 1)}
	m.cmd.Stdout = follower
	m.cmd.Stderr = &m.stderr
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	follower.Close()
	go func() {
		defer close(m.read)
		buf := make([]byte, 4096)
		for {
			n, err := leader.Read(buf)
			m.mu.Lock()
			m.out.Write(buf[:n])
			m.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { m.exited <- m.cmd.Wait() }()
	t.Cleanup(func() {
		m.cmd.Process.Kill()
		<-m.read
		leader.Close()
	})
	return m
}

// output is what the monitor has printed so far, masked.
func (m *monitor) output() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return toolcmp.MaskDate(m.out.String())
}

// waitBlocks waits until the monitor has printed n whole status blocks, the last one
// containing want.
func (m *monitor) waitBlocks(t *testing.T, n int, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out := m.output()
		blocks := strings.Split(out, "Quorum information")
		if len(blocks) > n && strings.Contains(blocks[n], want) && strings.HasSuffix(out, "\r\n\r\n") {
			return
		}
	}
	t.Fatalf("monitor did not print %d blocks with %q:\n%s", n, want, m.output())
}

// finish waits for the monitor to exit (its daemon gone) and returns its output, stderr
// and exit code.
func (m *monitor) finish(t *testing.T) toolcmp.Result {
	t.Helper()
	var err error
	select {
	case err = <-m.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("monitor still runs:\n%s", m.output())
	}
	<-m.read
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return toolcmp.Result{Stdout: m.output(), Stderr: m.stderr.String(), Code: code}
}

// TestCluster compares both tools on a three-node reference cluster whose node ids,
// names and addresses sort differently and whose nodes have different votes: with two
// nodes, with a quorum device registered, while monitoring a third node's joining and
// the daemon's end, and on a node left inquorate.
func TestCluster(t *testing.T) {
	tl := buildTool(t)
	clusterScenario(t, tl, refcluster.New(t, 3))
}

// TestClusterOurs is TestCluster against our corosyncd: both tools must print there what
// they print against each other on corosync 3.1.7.
func TestClusterOurs(t *testing.T) {
	tl := buildTool(t)
	clusterScenario(t, tl, refcluster.NewOurs(t, 3))
}

// clusterNodes runs the daemons of a test cluster: refcluster.Cluster for the
// reference, or anything that runs our corosyncd the same way.
type clusterNodes interface {
	// Start runs node i on conf and waits until it is ready to provide service.
	Start(i int, conf string)
	// Stop ends node i's daemon.
	Stop(i int)
	// Node is node i's namespace.
	Node(i int) *refcluster.Node
}

// clusterScenario is TestCluster's sequence on three nodes of c, whose addresses are
// refcluster.Addr(1..3).
func clusterScenario(t *testing.T, tl *toolcmp.Tool, c clusterNodes) {
	conf := clusterConf([]clusterNode{{1, 30, "alpha", 3}, {2, 10, "mike", 2}, {3, 20, "", 1}}, "")
	c.Start(1, conf)
	c.Start(2, conf)
	n1, n3 := c.Node(1), c.Node(3)
	waitStatus(t, tl, n1, "Nodes:            2\n", "Total votes:      5\n")
	Compare(t, n1, tl)
	// The daemon lists 10 then 30; sorted by name, the votes stay in the daemon's order,
	// paired with the wrong nodes, as in 3.1.7.
	if r := tl.Same(t, n1, false, "-l", "-o", "n"); r.Stdout != "\nMembership information\n----------------------\n    Nodeid      Votes Name\n"+
		"        30          2 alpha (local)\n        10          3 mike\n" {
		t.Errorf("-l -o n:\n%s", r.Stdout)
	}

	// A quorum device, registered and polled by this test on node 1.
	var vq *votequorum.Client
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n1.Do(func() (err error) { vq, err = votequorum.Dial(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	defer vq.Close()
	if err := vq.QdeviceRegister(ctx, "testdev"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, tl, n1, "Flags:            Quorate Qdevice \n")
	Compare(t, n1, tl)
	tl.Compare(t, c.Node(2), [][]string{{"-s"}, {"-l", "-p"}})
	info, err := vq.Info(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ring votequorum.RingID
	if err := vq.TrackStart(ctx, votequorum.TrackCurrent, 0); err != nil {
		t.Fatal(err)
	}
	for ring.NodeID == 0 {
		select {
		case ev := <-vq.Events():
			if nl, ok := ev.(votequorum.Nodelist); ok {
				ring = nl.RingID
			}
		case <-ctx.Done():
			t.Fatal("no node list notification")
		}
	}
	if err := vq.QdevicePoll(ctx, "testdev", true, ring); err != nil {
		t.Fatal(err)
	}
	if err := vq.QdeviceMasterWins(ctx, "testdev", true); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, tl, n1, "A,V,MW")
	Compare(t, n1, tl)
	t.Logf("quorum device flags %v", info.Flags)
	// -f unregisters it: ours does, then Debian's finds none.
	if r := tl.Run(t, n1, toolcmp.Ours, false, "-f"); r != (toolcmp.Result{}) {
		t.Errorf("ours -f: %+v", r)
	}
	if r := tl.Same(t, n1, false, "-s"); strings.Contains(r.Stdout, "Qdevice") {
		t.Errorf("-f left the device registered:\n%s", r.Stdout)
	}
	tl.Same(t, n1, false, "-f")
	vq.Close()

	// Both monitors see node 3 join, then their daemon go.
	deb := startMonitor(t, tl, n1, toolcmp.Debian)
	ours := startMonitor(t, tl, n1, toolcmp.Ours)
	deb.waitBlocks(t, 1, "Nodes:            2\r\n")
	ours.waitBlocks(t, 1, "Nodes:            2\r\n")
	c.Start(3, conf)
	deb.waitBlocks(t, 2, "Nodes:            3\r\n")
	ours.waitBlocks(t, 2, "Nodes:            3\r\n")
	waitStatus(t, tl, n1, "Nodes:            3\n", "Total votes:      6\n")
	Compare(t, n1, tl)
	tl.Compare(t, n3, [][]string{{"-s"}, {"-l", "-o", "n"}, {"-l", "-a"}, {"-s", "-i", "-o", "i"}})
	c.Stop(1)
	want, got := deb.finish(t), ours.finish(t)
	if got != want || want.Code != 1 || !strings.Contains(want.Stdout, "Nodes:            3\r\n") {
		t.Errorf("monitor:\nours   %+v\ndebian %+v", got, want)
	}

	// Nodes 2 and 3 have 3 of 6 votes: not quorate.
	waitStatus(t, tl, n3, "Nodes:            2\n", "Activity blocked")
	Compare(t, n3, tl)
	if r := tl.Same(t, n3, false, "-s"); r.Code != 2 || !strings.Contains(r.Stdout, "Quorate:          No\n") ||
		!strings.Contains(r.Stdout, "\nQuorum:           4 Activity blocked\nFlags:            \n") {
		t.Errorf("inquorate status: %+v", r)
	}
	// Lowering the expected votes makes it quorate; raising it is refused now.
	tl.Same(t, n3, false, "-e", "3")
	waitStatus(t, tl, n3, "Quorate:          Yes\n")
	Compare(t, n3, tl)
	tl.Compare(t, n3, [][]string{{"-e", "7"}, {"-v", "2", "-n", "30"}, {"-v", "1", "-n", "99"}, {"-s"}})
}

// TestTwoNode compares both tools on a two_node cluster (wait_for_all implied): one node
// waiting for the other, then both.
func TestTwoNode(t *testing.T) {
	tl := buildTool(t)
	twoNodeScenario(t, tl, refcluster.New(t, 2))
}

// TestTwoNodeOurs is TestTwoNode against our corosyncd.
func TestTwoNodeOurs(t *testing.T) {
	tl := buildTool(t)
	twoNodeScenario(t, tl, refcluster.NewOurs(t, 2))
}

// twoNodeScenario is TestTwoNode's sequence on two nodes of c.
func twoNodeScenario(t *testing.T, tl *toolcmp.Tool, c clusterNodes) {
	conf := clusterConf([]clusterNode{{1, 1, "one", 0}, {2, 2, "two", 0}}, "\ttwo_node: 1\n")
	c.Start(1, conf)
	n1 := c.Node(1)
	waitStatus(t, tl, n1, "Flags:            2Node WaitForAll \n")
	Compare(t, n1, tl)
	if r := tl.Same(t, n1, false, "-s"); r.Code != 2 || !strings.Contains(r.Stdout, "Activity blocked") {
		t.Errorf("waiting for all: %+v", r)
	}
	c.Start(2, conf)
	waitStatus(t, tl, n1, "Flags:            2Node Quorate WaitForAll \n")
	Compare(t, n1, tl)
	Compare(t, c.Node(2), tl)
	c.Stop(2)
	waitStatus(t, tl, n1, "Nodes:            1\n")
	if r := tl.Same(t, n1, false, "-s"); r.Code != 0 {
		t.Errorf("two_node survivor: %+v", r)
	}
}

// TestUnnamedNode compares both tools on a one-node reference whose node has no name:
// its address is looked up in /etc/hosts (getnameinfo's reverse lookup).
func TestUnnamedNode(t *testing.T) {
	tl := buildTool(t)
	ref := refcorosync.Start(t, refcorosync.Options{Conf: strings.Replace(noQuorumConf, "\t\tname: node1\n", "", 1) +
		"quorum {\n\tprovider: corosync_votequorum\n}\n"})
	Compare(t, ref, tl)
	want := "         1          1 127.0.0.1 (local)\n"
	if host, ok := resolveAddr(context.Background(), netip.MustParseAddr("127.0.0.1")); ok {
		want = "         1          1 " + host + " (local)\n"
	}
	if r := tl.Same(t, ref, false, "-l"); !strings.HasSuffix(r.Stdout, want) {
		t.Errorf("unnamed node:\n%s\nwant suffix %q", r.Stdout, want)
	}
}
