// Package refcluster runs a cluster of Debian's corosync 3.1.7, the reference, for the
// tools' comparison tests: each node in a network namespace of its own (so each has its
// own IPC sockets), all on one bridge, each daemon with private /run and state
// directories (refcorosync.ServeCommand).
package refcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/refcorosync"
	"github.com/corosync-go/corosync/l0_link/netns"
)

// Cluster is up to n reference nodes, numbered from 1, on one bridge.
type Cluster struct {
	// Daemon is the daemon binary the nodes run: Debian's corosync when empty, or our
	// corosyncd to run the same scenarios against it.
	Daemon string
	t      testing.TB
	lab    *netns.Lab
	dir    string
	procs  []*exec.Cmd
	done   []chan struct{}
	codes  []int // exit statuses, set before done closes
	logs   []*refcorosync.Output
}

// Addr is node i's address.
func Addr(i int) string { return fmt.Sprintf("10.79.0.%d", i) }

// New creates the namespaces of n nodes and their bridge, and registers the daemons'
// stop and the namespaces' removal with t.Cleanup. It skips the test when the reference
// cannot run here.
func New(t testing.TB, n int) *Cluster {
	t.Helper()
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	if ok, why := netns.Available(); !ok {
		t.Skip("skipping: " + why)
	}
	c := &Cluster{t: t, lab: netns.NewLab(), dir: t.TempDir(),
		procs: make([]*exec.Cmd, n), done: make([]chan struct{}, n), codes: make([]int, n), logs: make([]*refcorosync.Output, n)}
	t.Cleanup(func() {
		for i := range c.procs {
			c.Stop(i + 1)
		}
		if err := c.lab.Close(); err != nil {
			t.Errorf("removing namespaces: %v", err)
		}
	})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.lab.AddNamespace("hub"))
	var ports []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("n%d", i)
		must(c.lab.AddNamespace(name))
		hub := fmt.Sprintf("h%d", i)
		must(c.lab.Veth(name, "eth0", Addr(i)+"/24", "hub", hub, ""))
		ports = append(ports, hub)
	}
	must(c.lab.Bridge("hub", "br0", ports...))
	return c
}

// Node is one node's namespace: programs run there reach that node's daemon.
type Node struct {
	// Name is the namespace's name (as `ip netns` lists it).
	Name string
}

// Node returns node i's namespace.
func (c *Cluster) Node(i int) *Node { return &Node{Name: c.lab.Name(fmt.Sprintf("n%d", i))} }

// Command returns a command that runs name inside the node's namespace.
func (n *Node) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Do runs f on an OS thread switched into the node's namespace (for Go clients).
func (n *Node) Do(f func() error) error { return netns.Do(n.Name, f) }

// Start runs node i's daemon on conf (a whole corosync.conf, logging to stderr) and waits
// until it is ready to provide service.
func (c *Cluster) Start(i int, conf string) {
	c.t.Helper()
	path := filepath.Join(c.dir, fmt.Sprintf("node%d.conf", i))
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		c.t.Fatal(err)
	}
	daemon := c.Daemon
	if daemon == "" {
		daemon = refcorosync.Binary
	}
	cmd := refcorosync.ServeBinaryCommand(c.Node(i).Name, daemon, path)
	log := &refcorosync.Output{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		c.codes[i-1] = cmd.ProcessState.ExitCode()
		if c.Daemon == "" {
			refcorosync.RemoveFlightRecorder(cmd.Process.Pid)
		}
		close(done)
	}()
	c.procs[i-1], c.logs[i-1], c.done[i-1] = cmd, log, done
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(log.String(), "ready to provide service"); time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			c.t.Fatalf("node %d exited during start-up:\n%s", i, log)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %d not ready:\n%s", i, log)
		}
	}
}

// Stop ends node i's daemon with SIGTERM (SIGKILL after 10 s); the waiter removes the
// blackbox files a reference daemon leaves in /dev/shm however it ends.
func (c *Cluster) Stop(i int) {
	p := c.procs[i-1]
	if p == nil {
		return
	}
	p.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done[i-1]:
	case <-time.After(10 * time.Second):
		c.t.Errorf("node %d ignored SIGTERM", i)
		p.Process.Kill()
		<-c.done[i-1]
	}
	c.procs[i-1] = nil
}

// Detach cuts node i off the others (its bridge port leaves the bridge; its own link stays
// up), and Attach puts it back.
func (c *Cluster) Detach(i int) error {
	return c.lab.Exec("hub", "ip", "link", "set", fmt.Sprintf("h%d", i), "nomaster")
}

// Attach puts node i back on the bridge after Detach.
func (c *Cluster) Attach(i int) error {
	return c.lab.Exec("hub", "ip", "link", "set", fmt.Sprintf("h%d", i), "master", "br0")
}

// ExitCode waits until node i's daemon has exited and returns its exit status.
func (c *Cluster) ExitCode(i int) int {
	<-c.done[i-1]
	return c.codes[i-1]
}

// Exited is closed once node i's daemon has exited.
func (c *Cluster) Exited(i int) <-chan struct{} { return c.done[i-1] }

// Log is what node i's daemon has logged.
func (c *Cluster) Log(i int) string {
	if c.logs[i-1] == nil {
		return ""
	}
	return c.logs[i-1].String()
}

// NewOurs is New with our corosyncd, built for the test, as every node's daemon: the
// scenarios written for the reference run unchanged against it.
func NewOurs(t testing.TB, n int) *Cluster {
	t.Helper()
	c := New(t, n)
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	c.Daemon = filepath.Join(c.dir, "corosyncd")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", c.Daemon, "github.com/corosync-go/corosync/cmd/corosyncd").CombinedOutput()
	if err != nil {
		t.Fatalf("building corosyncd: %v\n%s", err, out)
	}
	return c
}
