package cpg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
)

// runSuite runs the scenarios every cpg server must pass: the real corosync 3.1.7 and our
// in-process backend run the same ones, so the backend is checked against the reference.
func runSuite(t *testing.T, ns *target) {
	t.Run("LocalGet", func(t *testing.T) { testLocalGet(t, ns) })
	t.Run("JoinMcastLeave", func(t *testing.T) { testJoinMcastLeave(t, ns) })
	t.Run("ModelFlags", func(t *testing.T) { testModelFlags(t, ns) })
	t.Run("Iterate", func(t *testing.T) { testIterate(t, ns) })
	t.Run("Flood", func(t *testing.T) { testFlood(t, ns) })
	t.Run("TwoClients", func(t *testing.T) { testTwoClients(t, ns) })
	t.Run("KilledClient", func(t *testing.T) { testKilledClient(t, ns) })
	t.Run("CloseWhileJoined", func(t *testing.T) { testCloseWhileJoined(t, ns) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, ns) })
	t.Run("RawLayouts", func(t *testing.T) { testRawLayouts(t, ns) })
	t.Run("CClient", func(t *testing.T) {
		if got := runCClient(t, ns, buildCClient(t), "cpgclient-group"); got != wantCOutput {
			t.Errorf("cpgclient printed:\n%s\nwant:\n%s", got, wantCOutput)
		}
	})
}

func self() uint32 { return uint32(os.Getpid()) }

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

func testLocalGet(t *testing.T, ns *target) {
	c := dial(t, ns)
	id, err := c.LocalGet(testCtx(t))
	if err != nil || id != 1 {
		t.Fatalf("LocalGet = %d, %v; want node 1", id, err)
	}
}

// joinAndSettle joins and checks the confchg (and totem confchg) that follow.
func joinAndSettle(t *testing.T, c *Client, group string, others ...Address) {
	t.Helper()
	if err := c.Join(testCtx(t), group); err != nil {
		t.Fatalf("join %q: %v", group, err)
	}
	me := Address{NodeID: 1, PID: self()}
	cc := nextAs[ConfChg](t, c)
	members := append(slices.Clone(others), me)
	slices.SortFunc(members, func(a, b Address) int { return int(a.PID) - int(b.PID) })
	want := ConfChg{Group: group, Members: members, Joined: []Address{{NodeID: 1, PID: self(), Reason: ReasonJoin}}}
	if !reflect.DeepEqual(cc, want) {
		t.Fatalf("own join: got %+v, want %+v", cc, want)
	}
	tc := nextAs[TotemConfChg](t, c)
	if tc.RingID.NodeID != 1 || tc.RingID.Seq == 0 || !slices.Equal(tc.Members, []uint32{1}) {
		t.Fatalf("totem confchg %+v, want ring of node 1 with member 1", tc)
	}
}

func testJoinMcastLeave(t *testing.T, ns *target) {
	c := dial(t, ns)
	ctx := testCtx(t)
	const group = "go-basic"
	joinAndSettle(t, c, group)
	if err := c.Join(ctx, group); !errors.Is(err, ipc.CSErrExist) {
		t.Errorf("second join: %v, want CS_ERR_EXIST", err)
	}

	// Sizes around the atomic limit: longer messages go in fragments.
	sizes := []int{1, 0, 100, 64 << 10, MaxAtomicMsgSize, MaxAtomicMsgSize + 1, 1 << 20, 3<<20 + 5}
	rng := rand.New(rand.NewChaCha8([32]byte{7}))
	var msgs [][]byte
	for _, n := range sizes {
		m := make([]byte, n)
		for i := range m {
			m[i] = byte(rng.Uint32())
		}
		msgs = append(msgs, m)
		if err := c.Mcast(ctx, TypeAgreed, m); err != nil {
			t.Fatalf("mcast %d bytes: %v", n, err)
		}
	}
	for i, m := range msgs {
		d := nextAs[Deliver](t, c)
		if d.Group != group || d.NodeID != 1 || d.PID != self() || !bytes.Equal(d.Msg, m) {
			t.Fatalf("delivery %d: %s, want message %d of %d bytes from 1/%d", i, describe(d), i, len(m), self())
		}
	}

	members, err := c.MembershipGet(ctx, group)
	if want := []Address{{NodeID: 1, PID: self()}}; err != nil || !reflect.DeepEqual(members, want) {
		t.Errorf("membership = %+v, %v; want %+v", members, err, want)
	}
	if err := c.Leave(ctx, group); err != nil {
		t.Fatalf("leave: %v", err)
	}
	cc := nextAs[ConfChg](t, c)
	if want := (ConfChg{Group: group, Left: []Address{{NodeID: 1, PID: self(), Reason: ReasonLeave}}}); !reflect.DeepEqual(cc, want) {
		t.Fatalf("own leave: got %+v, want %+v", cc, want)
	}
	if members, err := c.MembershipGet(ctx, group); err != nil || len(members) != 0 {
		t.Errorf("membership after leave = %+v, %v", members, err)
	}
	// corosync 3.1.7 never resets a connection that left: leaving again finds nothing, and
	// joining the same group again finds the old join.
	if err := c.Leave(ctx, group); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("second leave: %v, want CS_ERR_NOT_EXIST", err)
	}
	if err := c.Join(ctx, group); !errors.Is(err, ipc.CSErrExist) {
		t.Errorf("join after leave: %v, want CS_ERR_EXIST", err)
	}
	// A multicast after leaving is dropped (the daemon only logs it).
	if err := c.Mcast(ctx, TypeAgreed, []byte("after leave")); err != nil {
		t.Errorf("mcast after leave: %v", err)
	}
	quiet(t, c, 200*time.Millisecond)
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, ok := <-c.Events(); ok {
		t.Error("events channel still open after Close")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := c.LocalGet(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("call after close: %v, want ErrClosed", err)
	}
}

// testModelFlags checks that the flags travel in JOIN: without DeliverInitialTotemConf no
// totem confchg follows the join.
func testModelFlags(t *testing.T, ns *target) {
	var c *Client
	if err := ns.Do(func() (err error) { c, err = DialModel(testCtx(t), 0); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Join(testCtx(t), "go-flags"); err != nil {
		t.Fatal(err)
	}
	nextAs[ConfChg](t, c)
	quiet(t, c, 300*time.Millisecond)
	if _, err := DialModel(testCtx(t), 2); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("DialModel with unknown flags: %v, want CS_ERR_INVALID_PARAM", err)
	}
}

func testIterate(t *testing.T, ns *target) {
	ctx := testCtx(t)
	a, b := dial(t, ns), dial(t, ns)
	joinAndSettle(t, a, "go-iter-a")
	joinAndSettle(t, b, "go-iter-b")
	ours := func(entries []IterationEntry) []IterationEntry {
		return slices.DeleteFunc(entries, func(e IterationEntry) bool { return !strings.HasPrefix(e.Group, "go-iter-") })
	}
	all, err := a.Iterate(ctx, IterationAll, "")
	// Groups come newest first (exec/cpg.c inserts each new group at the front).
	want := []IterationEntry{{"go-iter-b", 1, self()}, {"go-iter-a", 1, self()}}
	if err != nil || !reflect.DeepEqual(ours(all), want) {
		t.Errorf("iterate all = %+v, %v; want %+v among them", all, err, want)
	}
	names, err := a.Iterate(ctx, IterationNameOnly, "")
	want = []IterationEntry{{"go-iter-b", 0, 0}, {"go-iter-a", 0, 0}}
	if err != nil || !reflect.DeepEqual(ours(names), want) {
		t.Errorf("iterate names = %+v, %v; want %+v among them", names, err, want)
	}
	one, err := a.Iterate(ctx, IterationOneGroup, "go-iter-b")
	want = []IterationEntry{{"go-iter-b", 1, self()}}
	if err != nil || !reflect.DeepEqual(one, want) {
		t.Errorf("iterate one group = %+v, %v; want %+v", one, err, want)
	}
	none, err := a.Iterate(ctx, IterationOneGroup, "go-iter-none")
	if err != nil || len(none) != 0 {
		t.Errorf("iterate empty group = %+v, %v", none, err)
	}
	if _, err := a.Iterate(ctx, IterationAll, "go-iter-a"); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("iterate all with a group: %v, want CS_ERR_INVALID_PARAM", err)
	}
	if _, err := a.Iterate(ctx, 4, ""); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("iteration type 4: %v, want CS_ERR_INVALID_PARAM", err)
	}
}

func testTwoClients(t *testing.T, ns *target) {
	const group = "go-two"
	ctx := testCtx(t)
	a := dial(t, ns)
	joinAndSettle(t, a, group)
	h := startHelper(t, ns, group)
	me, other := Address{NodeID: 1, PID: self()}, Address{NodeID: 1, PID: h.pid}
	both := []Address{me, other}
	slices.SortFunc(both, func(x, y Address) int { return int(x.PID) - int(y.PID) })

	cc := nextAs[ConfChg](t, a)
	if want := (ConfChg{Group: group, Members: both, Joined: []Address{{NodeID: 1, PID: h.pid, Reason: ReasonJoin}}}); !reflect.DeepEqual(cc, want) {
		t.Fatalf("other's join: got %+v, want %+v", cc, want)
	}
	h.send(t, "mcast hello from the helper")
	h.expect(t, "done mcast")
	h.expect(t, "deliver 1 "+itoa(h.pid)+" hello from the helper")
	if d := nextAs[Deliver](t, a); d.PID != h.pid || string(d.Msg) != "hello from the helper" {
		t.Fatalf("got %s, want the helper's message", describe(d))
	}
	if err := a.Mcast(ctx, TypeAgreed, []byte("hello from the test")); err != nil {
		t.Fatal(err)
	}
	if d := nextAs[Deliver](t, a); d.PID != self() || string(d.Msg) != "hello from the test" {
		t.Fatalf("got %s, want own message", describe(d))
	}
	h.expect(t, "deliver 1 "+itoa(self())+" hello from the test")

	h.send(t, "leave")
	h.expect(t, "done leave")
	h.expect(t, "confchg members="+addrs([]Address{me})+" left="+addrs([]Address{{NodeID: 1, PID: h.pid, Reason: ReasonLeave}})+" joined=[]")
	cc = nextAs[ConfChg](t, a)
	if want := (ConfChg{Group: group, Members: []Address{me}, Left: []Address{{NodeID: 1, PID: h.pid, Reason: ReasonLeave}}}); !reflect.DeepEqual(cc, want) {
		t.Fatalf("other's leave: got %+v, want %+v", cc, want)
	}
	// corosync 3.1.7 keeps a connection that left in the leaving state, so the helper
	// still receives the group's messages.
	if err := a.Mcast(ctx, TypeAgreed, []byte("after your leave")); err != nil {
		t.Fatal(err)
	}
	nextAs[Deliver](t, a)
	h.expect(t, "deliver 1 "+itoa(self())+" after your leave")
	// Closing after leaving announces nothing more.
	h.send(t, "close")
	h.expect(t, "done close")
	quiet(t, a, 300*time.Millisecond)
	h.noMore(t)
}

func testKilledClient(t *testing.T, ns *target) {
	const group = "go-killed"
	a := dial(t, ns)
	joinAndSettle(t, a, group)
	h := startHelper(t, ns, group)
	nextAs[ConfChg](t, a) // the helper's join
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cc := nextAs[ConfChg](t, a)
	want := ConfChg{Group: group, Members: []Address{{NodeID: 1, PID: self()}}, Left: []Address{{NodeID: 1, PID: h.pid, Reason: ReasonProcDown}}}
	if !reflect.DeepEqual(cc, want) {
		t.Fatalf("killed member: got %+v, want %+v", cc, want)
	}
}

func testCloseWhileJoined(t *testing.T, ns *target) {
	const group = "go-closed"
	a := dial(t, ns)
	joinAndSettle(t, a, group)
	h := startHelper(t, ns, group)
	nextAs[ConfChg](t, a)
	h.send(t, "close")
	h.expect(t, "done close")
	cc := nextAs[ConfChg](t, a)
	want := ConfChg{Group: group, Members: []Address{{NodeID: 1, PID: self()}}, Left: []Address{{NodeID: 1, PID: h.pid, Reason: ReasonProcDown}}}
	if !reflect.DeepEqual(cc, want) {
		t.Fatalf("member that closed: got %+v, want %+v", cc, want)
	}
}

func testErrors(t *testing.T, ns *target) {
	ctx := testCtx(t)
	c := dial(t, ns)
	if err := c.Leave(ctx, "go-errors"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("leave without join: %v, want CS_ERR_NOT_EXIST", err)
	}
	long := strings.Repeat("x", NameMax+1)
	if err := c.Join(ctx, long); !errors.Is(err, ErrNameTooLong) || !errors.Is(err, ipc.CSErrNameTooLong) {
		t.Errorf("join with a 129-byte name: %v", err)
	}
	if _, err := c.MembershipGet(ctx, long); !errors.Is(err, ipc.CSErrNameTooLong) {
		t.Errorf("membership of a 129-byte name: %v", err)
	}
	// A multicast before joining is dropped without an answer.
	if err := c.Mcast(ctx, TypeAgreed, []byte("nobody")); err != nil {
		t.Errorf("mcast before join: %v", err)
	}
	// Names are byte strings: NULs and a full 128 bytes are fine.
	name := "bin\x00ary" + strings.Repeat("\xff", NameMax-7)
	joinAndSettle(t, c, name)
	if members, err := c.MembershipGet(ctx, name); err != nil || len(members) != 1 {
		t.Errorf("membership of a binary name = %+v, %v", members, err)
	}
	if members, err := c.MembershipGet(ctx, "bin"); err != nil || len(members) != 0 {
		t.Errorf("membership of a prefix of the name = %+v, %v", members, err)
	}
	// A fragmented message needs a joined client; this one is.
	if err := c.Mcast(ctx, TypeAgreed, make([]byte, MaxAtomicMsgSize+10)); err != nil {
		t.Fatal(err)
	}
	if d := nextAs[Deliver](t, c); len(d.Msg) != MaxAtomicMsgSize+10 || d.Group != name {
		t.Fatalf("got %s", describe(d))
	}
}

// testFlood multicasts faster than the server takes requests, so sends meet a full ring
// (CS_ERR_TRY_AGAIN, retried by Mcast), and checks every message arrives, in order.
func testFlood(t *testing.T, ns *target) {
	const group, n, size = "go-flood", 1000, 32 << 10
	ctx := testCtx(t)
	c := dial(t, ns)
	joinAndSettle(t, c, group)
	got := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			select {
			case ev := <-c.Events():
				d, ok := ev.(Deliver)
				if !ok || len(d.Msg) != size || binary.LittleEndian.Uint32(d.Msg) != uint32(i) {
					got <- fmt.Errorf("delivery %d: %s", i, describe(ev))
					return
				}
			case <-ctx.Done():
				got <- fmt.Errorf("%d of %d messages delivered", i, n)
				return
			}
		}
		got <- nil
	}()
	msg := make([]byte, size)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(msg, uint32(i))
		if err := c.Mcast(ctx, TypeAgreed, msg); err != nil {
			t.Fatalf("mcast %d: %v", i, err)
		}
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
