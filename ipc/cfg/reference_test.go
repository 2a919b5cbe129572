package cfg

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// csFailedOperation is CS_ERR_FAILED_OPERATION, which package ipc has no name for.
const csFailedOperation ipc.CS = 21

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial connects to the reference daemon from inside its namespace; the client is closed
// at the end of the test.
func dial(t *testing.T, ref *refcorosync.Instance) *Client {
	t.Helper()
	ctx := testCtx(t)
	var c *Client
	if err := ref.Do(func() (err error) { c, err = Dial(ctx); return err }); err != nil {
		t.Fatalf("dial cfg: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func command(t *testing.T, ref *refcorosync.Instance, name string, args ...string) string {
	t.Helper()
	out, err := ref.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// nextEvent waits for a shutdown event.
func nextEvent(t *testing.T, c *Client) ShutdownEvent {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no shutdown event")
	}
	return ShutdownEvent{}
}

// async runs f on a goroutine and returns its result on a channel.
func async(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

func wait(t *testing.T, ch <-chan error, limit time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(limit):
		t.Fatalf("no answer after %v", limit)
	}
	return nil
}

// TestReference runs the client against Debian's corosync 3.1.7.
func TestReference(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	before := refcorosync.ShmNames()
	t.Run("Queries", func(t *testing.T) { testQueries(t, ref) })
	t.Run("Admin", func(t *testing.T) { testAdmin(t, ref) })
	t.Run("ShutdownRefused", func(t *testing.T) { testShutdownRefused(t, ref) })
	t.Run("ShutdownTimeout", func(t *testing.T) { testShutdownTimeout(t, ref) })
	t.Run("Close", func(t *testing.T) { testClose(t, ref) })
	if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the clients closed: %v", left)
	}
}

func testQueries(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref)
	ctx := testCtx(t)
	id, err := c.LocalNodeID(ctx)
	if err != nil || id != 1 {
		t.Fatalf("local node id = %d, %v", id, err)
	}

	st, err := c.NodeStatus(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node status of node 1: %+v", st)
	l0 := st.Links[0]
	if st.NodeID != 1 || !st.Reachable || st.Remote || !l0.Enabled || !l0.Connected || l0.MTU == 0 ||
		l0.SrcAddr != "127.0.0.1" || l0.DstAddr != "127.0.0.1" {
		t.Errorf("node 1: %+v", st)
	}
	for i, l := range st.Links[1:] {
		if l != (LinkStatus{}) {
			t.Errorf("unconfigured link %d: %+v", i+1, l)
		}
	}
	// cmap's knet statistics agree.
	if out := command(t, ref, "corosync-cmapctl", "-m", "stats", "stats.knet.node1.link0.connected"); !strings.Contains(out, "= 1\n") {
		t.Errorf("stats say %q", out)
	}
	if _, err := c.NodeStatus(ctx, 2); !errors.Is(err, csFailedOperation) {
		t.Errorf("node status of unknown node 2: %v, want CS_ERR_FAILED_OPERATION", err)
	}
	// An unknown version gets the short answer.
	res, err := c.conn.Request(ctx, NodeStatusGetRequest{NodeID: 1, Version: 2}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if r, err := DecodeNodeStatusResponse(res); err != nil || r.Error != ipc.CSErrNotSupport || r.Status != nil || len(res) != NodeStatusShortBytes {
		t.Errorf("version 2: %d bytes, %+v, %v", len(res), r, err)
	}

	ifs, err := c.RingStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ring status: %q", ifs)
	// One link; its status has a character per node, 'n' for the local one.
	if len(ifs) != 1 || ifs[0] != (Interface{Name: "0 127.0.0.1", Status: "n"}) {
		t.Errorf("ring status %q", ifs)
	}

	for _, node := range []uint32{1, 0} {
		addrs, err := c.NodeAddrs(ctx, node)
		if err != nil || !slices.Equal(addrs, []netip.Addr{netip.MustParseAddr("127.0.0.1")}) {
			t.Errorf("addresses of node %d: %v, %v", node, addrs, err)
		}
	}
	if out := command(t, ref, "corosync-cfgtool", "-a", "1"); strings.TrimSpace(out) != "127.0.0.1" {
		t.Errorf("corosync-cfgtool -a 1 prints %q", out)
	}
	if _, err := c.NodeAddrs(ctx, 2); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("addresses of unknown node 2: %v, want CS_ERR_NOT_EXIST", err)
	}
}

func testAdmin(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref)
	ctx := testCtx(t)
	if err := c.ReloadConfig(ctx); err != nil {
		t.Fatalf("reload config: %v", err)
	}
	if out := command(t, ref, "corosync-cmapctl", "-g", "config.reload_status"); !strings.Contains(out, "(i32) = 1") {
		t.Errorf("after reload: %q", out)
	}
	if err := c.ReopenLogFiles(ctx); err != nil {
		t.Errorf("reopen log files: %v", err)
	}
	if err := c.KillNode(ctx, 2, "not a member"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("kill of node 2: %v, want CS_ERR_NOT_EXIST", err)
	}
	if err := c.KillNode(ctx, 1, strings.Repeat("r", ReasonMax+1)); !errors.Is(err, ErrReasonTooLong) || !errors.Is(err, ipc.CSErrNameTooLong) {
		t.Errorf("kill with a 256-byte reason: %v", err)
	}
	if err := c.ReplyToShutdown(ctx, true); !errors.Is(err, ipc.CSErrAccess) {
		t.Errorf("reply with no shutdown pending: %v, want CS_ERR_ACCESS", err)
	}
	// 3.1.7 answers RINGREENABLE, which libcfg no longer sends, with CS_ERR_NOT_SUPPORTED.
	if err := c.status(ctx, EncodeHeaderRequest(ReqRingReenable), ResRingReenable); !errors.Is(err, ipc.CSErrNotSupport) {
		t.Errorf("ring reenable: %v", err)
	}
	for range 2 { // starting twice is harmless, as is stopping twice
		if err := c.TrackStart(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := c.TrackStop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The daemon is still there and the same.
	if id, err := c.LocalNodeID(ctx); err != nil || id != 1 {
		t.Errorf("after the admin calls: %d, %v", id, err)
	}
}

// testShutdownRefused: a tracking client says no to a plain request.
func testShutdownRefused(t *testing.T, ref *refcorosync.Instance) {
	tracker, asker := dial(t, ref), dial(t, ref)
	ctx := testCtx(t)
	if err := tracker.TrackStart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	answer := async(func() error { return asker.TryShutdown(ctx, ShutdownRequest) })
	if ev := nextEvent(t, tracker); ev != (ShutdownEvent{Flags: ShutdownRequest, Status: ipc.CSOk}) {
		t.Errorf("event %+v", ev)
	}
	// A second request while one is pending is refused at once.
	other := dial(t, ref)
	if err := other.TryShutdown(ctx, ShutdownRequest); !errors.Is(err, ipc.CSErrExist) {
		t.Errorf("second shutdown request: %v, want CS_ERR_EXIST", err)
	}
	if err := tracker.ReplyToShutdown(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, answer, 5*time.Second); !errors.Is(err, ipc.CSErrBusy) {
		t.Errorf("refused shutdown: %v, want CS_ERR_BUSY", err)
	}
	if _, err := asker.LocalNodeID(ctx); err != nil {
		t.Errorf("daemon after a refused shutdown: %v", err)
	}
	// A request abandoned by its context: its late answer must not be taken for the
	// next request's (ipc.Client discards it).
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := asker.TryShutdown(short, ShutdownRequest); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("abandoned shutdown request: %v", err)
	}
	nextEvent(t, tracker)
	if err := tracker.ReplyToShutdown(ctx, false); err != nil {
		t.Fatal(err)
	}
	if id, err := asker.LocalNodeID(ctx); err != nil || id != 1 {
		t.Errorf("call after an abandoned request: %d, %v; want node 1", id, err)
	}
	if err := tracker.TrackStop(ctx); err != nil {
		t.Fatal(err)
	}
}

// testShutdownTimeout: a tracking client that does not answer makes the request time out.
// 3.1.7 sends the CS_ERR_TIMEOUT event only to trackers that once asked for a shutdown
// themselves (its exclusion test compares a connection field only those set), so the
// asker tracks too and gets it, while the silent tracker does not.
func testShutdownTimeout(t *testing.T, ref *refcorosync.Instance) {
	command(t, ref, "corosync-cmapctl", "-s", "cfg.shutdown_timeout", "u32", "300")
	defer command(t, ref, "corosync-cmapctl", "-d", "cfg.shutdown_timeout")
	tracker, asker := dial(t, ref), dial(t, ref)
	ctx := testCtx(t)
	for _, c := range []*Client{tracker, asker} {
		if err := c.TrackStart(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	answer := async(func() error { return asker.TryShutdown(ctx, ShutdownRequest) })
	if ev := nextEvent(t, tracker); ev != (ShutdownEvent{Flags: ShutdownRequest, Status: ipc.CSOk}) {
		t.Errorf("event %+v", ev)
	}
	if err := wait(t, answer, 5*time.Second); !errors.Is(err, ipc.CSErrBusy) {
		t.Errorf("unanswered shutdown: %v, want CS_ERR_BUSY", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("refused after %v, before the 300 ms timeout", d)
	}
	if ev := nextEvent(t, asker); ev != (ShutdownEvent{Flags: ShutdownRequest, Status: ipc.CSErrTimeout}) {
		t.Errorf("timeout event %+v", ev)
	}
	select {
	case ev := <-tracker.Events():
		t.Errorf("the silent tracker got %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tracker.ReplyToShutdown(ctx, true); !errors.Is(err, ipc.CSErrAccess) {
		t.Errorf("late reply: %v, want CS_ERR_ACCESS", err)
	}
}

func testClose(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref)
	ctx := testCtx(t)
	if err := c.TrackStart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, ok := <-c.Events(); ok {
		t.Error("events open after close")
	}
	if _, err := c.LocalNodeID(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("call after close: %v", err)
	}
	// The closed tracker no longer counts: with no tracker left, a request would succeed
	// at once, so only check that a fresh client works.
	if _, err := dial(t, ref).LocalNodeID(ctx); err != nil {
		t.Error(err)
	}
}

// TestReferenceSocket repeats the queries over the socket transport.
func TestReferenceSocket(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{IPCType: "socket"})
	testQueries(t, ref)
}

// waitExit waits for the reference daemon's log to show line and its process to end.
// It watches the process rather than dialling cfg until that fails: a connection the
// daemon half sets up while it exits leaves a ring directory whose name the client never
// learns, and the leftover check below would blame the test for it.
func waitExit(t *testing.T, ref *refcorosync.Instance, line string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(ref.Log(), line) {
		if time.Now().After(deadline) {
			t.Fatalf("corosync did not log %q:\n%s", line, ref.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-ref.Exited():
	case <-time.After(time.Until(deadline)):
		t.Fatal("corosync still runs after logging its exit")
	}
}

// TestKillLocalNode kills the reference's own node: its daemon exits.
func TestKillLocalNode(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	before := refcorosync.ShmNames()
	c := dial(t, ref)
	if err := c.KillNode(testCtx(t), 1, "killed by the Go cfg test"); err != nil {
		t.Fatal(err)
	}
	waitExit(t, ref, "Killed by node 1 : killed by the Go cfg test")
	c.Close()
	if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers: %v", left)
	}
}

// TestShutdownRegardless must stay the last test: the daemon shuts down even though its
// tracking client says no, and exits cleanly.
func TestShutdownRegardless(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	before := refcorosync.ShmNames()
	tracker, asker := dial(t, ref), dial(t, ref)
	ctx := testCtx(t)
	if err := tracker.TrackStart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	answer := async(func() error { return asker.TryShutdown(ctx, ShutdownRegardless) })
	if ev := nextEvent(t, tracker); ev != (ShutdownEvent{Flags: ShutdownRegardless, Status: ipc.CSOk}) {
		t.Errorf("event %+v", ev)
	}
	if err := tracker.ReplyToShutdown(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, answer, 5*time.Second); err != nil {
		t.Fatalf("shutdown regardless: %v", err)
	}
	waitExit(t, ref, "Corosync Cluster Engine exiting normally")
	if !strings.Contains(ref.Log(), "Node 1 was shut down by sysadmin") {
		t.Errorf("log lacks the shutdown notice:\n%s", ref.Log())
	}
	// The daemon's departure closes the clients' event channels.
	select {
	case _, ok := <-tracker.Events():
		if ok {
			t.Error("an event after the exit")
		}
	case <-time.After(5 * time.Second):
		t.Error("events still open after the daemon exited")
	}
	if _, err := asker.LocalNodeID(ctx); !errors.Is(err, ipc.ErrDisconnected) {
		t.Errorf("call to the exited daemon: %v, want ipc.ErrDisconnected", err)
	}
	tracker.Close()
	asker.Close()
	if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers: %v", left)
	}
}
