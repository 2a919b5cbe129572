package ipc

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// netnsForTest creates a named network namespace (so that its abstract unix sockets are
// private: a corosync on the host cannot collide) and removes it at the end.
func netnsForTest(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to create a network namespace (run as root, as CI does)")
	}
	name := fmt.Sprintf("cgipc%d-%d", os.Getpid(), time.Now().UnixNano()%1000000)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// TestMain doubles as the stub cmap server: the test re-executes itself inside the
// namespace (abstract unix sockets belong to the namespace of the thread that creates
// them, and a daemon's connections are created on many threads).
func TestMain(m *testing.M) {
	if os.Getenv("IPC_TEST_CMAP_SERVER") == "1" {
		serveStubCmap()
		return
	}
	os.Exit(m.Run())
}

// serveStubCmap serves the stub cmap with some corosync-like keys until stdin closes.
func serveStubCmap() {
	stub := newCmapStub()
	u32 := make([]byte, 4)
	binary.LittleEndian.PutUint32(u32, 3000)
	stub.values["totem.token"] = cmapValue{6, u32}
	stub.values["totem.cluster_name"] = cmapValue{11, []byte("research\x00")}
	stub.values["runtime.config.totem.token"] = cmapValue{6, u32}
	for _, key := range strings.Fields(os.Getenv("IPC_TEST_UIDGID")) {
		stub.values[key] = cmapValue{2, []byte{1}} // uint8 1, as the uidgid section sets
	}
	srv := NewServer(Config{Transport: os.Getenv("IPC_TEST_TRANSPORT"), Log: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Authorize: UIDGIDRule(stub.uint8Value)})
	ln, err := srv.Listen(stub)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	fmt.Println("ready")
	if err := srv.ServeOn(ctx, ln, stub); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

// startCmap runs the stub cmap server in the namespace and stops it at the end of the
// test, checking that it left nothing in /dev/shm.
func startCmap(t testing.TB, ns, transport string, env ...string) {
	t.Helper()
	cmd, stdin := launchCmap(t, ns, transport, env...)
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("stub server: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("stub server did not stop")
		}
		left, _ := filepath.Glob(fmt.Sprintf("/dev/shm/qb-%d-*", cmd.Process.Pid))
		if len(left) > 0 {
			t.Errorf("left in /dev/shm: %v", left)
		}
	})
}

// launchCmap starts the stub cmap server in the namespace and waits until it listens; it
// stops when stdin is closed.
func launchCmap(t testing.TB, ns, transport string, env ...string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "IPC_TEST_CMAP_SERVER=1", "IPC_TEST_TRANSPORT="+transport), env...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("stub server: %q", line)
	}
	return cmd, stdin
}

func cmapctl(t *testing.T, ns string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, "corosync-cmapctl"}, args...)...).CombinedOutput()
	return string(out), err
}

func needCmapctl(t *testing.T) {
	if _, err := exec.LookPath("corosync-cmapctl"); err != nil {
		t.Skip("skipping: corosync-cmapctl not installed (Debian package corosync; .ci/run installs it)")
	}
}

// transports are the two qb_ipc_type values every client test runs under.
var transports = []string{"shm", "socket"}

func TestDebianCmapctlAgainstOurServer(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { testCmapctl(t, tr) })
	}
}

func testCmapctl(t *testing.T, transport string) {
	needCmapctl(t)
	ns := netnsForTest(t)
	startCmap(t, ns, transport)

	out, err := cmapctl(t, ns)
	if err != nil {
		t.Fatalf("list: %v\n%s", err, out)
	}
	for _, want := range []string{"totem.cluster_name (str) = research", "totem.token (u32) = 3000", "runtime.config.totem.token (u32) = 3000"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if out, err := cmapctl(t, ns, "-g", "totem.cluster_name"); err != nil || out != "totem.cluster_name (str) = research\n" {
		t.Errorf("-g: %v %q", err, out)
	}
	if out, err := cmapctl(t, ns, "-s", "test.answer", "u32", "42"); err != nil {
		t.Fatalf("-s: %v %s", err, out)
	}
	if out, err := cmapctl(t, ns, "-s", "test.greeting", "str", "hello world"); err != nil {
		t.Fatalf("-s str: %v %s", err, out)
	}
	if out, _ := cmapctl(t, ns, "-g", "test.answer"); out != "test.answer (u32) = 42\n" {
		t.Errorf("-g after -s: %q", out)
	}
	if out, _ := cmapctl(t, ns, "-g", "test.greeting"); out != "test.greeting (str) = hello world\n" {
		t.Errorf("-g string after -s: %q", out)
	}
	if out, _ := cmapctl(t, ns, "test."); !strings.Contains(out, "test.answer (u32) = 42") || strings.Contains(out, "totem") {
		t.Errorf("prefix list: %q", out)
	}
	if out, err := cmapctl(t, ns, "-d", "test.answer"); err != nil {
		t.Fatalf("-d: %v %s", err, out)
	}
	out, err = cmapctl(t, ns, "-g", "test.answer")
	if err == nil || !strings.Contains(out, "CS_ERR_NOT_EXIST") {
		t.Errorf("-g of a deleted key: %v %q", err, out)
	}
}

func TestDebianCmapctlTracking(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { testCmapctlTracking(t, tr) })
	}
}

func testCmapctlTracking(t *testing.T, transport string) {
	needCmapctl(t)
	ns := netnsForTest(t)
	startCmap(t, ns, transport)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "corosync-cmapctl", "-T", "test.")
	stdin, _ := cmd.StdinPipe()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Give the tracker time to register, then change keys from another client. The
	// tool's stdout is a pipe, so it prints only when it exits (on "q").
	time.Sleep(300 * time.Millisecond)
	cmapctl(t, ns, "-s", "test.x", "u8", "7")
	cmapctl(t, ns, "-s", "test.x", "u8", "8")
	cmapctl(t, ns, "-d", "test.x")
	time.Sleep(300 * time.Millisecond)
	io.WriteString(stdin, "q\n")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cmapctl -T: %v\n%s", err, out.String())
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(got) < 4 || got[0] != `Type "q" to finish` {
		t.Fatalf("output: %q", got)
	}
	got = got[1:]
	want := []string{
		"create> test.x (u8) = 7",
		"modify> test.x (u8) = 8",
		"delete> test.x (u8) = 8",
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("notification %d = %q, want %q", i, got[i], want[i])
		}
	}
}
