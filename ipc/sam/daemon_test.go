package sam

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

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// quorumDaemonEnv narrows the daemons the quorum-loss tests run against (both by default):
// "ours" or "reference" (corosync 3.1.7).
const quorumDaemonEnv = "SAM_TEST_QUORUM_DAEMON"

// daemon is a running one-node cluster in a network namespace of the test's own.
type daemon struct {
	name string
	ns   *refcorosync.Netns
	log  func() string
	// wdLines are the watchdog lines of the cmapquit scenario (see wdLines).
	wdLines string
}

func skipUnlessRoot(t *testing.T) {
	t.Helper()
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
}

// startDaemon starts "ours" (cmd/corosyncd, built by the test) or "reference".
func startDaemon(t *testing.T, which string) *daemon {
	t.Helper()
	skipUnlessRoot(t)
	switch which {
	case "reference":
		// corosync 3.1.7 leaves its blackbox in /dev/shm, which the namespace does not
		// make private: remove it once the daemon has stopped (cleanups run last first).
		var pids []string
		t.Cleanup(func() {
			for _, pid := range pids {
				for _, f := range []string{"data", "header"} {
					os.Remove("/dev/shm/qb-corosync-" + pid + "-blackbox-" + f)
				}
			}
		})
		inst := refcorosync.Start(t, refcorosync.Options{})
		out, _ := exec.Command("ip", "netns", "pids", inst.Name).Output()
		for _, pid := range strings.Fields(string(out)) {
			if comm, _ := os.ReadFile("/proc/" + pid + "/comm"); strings.TrimSpace(string(comm)) == "corosync" {
				pids = append(pids, pid)
			}
		}
		return &daemon{name: "corosync 3.1.7", ns: inst.Netns, log: inst.Log}
	case "ours":
		return startOurs(t)
	}
	t.Fatalf("unknown daemon %q (want ours or reference)", which)
	return nil
}

func startOurs(t *testing.T) *daemon {
	t.Helper()
	bin := goBuild(t, "github.com/corosync-go/corosync/cmd/corosyncd")
	ns := refcorosync.NewNetns(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "corosync.conf")
	text := `totem {
	version: 2
	cluster_name: samtest
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
system {
	state_dir: ` + dir + `
}
quorum {
	provider: corosync_votequorum
}
`
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := ns.Command(bin, "-f", "-c", conf)
	log := &refcorosync.Output{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// SIGTERM: the daemon removes its clients' /dev/shm files.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("corosyncd ignored SIGTERM:\n%s", log)
		}
	})
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(log.String(), "ready to provide service"); time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("corosyncd exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("corosyncd never became ready:\n%s", log)
		}
	}
	return &daemon{name: "corosyncd", ns: ns, log: log.String}
}

// goBuild builds a package of this module into the test's directory.
func goBuild(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// gccSAM compiles testdata/samc.c against Debian's libsam and libcmap.
func gccSAM(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("skipping: gcc is not installed (.ci/run installs it)")
	}
	if _, err := os.Stat("/usr/include/corosync/sam.h"); err != nil {
		t.Skip("skipping: Debian's libsam-dev is not installed (apt-get install libsam-dev; .ci/run does)")
	}
	out := filepath.Join(t.TempDir(), "samc")
	cmd := exec.Command("gcc", "-Wall", "-o", out, "testdata/samc.c", "-lsam", "-lcmap")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return out
}

// prog is a SAM program running in a daemon's namespace: its server and the children
// the server starts share a process group, which cleanup kills.
type prog struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *refcorosync.Output
	done chan struct{}
}

func (d *daemon) run(t *testing.T, bin string, args ...string) *prog {
	t.Helper()
	cmd := d.ns.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &prog{t: t, cmd: cmd, out: &refcorosync.Output{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	return p
}

// pid is the server's pid (ip netns exec runs the program in place).
func (p *prog) pid() int { return p.cmd.Process.Pid }

func (p *prog) waitLine(line string, limit time.Duration) {
	p.t.Helper()
	for deadline := time.Now().Add(limit); !strings.Contains(p.out.String(), line); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q after %v; output:\n%s", line, limit, p.out)
		}
	}
}

// wait waits for the server to exit and returns its status.
func (p *prog) wait(limit time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.t.Fatalf("still running after %v; output:\n%s", limit, p.out)
	}
	return p.cmd.ProcessState.ExitCode()
}

// cmapGet reads a key from the daemon ("" and the error when it is missing).
func (d *daemon) cmapGet(t *testing.T, key string) (string, error) {
	t.Helper()
	var val string
	err := d.ns.Do(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := cmap.Dial(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		v, err := c.Get(ctx, key)
		if err != nil {
			return err
		}
		val = v.String()
		return nil
	})
	return val, err
}

// tool runs a corosync tool in the daemon's namespace.
func (d *daemon) tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := d.ns.Command("timeout", append([]string{"10", name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// setQuorate makes the one node quorate or not by raising quorum.expected_votes to 3
// (votequorum re-reads quorum.* when it changes, as after a reload) or lowering it back
// to 1, then waits until corosync-quorumtool agrees.
func (d *daemon) setQuorate(t *testing.T, quorate bool) {
	t.Helper()
	ev := "3"
	if quorate {
		ev = "1"
	}
	d.tool(t, "corosync-cmapctl", "-s", "quorum.expected_votes", "u32", ev)
	want := map[bool]string{true: "Quorate:          Yes", false: "Quorate:          No"}[quorate]
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, _ := d.ns.Command("timeout", "10", "corosync-quorumtool", "-s").CombinedOutput()
		if strings.Contains(string(out), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: quorate %v not reached:\n%s", d.name, quorate, out)
		}
	}
}

func quorumDaemons() []string {
	if v := os.Getenv(quorumDaemonEnv); v != "" {
		return []string{v}
	}
	return []string{"ours", "reference"}
}

func fmtKeys(t *testing.T, d *daemon, pid int) string {
	t.Helper()
	out, _ := d.ns.Command("timeout", "10", "corosync-cmapctl", "-b", fmt.Sprintf("resources.process.%d.", pid)).CombinedOutput()
	return string(out)
}
