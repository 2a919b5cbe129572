package cpg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// target is a cpg server under test: the namespace its clients run in, and the pids of the
// client processes the tests started there.
type target struct {
	*refcorosync.Netns
	mu   sync.Mutex
	pids map[int]bool
}

func newTarget(ns *refcorosync.Netns) *target {
	return &target{Netns: ns, pids: map[int]bool{os.Getpid(): true}}
}

func (tg *target) started(pid int) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.pids[pid] = true
}

// shmLeftovers waits up to 2 s for the per-connection directories of this test's clients
// or servers (named qb-SERVERPID-CLIENTPID-...) to leave /dev/shm, and returns those still
// there. Files of other processes (tests running alongside, daemons' blackboxes) are not
// this test's to check.
func (tg *target) shmLeftovers(before map[string]bool) []string {
	deadline := time.Now().Add(2 * time.Second)
	for {
		var left []string
		tg.mu.Lock()
		for name := range refcorosync.ShmNames() {
			var server, client int
			if n, _ := fmt.Sscanf(name, "qb-%d-%d-", &server, &client); n == 2 && !before[name] && (tg.pids[server] || tg.pids[client]) {
				left = append(left, name)
			}
		}
		tg.mu.Unlock()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// helperEnv makes the test binary run as a second cpg client process (see runHelper): the
// daemon identifies a member by node id and pid, so a second member needs a process.
const helperEnv = "CPG_TEST_HELPER_GROUP"

func TestMain(m *testing.M) {
	if g := os.Getenv(helperEnv); g != "" {
		os.Exit(runHelper(g, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// testCtx bounds each integration step.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial connects from inside ns; the client is closed at the end of the test.
func dial(t *testing.T, ns *target) *Client {
	t.Helper()
	var c *Client
	if err := ns.Do(func() (err error) { c, err = Dial(testCtx(t)); return err }); err != nil {
		t.Fatalf("dial cpg: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// next returns the client's next event, failing the test if none comes within 5 s.
func next(t *testing.T, c *Client) Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatal("events channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return nil
}

// nextAs returns the next event, which must be a T.
func nextAs[T Event](t *testing.T, c *Client) T {
	t.Helper()
	ev := next(t, c)
	v, ok := ev.(T)
	if !ok {
		var want T
		t.Fatalf("got %s, want a %T", describe(ev), want)
	}
	return v
}

// quiet checks that no event arrives for a while.
func quiet(t *testing.T, c *Client, d time.Duration) {
	t.Helper()
	select {
	case ev := <-c.Events():
		t.Fatalf("unexpected event %s", describe(ev))
	case <-time.After(d):
	}
}

// describe prints an event without dumping long messages.
func describe(ev Event) string {
	if d, ok := ev.(Deliver); ok {
		return fmt.Sprintf("Deliver{%q from %d/%d, %d bytes}", d.Group, d.NodeID, d.PID, len(d.Msg))
	}
	return fmt.Sprintf("%T%+v", ev, ev)
}

// runHelper is the second client: it joins group, prints "joined PID" when its join's
// confchg comes, then prints each event as a line and obeys commands from in:
// "mcast TEXT", "leave", "close".
func runHelper(group string, in io.Reader, out io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}
	c, err := Dial(ctx)
	if err != nil {
		say("error dial: %v", err)
		return 1
	}
	pid := uint32(os.Getpid())
	go func() {
		joined := false
		for ev := range c.Events() {
			switch ev := ev.(type) {
			case Deliver:
				say("deliver %d %d %s", ev.NodeID, ev.PID, ev.Msg)
			case ConfChg:
				if !joined && slices.ContainsFunc(ev.Joined, func(a Address) bool { return a.PID == pid }) {
					joined = true
					say("joined %d", pid)
					continue
				}
				say("confchg members=%s left=%s joined=%s", addrs(ev.Members), addrs(ev.Left), addrs(ev.Joined))
			}
		}
	}()
	if err := c.Join(ctx, group); err != nil {
		say("error join: %v", err)
		return 1
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		switch cmd {
		case "mcast":
			err = c.Mcast(ctx, TypeAgreed, []byte(arg))
		case "leave":
			err = c.Leave(ctx, group)
		case "close":
			err = c.Close()
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
		if err != nil {
			say("error %s: %v", cmd, err)
			return 1
		}
		say("done %s", cmd)
		if cmd == "close" {
			return 0
		}
	}
	return 0
}

func addrs(l []Address) string {
	var s []string
	for _, a := range l {
		s = append(s, fmt.Sprintf("%d/%d/%s", a.NodeID, a.PID, a.Reason))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// helper is a running helper process.
type helper struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string
	pending []string
	pid     uint32
}

// startHelper runs the helper in ns, joined to group, and kills it at the end of the test.
func startHelper(t *testing.T, ns *target, group string) *helper {
	t.Helper()
	cmd := ns.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+group)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ns.started(cmd.Process.Pid)
	h := &helper{cmd: cmd, stdin: stdin, lines: make(chan string, 100)}
	go func() {
		defer close(h.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		h.cmd.Process.Kill()
		h.cmd.Wait()
	})
	line := h.expect(t, "joined ")
	fmt.Sscanf(line, "joined %d", &h.pid)
	// ip netns exec execs the program in place, so the pid that joined is the one to kill.
	if int(h.pid) != cmd.Process.Pid {
		t.Fatalf("helper joined as pid %d, but runs as %d", h.pid, cmd.Process.Pid)
	}
	return h
}

// expect waits for a line of the helper's that starts with prefix; lines that come
// first are kept for later expects (the helper's event lines and command answers come
// from two goroutines, in either order).
func (h *helper) expect(t *testing.T, prefix string) string {
	t.Helper()
	for i, line := range h.pending {
		if strings.HasPrefix(line, prefix) {
			h.pending = append(h.pending[:i], h.pending[i+1:]...)
			return line
		}
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case line, ok := <-h.lines:
			if !ok {
				t.Fatalf("helper exited; wanted %q, have %q", prefix, h.pending)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
			h.pending = append(h.pending, line)
		case <-timeout:
			t.Fatalf("helper did not say %q within 5 s; it said %q", prefix, h.pending)
		}
	}
}

// noMore checks that the helper said nothing unexpected.
func (h *helper) noMore(t *testing.T) {
	t.Helper()
	select {
	case line, ok := <-h.lines:
		if ok {
			h.pending = append(h.pending, line)
		}
	case <-time.After(100 * time.Millisecond):
	}
	if len(h.pending) > 0 {
		t.Errorf("helper also said %q", h.pending)
	}
}

func (h *helper) send(t *testing.T, cmd string) {
	t.Helper()
	if _, err := fmt.Fprintln(h.stdin, cmd); err != nil {
		t.Fatal(err)
	}
}

// buildCClient compiles testdata/cpgclient.c against Debian's libcpg, or skips.
func buildCClient(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("skipping: gcc is not installed (apt-get install gcc)")
	}
	if _, err := os.Stat("/usr/include/corosync/cpg.h"); err != nil {
		t.Skip("skipping: /usr/include/corosync/cpg.h is missing (apt-get install libcpg-dev)")
	}
	bin := filepath.Join(t.TempDir(), "cpgclient")
	if out, err := exec.Command("gcc", "-Wall", "-Werror", "-o", bin, "testdata/cpgclient.c", "-lcpg").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

// runCClient runs the C client in ns on group and returns its output, failing the test if
// it does not exit 0.
func runCClient(t *testing.T, ns *target, bin, group string) string {
	t.Helper()
	cmd := ns.Command(bin, group)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Start()
	if err == nil {
		ns.started(cmd.Process.Pid)
		err = cmd.Wait()
	}
	if err != nil {
		t.Fatalf("cpgclient: %v\n%s", err, out.String())
	}
	return out.String()
}

// wantCOutput is what testdata/cpgclient.c prints when every step behaves; it is the
// output of a run against corosync 3.1.7.
const wantCOutput = `initialize ok
max atomic message size 1047552
local nodeid 1
join ok
confchg: members 1 left 0 joined 1, self joined with reason 1, self member 1
totem confchg: 1 members, ring of node 1, first member 1
second join: CS_ERR_EXIST
mcast 6 messages ok
deliver 0: 9 bytes in order
deliver 1: 9 bytes in order
deliver 2: 9 bytes in order
deliver 3: 9 bytes in order
deliver 4: 9 bytes in order
deliver 5: 1572864 bytes in order
membership: 1 members, self present
iteration: 1 entries, self present, ended with 27
leave ok
confchg: members 0 left 1 joined 0, self left with reason 2, self member 0
finalize ok
all steps ok
`

// serveStub runs the in-process cpg backend in a namespace of its own (shm transport) until
// the end of the test.
func serveStub(t *testing.T) (*target, *stubCPG) {
	t.Helper()
	ns := newTarget(refcorosync.NewNetns(t))
	stub := newStubCPG(1)
	srv := ipc.NewServer(ipc.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	err := ns.Do(func() error {
		l, err := srv.Listen(stub)
		if err != nil {
			return err
		}
		go func() {
			defer close(served)
			srv.ServeOn(ctx, l, stub)
		}()
		return nil
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-served
	})
	return ns, stub
}
