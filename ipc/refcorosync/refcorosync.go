// Package refcorosync runs Debian's corosync 3.1.7, the reference implementation, for tests
// and benchmarks: one node in a network namespace of its own (so its abstract IPC sockets
// cannot meet a host corosync's) with private /run, /var/lib/corosync and /var/log/corosync.
// Clients reach it with Instance.Do, which runs a function on a thread inside the namespace.
package refcorosync

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Binary is where Debian installs the reference daemon.
const Binary = "/usr/sbin/corosync"

// Options shape the reference node's corosync.conf.
type Options struct {
	// IPCType is system.qb_ipc_type: "native" (default) or "socket".
	IPCType string
	// Extra is appended verbatim to corosync.conf (for example a uidgid section).
	Extra string
	// Conf, when set, is the whole corosync.conf instead of the default one-node file
	// (IPCType and Extra are then ignored). It must keep the node on 127.0.0.1 and
	// logging to stderr, which readiness detection reads.
	Conf string
}

// Netns is a network namespace of a test's own, with loopback up. Abstract unix sockets
// belong to a namespace, so servers and clients inside it cannot meet a host corosync.
type Netns struct {
	// Name is the namespace's name (as `ip netns` lists it).
	Name string
}

// NewNetns creates a namespace and registers its removal with t.Cleanup; it skips the test
// when not root.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create a network namespace (run as root, as CI does)")
	}
	ns, err := newNetns()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Close(); err != nil {
			t.Error(err)
		}
	})
	return ns
}

func newNetns() (*Netns, error) {
	nameSeq.Lock()
	nameSeq.n++
	name := fmt.Sprintf("cgref%d-%d", os.Getpid(), nameSeq.n)
	nameSeq.Unlock()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("refcorosync: ip netns add: %v: %s", err, out)
	}
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		exec.Command("ip", "netns", "del", name).Run()
		return nil, fmt.Errorf("refcorosync: lo up: %v: %s", err, out)
	}
	return &Netns{Name: name}, nil
}

// Close removes the namespace.
func (n *Netns) Close() error {
	if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
		return fmt.Errorf("refcorosync: ip netns del: %v: %s", err, out)
	}
	return nil
}

// Instance is a running reference corosync.
type Instance struct {
	*Netns
	// ConfPath is the corosync.conf it runs on.
	ConfPath string
	cmd      *exec.Cmd
	log      *Output
	waitErr  chan error
	exited   chan struct{}
}

// Skip reports why the reference cannot run here, or "" when it can.
func Skip() string {
	if os.Geteuid() != 0 {
		return "needs root to create a network namespace and private mounts (run as root, as CI does)"
	}
	if _, err := os.Stat(Binary); err != nil {
		return "Debian's corosync is not installed (apt-get install corosync; .ci/run does)"
	}
	return ""
}

// Start runs a one-node reference corosync, waits until its cmap service answers, and
// registers its stop (and the namespace's removal) with t.Cleanup. It skips the test when
// Skip says the reference cannot run here.
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	if why := Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	inst, err := start(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := inst.Stop(); err != nil {
			t.Errorf("refcorosync: %v", err)
		}
	})
	return inst
}

// StartDir is Start for callers without a testing.TB (benchmark tools): dir holds the
// configuration; the caller must call Stop.
func StartDir(dir string, opts Options) (*Instance, error) {
	if why := Skip(); why != "" {
		return nil, errors.New("refcorosync: " + why)
	}
	return start(dir, opts)
}

var nameSeq struct {
	sync.Mutex
	n int
}

func start(dir string, opts Options) (*Instance, error) {
	netns, err := newNetns()
	if err != nil {
		return nil, err
	}
	ns := netns.Name
	inst := &Instance{Netns: netns, ConfPath: filepath.Join(dir, "corosync.conf"), log: &Output{}, waitErr: make(chan error, 1), exited: make(chan struct{})}
	fail := func(err error) (*Instance, error) {
		netns.Close()
		return nil, err
	}
	if err := os.WriteFile(inst.ConfPath, []byte(conf(opts)), 0o644); err != nil {
		return fail(err)
	}
	inst.cmd = ServeCommand(ns, inst.ConfPath)
	inst.cmd.Stdout = inst.log
	inst.cmd.Stderr = inst.log
	if err := inst.cmd.Start(); err != nil {
		return fail(fmt.Errorf("refcorosync: start: %w", err))
	}
	go func() {
		err := inst.cmd.Wait()
		RemoveFlightRecorder(inst.cmd.Process.Pid)
		close(inst.exited)
		inst.waitErr <- err
	}()
	if err := inst.waitReady(15 * time.Second); err != nil {
		inst.Stop()
		return nil, err
	}
	return inst, nil
}

// RemoveFlightRecorder removes the libqb blackbox files (8 MiB of /dev/shm) of the
// corosync that ran as process pid. corosync removes them when it exits normally, but not
// when it is killed, fails at start-up or exits on a cfg kill; the daemon shares the
// host's /dev/shm with its IPC clients, so whoever waits for the process removes them.
func RemoveFlightRecorder(pid int) {
	for _, part := range []string{"header", "data"} {
		os.Remove(fmt.Sprintf("/dev/shm/qb-corosync-%d-blackbox-%s", pid, part))
	}
}

// ServeCommand returns a command that runs Debian's corosync -f -c conf in the named
// network namespace with private, empty /run, /var/lib/corosync and /var/log/corosync
// (tmpfs in a mount namespace of its own), so that nothing it writes reaches the host. The
// process is ip, unshare, sh and corosync exec'd in place: signals reach corosync itself.
func ServeCommand(netns, conf string) *exec.Cmd { return ServeBinaryCommand(netns, Binary, conf) }

// ServeBinaryCommand is ServeCommand for another daemon binary that takes corosync's -f
// and -c (our corosyncd, to run it exactly as the reference runs).
func ServeBinaryCommand(netns, binary, conf string) *exec.Cmd {
	// ip netns exec already gives a private mount namespace; unshare makes sure the tmpfs
	// mounts cannot propagate back to the host whatever its propagation settings.
	script := `set -e
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mkdir -p /var/lib/corosync /var/log/corosync
mount -t tmpfs tmpfs /var/lib/corosync
mount -t tmpfs tmpfs /var/log/corosync
exec "$1" -f -c "$2"`
	return exec.Command("ip", "netns", "exec", netns, "unshare", "-m", "sh", "-c", script, "sh", binary, conf)
}

func conf(opts Options) string {
	if opts.Conf != "" {
		return opts.Conf
	}
	ipcType := opts.IPCType
	if ipcType == "" {
		ipcType = "native"
	}
	return `totem {
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
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: yes
	to_syslog: no
	to_logfile: no
	timestamp: off
}
system {
	qb_ipc_type: ` + ipcType + `
}
` + opts.Extra
}

// waitReady polls until the daemon has formed its one-node ring and serves cmap.
func (i *Instance) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-i.waitErr:
			i.waitErr <- err
			return fmt.Errorf("refcorosync: corosync exited during start-up (%v):\n%s", err, i.Log())
		default:
		}
		if strings.Contains(i.Log(), "ready to provide service") {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("refcorosync: corosync not ready after %v:\n%s", limit, i.Log())
}

// Exited is closed once the corosync process has exited (after a shutdown request, a
// kill, or Stop).
func (i *Instance) Exited() <-chan struct{} { return i.exited }

// Log returns what corosync has written to stdout and stderr so far.
func (i *Instance) Log() string { return i.log.String() }

// Do runs f on an OS thread switched into the namespace. Sockets f creates (a client's
// Dial, a server's Listen) stay in that namespace after Do returns. Sockets created later on
// other goroutines do not: an in-process server in a namespace works for the shm transport
// (which creates only files per connection) but not for the socket transport.
func (n *Netns) Do(f func() error) error {
	target, err := os.Open("/run/netns/" + n.Name)
	if err != nil {
		return fmt.Errorf("refcorosync: %w", err)
	}
	defer target.Close()
	runtime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("refcorosync: own namespace: %w", err)
	}
	defer self.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("refcorosync: enter %s: %w", n.Name, err)
	}
	ferr := f()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: the runtime retires it rather than reuse it in the
		// wrong namespace.
		return errors.Join(ferr, fmt.Errorf("refcorosync: leave %s: %w", n.Name, err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// Command returns a command that runs name inside the namespace (for C clients, Debian's
// tools, or a re-executed test binary serving over the socket transport).
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// PrivateCommand is Command with private, empty /var/lib/corosync and /var/log/corosync
// (tmpfs in a mount namespace of the command's own): corosync 3.1.7 writes a flight-data
// file into /var/lib/corosync whenever it exits with an error, `corosync -t` included, and
// a test must not leave those on the host.
func (n *Netns) PrivateCommand(name string, args ...string) *exec.Cmd {
	script := `set -e
mount --make-rprivate /
mkdir -p /var/lib/corosync /var/log/corosync
mount -t tmpfs tmpfs /var/lib/corosync
mount -t tmpfs tmpfs /var/log/corosync
exec "$@"`
	return n.Command("unshare", append([]string{"-m", "sh", "-c", script, "sh", name}, args...)...)
}

// Stop terminates corosync (SIGTERM, then SIGKILL after 10 s) and removes the namespace.
func (i *Instance) Stop() error {
	var errs []error
	if i.cmd != nil && i.cmd.Process != nil {
		// The process is ip → unshare → sh → corosync, all exec'd in place, so the
		// signal reaches corosync itself.
		i.cmd.Process.Signal(unix.SIGTERM)
		select {
		case <-i.waitErr:
		case <-time.After(10 * time.Second):
			i.cmd.Process.Kill()
			<-i.waitErr
			errs = append(errs, fmt.Errorf("corosync ignored SIGTERM for 10 s:\n%s", i.Log()))
		}
		i.cmd = nil
	}
	if err := i.Netns.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ShmNames lists /dev/shm, for leftover checks around a test.
func ShmNames() map[string]bool {
	names := map[string]bool{}
	entries, _ := os.ReadDir("/dev/shm")
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names
}

// ShmLeftovers waits up to limit for /dev/shm to hold no connection directory of this
// process's clients (qb-<server pid>-<our pid>-...) that before lacked, and returns those
// still there (servers clean up asynchronously after a disconnect). Other entries are
// ignored: go test runs packages in parallel, and their servers, clients and corosync's
// blackbox files come and go meanwhile.
func ShmLeftovers(before map[string]bool, limit time.Duration) []string {
	mine := fmt.Sprintf("-%d-", os.Getpid())
	deadline := time.Now().Add(limit)
	for {
		var extra []string
		for name := range ShmNames() {
			if before[name] || !strings.HasPrefix(name, "qb-") {
				continue
			}
			if parts := strings.SplitN(name, "-", 4); len(parts) == 4 && "-"+parts[2]+"-" == mine {
				extra = append(extra, name)
			}
		}
		if len(extra) == 0 || time.Now().After(deadline) {
			return extra
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Output collects a process's output from the exec package's copying goroutines while
// tests read it: a bytes.Buffer behind a mutex.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Output) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
