package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/refcorosync"
	"github.com/corosync-go/corosync/l0_link/netns"
	transport "github.com/corosync-go/corosync/l1_transport"
)

// TestMain lets the test binary run as the daemon: the cluster tests start it in network
// namespaces with COROSYNCD_TEST_MAIN=1, so no separate build is needed.
func TestMain(m *testing.M) {
	if os.Getenv("COROSYNCD_TEST_MAIN") == "1" {
		os.Exit(mainWithArgs(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// cluster is n daemons, each in a namespace of its own, on one bridge.
type cluster struct {
	t     *testing.T
	lab   *netns.Lab
	dir   string
	n     int
	procs []*exec.Cmd
	env   []string // extra environment of the daemons
	// reference lists the nodes that run Debian's corosync: they leave their blackbox
	// files in /dev/shm, which stop removes.
	reference []int
	logs      []*refcorosync.Output
	done      []chan struct{}
}

func nodeAddr(i int) string { return fmt.Sprintf("10.77.0.%d", i) }

func clusterConf(n int, dir string, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: gotest\n\ttransport: knet\n\ttoken: 1000\n\ttoken_coefficient: 100\n\tcrypto_cipher: aes256\n\tcrypto_hash: sha256\n\tkeyfile: %s\n}\n", filepath.Join(dir, "authkey"))
	b.WriteString("nodelist {\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\tnode {\n\t\tring0_addr: %s\n\t\tnodeid: %d\n\t\tname: node%d\n\t}\n", nodeAddr(i), i, i)
	}
	b.WriteString("}\nlogging {\n\tto_stderr: yes\n\tto_syslog: no\n\ttimestamp: off\n}\n")
	b.WriteString(extra)
	return b.String()
}

func newCluster(t *testing.T, n int) *cluster {
	t.Helper()
	if ok, why := netns.Available(); !ok {
		t.Skip("skipping: " + why)
	}
	c := &cluster{t: t, lab: netns.NewLab(), dir: t.TempDir(), n: n}
	t.Cleanup(func() {
		for i := range c.procs {
			c.stop(i + 1)
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
		must(c.lab.Veth(name, "eth0", nodeAddr(i)+"/24", "hub", hub, ""))
		ports = append(ports, hub)
	}
	must(c.lab.Bridge("hub", "br0", ports...))
	key := make([]byte, 256)
	for i := range key {
		key[i] = byte(i * 7)
	}
	must(os.WriteFile(filepath.Join(c.dir, "authkey"), key, 0o400))
	c.procs = make([]*exec.Cmd, n)
	c.logs = make([]*refcorosync.Output, n)
	c.done = make([]chan struct{}, n)
	for i := 1; i <= n; i++ {
		state := filepath.Join(c.dir, fmt.Sprintf("state%d", i))
		must(os.MkdirAll(state, 0o700))
		conf := clusterConf(n, c.dir, fmt.Sprintf("system {\n\tstate_dir: %s\n}\n", state))
		must(os.WriteFile(c.confPath(i), []byte(conf), 0o644))
	}
	return c
}

func (c *cluster) confPath(i int) string { return filepath.Join(c.dir, fmt.Sprintf("node%d.conf", i)) }

// start runs daemon i (1-based).
func (c *cluster) start(i int) {
	c.t.Helper()
	cmd := exec.Command("ip", "netns", "exec", c.lab.Name(fmt.Sprintf("n%d", i)), os.Args[0], "-f", "-c", c.confPath(i))
	cmd.Env = append(append(os.Environ(), "COROSYNCD_TEST_MAIN=1"), c.env...)
	log := &refcorosync.Output{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	c.procs[i-1], c.logs[i-1], c.done[i-1] = cmd, log, done
}

func (c *cluster) signal(i int, sig syscall.Signal) {
	if p := c.procs[i-1]; p != nil && p.Process != nil {
		p.Process.Signal(sig)
	}
}

// stop ends daemon i with SIGTERM (SIGKILL if it does not exit), so that it removes the
// IPC files of clients that disconnected just before.
func (c *cluster) stop(i int) {
	if c.procs[i-1] == nil {
		return
	}
	pid := c.procs[i-1].Process.Pid
	c.signal(i, syscall.SIGTERM)
	select {
	case <-c.done[i-1]:
		c.procs[i-1] = nil
		if slices.Contains(c.reference, i) {
			for _, f := range []string{"data", "header"} {
				os.Remove(fmt.Sprintf("/dev/shm/qb-corosync-%d-blackbox-%s", pid, f))
			}
		}
	case <-time.After(10 * time.Second):
		c.t.Errorf("node %d ignored SIGTERM", i)
		c.kill(i)
	}
}

// kill stops daemon i with SIGKILL and waits for it.
func (c *cluster) kill(i int) {
	if c.procs[i-1] == nil {
		return
	}
	c.signal(i, syscall.SIGKILL)
	select {
	case <-c.done[i-1]:
	case <-time.After(10 * time.Second):
		c.t.Errorf("node %d did not die", i)
	}
	c.procs[i-1] = nil
}

// waitExit waits for daemon i to exit by itself and returns its status.
func (c *cluster) waitExit(i int, limit time.Duration) int {
	c.t.Helper()
	select {
	case <-c.done[i-1]:
	case <-time.After(limit):
		c.t.Fatalf("node %d still runs after %v:\n%s", i, limit, c.logs[i-1])
	}
	code := c.procs[i-1].ProcessState.ExitCode()
	c.procs[i-1] = nil
	return code
}

func (c *cluster) log(i int) string { return c.logs[i-1].String() }

// waitLog waits until node i has logged line.
func (c *cluster) waitLog(i int, line string, limit time.Duration) {
	c.t.Helper()
	for deadline := time.Now().Add(limit); !strings.Contains(c.log(i), line); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			c.t.Fatalf("node %d did not log %q:\n%s", i, line, c.log(i))
		}
	}
}

// cmapOf dials node i's cmap service inside its namespace.
func (c *cluster) cmapOf(i int) *cmap.Client {
	c.t.Helper()
	var cl *cmap.Client
	var err error
	// The daemon listens once its configuration is loaded; retry until then.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err = c.lab.Do(fmt.Sprintf("n%d", i), func() (err error) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			cl, err = cmap.Dial(ctx)
			return err
		})
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		c.t.Fatalf("cmap on node %d: %v\n%s", i, err, c.log(i))
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

func getString(cl *cmap.Client, key string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := cl.Get(ctx, key)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return v.String()
}

// waitMembers waits until node i's runtime.members shows exactly the members in want as
// joined (and the others listed as left).
func (c *cluster) waitMembers(i int, cl *cmap.Client, want []int, limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok := true
		var got []string
		for j := 1; j <= c.n; j++ {
			s := getString(cl, fmt.Sprintf("runtime.members.%d.status", j))
			got = append(got, fmt.Sprintf("%d:%s", j, s))
			in := false
			for _, w := range want {
				in = in || w == j
			}
			if in != (s == "joined") {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %d members %v, want %v joined\n%s", i, got, want, c.log(i))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func seq(n int) []int {
	var out []int
	for i := 1; i <= n; i++ {
		out = append(out, i)
	}
	return out
}

func TestRingsForm(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			c := newCluster(t, n)
			for i := 1; i <= n; i++ {
				c.start(i)
			}
			for i := 1; i <= n; i++ {
				c.waitMembers(i, c.cmapOf(i), seq(n), 30*time.Second)
			}
			for i := 1; i <= n; i++ {
				if !strings.Contains(c.log(i), "Completed service synchronization, ready to provide service.") {
					t.Errorf("node %d never logged the ready line:\n%s", i, c.log(i))
				}
				if !strings.Contains(c.log(i), "A new membership (") {
					t.Errorf("node %d never logged a membership:\n%s", i, c.log(i))
				}
			}
		})
	}
}

func TestKillAndRejoin(t *testing.T) {
	c := newCluster(t, 3)
	for i := 1; i <= 3; i++ {
		c.start(i)
	}
	cl1 := c.cmapOf(1)
	c.waitMembers(1, cl1, []int{1, 2, 3}, 30*time.Second)
	c.kill(3)
	c.waitMembers(1, cl1, []int{1, 2}, 30*time.Second)
	c.waitMembers(2, c.cmapOf(2), []int{1, 2}, 10*time.Second)
	c.waitLog(1, "A processor failed, forming new configuration", 5*time.Second)
	c.start(3)
	c.waitMembers(1, cl1, []int{1, 2, 3}, 30*time.Second)
	if got := getString(cl1, "runtime.members.3.join_count"); got != "2" {
		t.Errorf("join_count of the restarted node: %s", got)
	}
	c.waitMembers(3, c.cmapOf(3), []int{1, 2, 3}, 10*time.Second)
	t.Logf("node 1:\n%s", c.log(1))
}

func TestSIGTERMLeavesAtOnce(t *testing.T) {
	c := newCluster(t, 3)
	for i := 1; i <= 3; i++ {
		c.start(i)
	}
	cl1 := c.cmapOf(1)
	c.waitMembers(1, cl1, []int{1, 2, 3}, 30*time.Second)
	c.signal(3, syscall.SIGTERM)
	if code := c.waitExit(3, 10*time.Second); code != 0 {
		t.Errorf("exit status after SIGTERM: %d\n%s", code, c.log(3))
	}
	c.waitMembers(1, cl1, []int{1, 2}, 30*time.Second)
	// A leave is seen through the leaver's join message, not by the token timeout.
	if strings.Contains(c.log(1), "A processor failed") {
		t.Errorf("node 1 waited for a token timeout instead of seeing the leave:\n%s", c.log(1))
	}
	// corosync 3.1.7's lines, in its order for the engines we have.
	want := []string{"Node was shut down by a signal", "Unloading all Corosync service engines.",
		"withdrawing server sockets", "Service engine unloaded: corosync configuration map access",
		"withdrawing server sockets", "Service engine unloaded: corosync configuration service",
		"Service engine unloaded: corosync resource monitoring service",
		"Service engine unloaded: corosync watchdog service", "Corosync Cluster Engine exiting normally"}
	rest := c.log(3)
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("node 3's log lacks %q in order:\n%s", w, c.log(3))
		}
		rest = rest[i+len(w):]
	}
}

// TestDefaultCrypto: with an authkey and no crypto_cipher/crypto_hash, the ring is
// encrypted (aes256), and a node with a different key cannot join.
func TestDefaultCrypto(t *testing.T) {
	c := newCluster(t, 3)
	for i := 1; i <= 3; i++ {
		b, _ := os.ReadFile(c.confPath(i))
		s := strings.Replace(string(b), "\tcrypto_cipher: aes256\n\tcrypto_hash: sha256\n", "", 1)
		if i == 3 {
			other := filepath.Join(c.dir, "otherkey")
			os.WriteFile(other, make([]byte, 256), 0o400)
			s = strings.Replace(s, filepath.Join(c.dir, "authkey"), other, 1)
		}
		os.WriteFile(c.confPath(i), []byte(s), 0o644)
		c.start(i)
	}
	c.waitMembers(1, c.cmapOf(1), []int{1, 2}, 30*time.Second)
	time.Sleep(2 * time.Second) // node 3 keeps trying; it must stay out
	c.waitMembers(1, c.cmapOf(1), []int{1, 2}, time.Second)
	if !strings.Contains(c.log(1), "crypto=aes256") {
		t.Errorf("node 1 does not encrypt:\n%s", c.log(1))
	}
}

// mcastPackets reads the IPv4 multicast counters of node i's namespace (IpExt in
// /proc/net/netstat: every datagram to a group, IGMP reports included).
func (c *cluster) mcastPackets(i int) (in, out uint64) {
	c.t.Helper()
	text, err := c.lab.Output(fmt.Sprintf("n%d", i), "cat", "/proc/net/netstat")
	if err != nil {
		c.t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "IpExt:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		for k, v := range fields {
			if k < len(names) {
				n, _ := strconv.ParseUint(v, 10, 64)
				switch names[k] {
				case "InMcastPkts":
					in = n
				case "OutMcastPkts":
					out = n
				}
			}
		}
	}
	if names == nil {
		c.t.Fatalf("no IpExt counters in node %d's /proc/net/netstat", i)
	}
	return in, out
}

// srpBroadcasts is a lower bound of the broadcasts node i's ring has sent: joins, merge
// detection, frames and their retransmissions, token hold cancels (stats.srp of the
// stats map).
func (c *cluster) srpBroadcasts(i int) uint64 {
	c.t.Helper()
	var cl *cmap.Client
	err := c.lab.Do(fmt.Sprintf("n%d", i), func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cl, err = cmap.DialMap(ctx, cmap.MapStats)
		return err
	})
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close()
	var sum uint64
	for _, k := range []string{"memb_join_tx", "memb_merge_detect_tx", "mcast_tx", "mcast_retx", "token_hold_cancel_tx"} {
		v, err := strconv.ParseUint(getString(cl, "stats.srp."+k), 10, 64)
		if err != nil {
			c.t.Fatalf("stats.srp.%s: %v", k, err)
		}
		sum += v
	}
	return sum
}

// TestUDPUAndUDPRings: the udpu and udp transports form rings too (plain UDP, no
// encryption, as corosync 3.1.7 runs them). Under udp every node joins the cluster's
// default group and the ring's broadcasts travel as multicast; under udpu nothing does.
func TestUDPUAndUDPRings(t *testing.T) {
	for _, tr := range []string{"udpu", "udp"} {
		t.Run(tr, func(t *testing.T) {
			c := newCluster(t, 3)
			for i := 1; i <= 3; i++ {
				b, _ := os.ReadFile(c.confPath(i))
				s := strings.Replace(string(b), "\ttransport: knet\n", "\ttransport: "+tr+"\n", 1)
				s = strings.Replace(s, "\tcrypto_cipher: aes256\n\tcrypto_hash: sha256\n", "", 1)
				os.WriteFile(c.confPath(i), []byte(s), 0o644)
				c.start(i)
			}
			for i := 1; i <= 3; i++ {
				c.waitMembers(i, c.cmapOf(i), []int{1, 2, 3}, 30*time.Second)
			}
			// Each reload request makes the node's cfg engine multicast one message.
			for i := 1; i <= 3; i++ {
				for k := 0; k < 5; k++ {
					if err := c.lab.Exec(fmt.Sprintf("n%d", i), "timeout", "10", "corosync-cfgtool", "-R"); err != nil {
						t.Fatal(err)
					}
				}
			}
			group := transport.DefaultGroup("gotest", 0, false).String()
			for i := 1; i <= 3; i++ {
				cl := c.cmapOf(i)
				maddr, err := c.lab.Output(fmt.Sprintf("n%d", i), "ip", "maddr", "show", "dev", "eth0")
				if err != nil {
					t.Fatal(err)
				}
				// Broadcasts the ring sent (joins, merge detection, frames) before and
				// after reading the multicast counters, which lag behind them by at most a
				// send.
				sent := c.srpBroadcasts(i)
				time.Sleep(100 * time.Millisecond)
				in, out := c.mcastPackets(i)
				sentAfter := c.srpBroadcasts(i)
				t.Logf("node %d: %d..%d ring broadcasts; multicast datagrams in %d, out %d", i, sent, sentAfter, in, out)
				if sent < 6 {
					t.Fatalf("node %d sent only %d broadcasts", i, sent)
				}
				switch tr {
				case "udp":
					if key := getString(cl, "totem.interface.0.mcastaddr"); key != group || !strings.Contains(maddr, "inet  "+group+"\n") {
						t.Errorf("node %d: mcastaddr %s, joined:\n%s\nwant %s", i, key, maddr, group)
					}
					// One datagram per broadcast, plus a few IGMP membership reports.
					if out < sent || out > sentAfter+4 || in == 0 {
						t.Errorf("node %d sent %d..%d broadcasts as %d multicast datagrams (received %d); want one each", i, sent, sentAfter, out, in)
					}
				case "udpu":
					if strings.Contains(maddr, group) || in != 0 || out != 0 {
						t.Errorf("node %d under udpu: %d multicast datagrams in, %d out, groups:\n%s", i, in, out, maddr)
					}
				}
			}
		})
	}
}
