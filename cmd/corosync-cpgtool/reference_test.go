package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/cmd/internal/refcluster"
	"github.com/corosync-go/corosync/cmd/internal/toolcmp"
	"github.com/corosync-go/corosync/ipc/cpg"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// argCases are the command lines compared wherever a daemon serves.
var argCases = [][]string{
	{}, {"-n"}, {"-d", ","}, {"-d", ",;"}, {"-d", ""}, {"-n", "-d", ":"}, {"-d:", "-n"}, {"-e"}, {"-e", "-n"},
	{"-e", "-d", ";"}, {"-ne", "-d", "|"}, {"-d", "\t"}, {"-d", "\xe9"}, {"-h"}, {"-x"}, {"-d"}, {"-hx"}, {"-xh"},
	{"--help"}, {"foo"}, {"-", "--", "-x"}, {"-n", "-h"}, {"-:"},
}

// Compare runs every command line with both tools in ns, where a corosync serves
// (Debian's, or ours: pass a commander that runs programs in its namespace).
func Compare(t *testing.T, ns toolcmp.Commander, tl *toolcmp.Tool) {
	t.Helper()
	tl.Compare(t, ns, argCases)
}

// doer runs a function inside a namespace (refcorosync.Instance, refcluster.Node).
type doer interface {
	Do(f func() error) error
}

// joinGroups joins each group with a cpg client of its own in ns (a client is in one
// group at a time); the clients leave when the test ends.
func joinGroups(t *testing.T, ns doer, groups ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	for _, g := range groups {
		var c *cpg.Client
		if err := ns.Do(func() (err error) { c, err = cpg.Dial(ctx); return err }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		go func() {
			for range c.Events() {
			}
		}()
		if err := c.Join(ctx, g); err != nil {
			t.Fatalf("join %q: %v", g, err)
		}
	}
}

// TestOneNode compares both tools on a one-node reference without groups, then with
// groups whose names need escaping.
func TestOneNode(t *testing.T) {
	tl := toolcmp.Build(t, "corosync-cpgtool")
	ref := refcorosync.Start(t, refcorosync.Options{})
	Compare(t, ref, tl)
	joinGroups(t, ref, "test", `a\b`, "\x01ctl\x7f", "\xe9high\xff", "with space", strings.Repeat("z", 128), "shared")
	joinGroups(t, ref, "test2")
	Compare(t, ref, tl)
	r := tl.Same(t, ref, false, "-n")
	for _, want := range []string{"test\n", `a\\b` + "\n", `\x01ctl\x7F` + "\n", `\xFFFFFFE9high\xFFFFFFFF` + "\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("-n lacks %q:\n%s", want, r.Stdout)
		}
	}
	if r := tl.Same(t, ref, false, "-d", ","); strings.Count(r.Stdout, "\n") != 9 || !strings.HasPrefix(r.Stdout, "GRP_NAME,PID,NODEID\n") {
		t.Errorf("-d , shows each member on a line:\n%s", r.Stdout)
	}
	// The usage names the program by argv[0]'s base name.
	for _, which := range []toolcmp.Which{toolcmp.Debian, toolcmp.Ours} {
		path := "/usr/sbin/corosync-cpgtool"
		if which == toolcmp.Ours {
			path = filepath.Join(tl.Dir, "corosync-cpgtool")
		}
		out, err := ref.Command(path, "-h").Output()
		if err != nil || !strings.HasPrefix(string(out), "corosync-cpgtool [-d delimiter]") {
			t.Errorf("%s by path: %v\n%s", which, err, out)
		}
	}
}

// TestNoDaemon compares both tools where no corosync runs.
func TestNoDaemon(t *testing.T) {
	tl := toolcmp.Build(t, "corosync-cpgtool")
	ns := refcorosync.NewNetns(t)
	Compare(t, ns, tl)
	if t.Failed() {
		return
	}
	for _, which := range []toolcmp.Which{toolcmp.Debian, toolcmp.Ours} {
		cmd := tl.Cmd(ns, which, "foo", "-x")
		cmd.Env = append(cmd.Env, "POSIXLY_CORRECT=1")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !strings.HasPrefix(string(out), "Could not initialize corosync cpg API error ") || err == nil || !asExit(err, &ee) {
			t.Errorf("%s with POSIXLY_CORRECT: %v %q", which, err, out)
		}
	}
}

func asExit(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// TestCluster compares both tools on a two-node reference cluster whose groups have
// members on both nodes, shown with their nodes' addresses.
func TestCluster(t *testing.T) {
	tl := toolcmp.Build(t, "corosync-cpgtool")
	clusterScenario(t, tl, refcluster.New(t, 2))
}

// TestClusterOurs is TestCluster against our corosyncd: both tools must print there what
// they print against each other on corosync 3.1.7.
func TestClusterOurs(t *testing.T) {
	tl := toolcmp.Build(t, "corosync-cpgtool")
	clusterScenario(t, tl, refcluster.NewOurs(t, 2))
}

// clusterNodes runs the daemons of a test cluster: refcluster.Cluster for the
// reference, or anything that runs our corosyncd the same way.
type clusterNodes interface {
	// Start runs node i on conf and waits until it is ready to provide service.
	Start(i int, conf string)
	// Node is node i's namespace.
	Node(i int) *refcluster.Node
}

// clusterScenario is TestCluster's sequence on two nodes of c, whose addresses are
// refcluster.Addr(1..2).
func clusterScenario(t *testing.T, tl *toolcmp.Tool, c clusterNodes) {
	conf := "totem {\n\tversion: 2\n\tcluster_name: cpgtool\n\ttransport: knet\n\tcrypto_cipher: none\n\tcrypto_hash: none\n\ttoken: 1000\n}\n" +
		"nodelist {\n\tnode {\n\t\tring0_addr: " + refcluster.Addr(1) + "\n\t\tnodeid: 5\n\t}\n\tnode {\n\t\tring0_addr: " + refcluster.Addr(2) +
		"\n\t\tnodeid: 2\n\t}\n}\nlogging {\n\tto_stderr: yes\n\tto_syslog: no\n\ttimestamp: off\n}\n"
	c.Start(1, conf)
	c.Start(2, conf)
	n1, n2 := c.Node(1), c.Node(2)
	joinGroups(t, n1, "shared", "one")
	joinGroups(t, n2, "shared", "two")
	var r toolcmp.Result
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r = tl.Run(t, n1, toolcmp.Debian, false, "-d", ","); strings.Count(r.Stdout, "\n") == 5 {
			break
		}
	}
	if !strings.Contains(r.Stdout, ",2\n") {
		t.Fatalf("node 2's members never showed on node 1:\n%s", r.Stdout)
	}
	Compare(t, n1, tl)
	Compare(t, n2, tl)
	if r := tl.Same(t, n1, false); !strings.Contains(r.Stdout, "\t         2 ("+refcluster.Addr(2)+")\n") {
		t.Errorf("node 2's address not shown:\n%s", r.Stdout)
	}
}
