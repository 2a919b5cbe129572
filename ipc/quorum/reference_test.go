package quorum

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial connects to the reference daemon from inside its namespace; the client is closed
// at the end of the test.
func dial(t *testing.T, ref *refcorosync.Instance, model Model) *Client {
	t.Helper()
	ctx := testCtx(t)
	var c *Client
	if err := ref.Do(func() (err error) { c, err = DialModel(ctx, model); return err }); err != nil {
		t.Fatalf("dial quorum: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func nextEvent(t *testing.T, c *Client) Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return nil
}

// noEvent checks nothing arrives for a while (the daemon sends events before it answers
// the request that caused them, so a short wait suffices).
func noEvent(t *testing.T, c *Client) {
	t.Helper()
	select {
	case ev := <-c.Events():
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}

// ringID reads the ring id corosync-quorumtool reports ("Ring ID: 1.5").
func quorumtoolRingID(t *testing.T, ref *refcorosync.Instance) RingID {
	t.Helper()
	out, err := ref.Command("corosync-quorumtool", "-s").CombinedOutput()
	// corosync-quorumtool -s exits 2 when not quorate.
	if err != nil && !strings.Contains(string(out), "Ring ID") {
		t.Fatalf("corosync-quorumtool -s: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Ring ID:"); ok {
			var r RingID
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%x.%x", &r.NodeID, &r.Seq); err != nil {
				t.Fatalf("ring id %q: %v", rest, err)
			}
			return r
		}
	}
	t.Fatalf("no ring id in\n%s", out)
	return RingID{}
}

// oneNodeConf is refcorosync's one-node configuration with the given quorum section.
func oneNodeConf(quorum string) string {
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
` + quorum + `
logging {
	to_stderr: yes
	to_syslog: no
	to_logfile: no
	timestamp: off
}
`
}

// TestReference runs the client against Debian's corosync 3.1.7 in its default one-node,
// quorate configuration.
func TestReference(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	before := refcorosync.ShmNames()
	t.Run("Queries", func(t *testing.T) { testQueries(t, ref) })
	t.Run("Track", func(t *testing.T) { testTrack(t, ref) })
	t.Run("ModelV0", func(t *testing.T) { testModelV0(t, ref) })
	t.Run("RawWire", func(t *testing.T) { testRawWire(t, ref) })
	t.Run("Close", func(t *testing.T) { testClose(t, ref) })
	if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the clients closed: %v", left)
	}
}

func testQueries(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, ModelV1)
	ctx := testCtx(t)
	if c.Type() != TypeSet || c.Model() != ModelV1 {
		t.Errorf("type %d, model %d", c.Type(), c.Model())
	}
	ok, err := c.Getquorate(ctx)
	if err != nil || !ok {
		t.Errorf("getquorate = %v, %v", ok, err)
	}
	typ, err := c.GetType(ctx)
	if err != nil || typ != TypeSet {
		t.Errorf("gettype = %d, %v", typ, err)
	}
}

func testTrack(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, ModelV1)
	ctx := testCtx(t)
	ring := quorumtoolRingID(t, ref)
	if ring.NodeID != 1 || ring.Seq == 0 {
		t.Fatalf("quorumtool's ring id %v", ring)
	}
	wantNodes := Nodelist{RingID: ring, Members: []uint32{1}}
	wantQuorum := Quorum{Quorate: true, RingID: ring, Members: []uint32{1}}
	expectCurrent := func(what string) {
		t.Helper()
		if ev := nextEvent(t, c); !reflect.DeepEqual(ev, wantNodes) {
			t.Errorf("%s: first event %#v, want %#v", what, ev, wantNodes)
		}
		if ev := nextEvent(t, c); !reflect.DeepEqual(ev, wantQuorum) {
			t.Errorf("%s: second event %#v, want %#v", what, ev, wantQuorum)
		}
	}

	// CS_TRACK_CURRENT alone sends the state but does not subscribe, so it can repeat.
	for i := range 2 {
		if err := c.TrackStart(ctx, TrackCurrent); err != nil {
			t.Fatalf("trackstart current #%d: %v", i, err)
		}
		expectCurrent("current")
	}
	noEvent(t, c)

	if err := c.TrackStart(ctx, TrackChanges); err != nil {
		t.Fatal(err)
	}
	expectCurrent("changes")
	// A second subscription is refused, after the current state.
	if err := c.TrackStart(ctx, TrackChanges|TrackCurrent); !errors.Is(err, ipc.CSErrExist) {
		t.Fatalf("second trackstart: %v, want CS_ERR_EXIST", err)
	}
	expectCurrent("refused")
	// TRACK_CHANGES_ONLY sends nothing now (and is refused too while tracking).
	if err := c.TrackStart(ctx, TrackChangesOnly); !errors.Is(err, ipc.CSErrExist) {
		t.Fatalf("changes-only while tracking: %v", err)
	}
	noEvent(t, c)
	if err := c.TrackStop(ctx); err != nil {
		t.Fatal(err)
	}
	// 3.1.7 computes CS_ERR_NOT_EXIST for an untracked client, then overwrites it.
	if err := c.TrackStop(ctx); err != nil {
		t.Fatalf("second trackstop: %v, want 3.1.7's CS_OK", err)
	}
	if err := c.TrackStart(ctx, TrackChangesOnly); err != nil {
		t.Fatalf("changes-only: %v", err)
	}
	noEvent(t, c)
}

func testModelV0(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, ModelV0)
	ctx := testCtx(t)
	if c.Type() != TypeSet || c.Model() != ModelV0 {
		t.Errorf("type %d, model %d", c.Type(), c.Model())
	}
	ring := quorumtoolRingID(t, ref)
	if err := c.TrackStart(ctx, TrackCurrent); err != nil {
		t.Fatal(err)
	}
	// Model V0 gets no node list, and only the ring's seq.
	want := Quorum{Quorate: true, RingID: RingID{Seq: ring.Seq}, Members: []uint32{1}}
	if ev := nextEvent(t, c); !reflect.DeepEqual(ev, want) {
		t.Errorf("v0 event %#v, want %#v", ev, want)
	}
	noEvent(t, c)
}

// testRawWire checks message sizes and codes the Go client cannot show: the exact bytes
// counts of the daemon's answers and events, and its answer to an unknown model.
func testRawWire(t *testing.T, ref *refcorosync.Instance) {
	ctx := testCtx(t)
	var conn *ipc.Client
	if err := ref.Do(func() (err error) { conn, err = ipc.Dial(ctx, "quorum"); return err }); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := func(b []byte, size int) []byte {
		t.Helper()
		res, err := conn.Request(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != size {
			t.Fatalf("answer to request %d: %d bytes, want %d", idOf(b), len(res), size)
		}
		return res
	}
	mt, err := DecodeModelGetTypeResponse(req(ModelGetTypeRequest{Model: 7}.Encode(), WordResponseBytes))
	if err != nil || mt != (ModelGetTypeResponse{Error: ipc.CSErrInvalid, Type: TypeSet}) {
		t.Errorf("unknown model: %+v, %v", mt, err)
	}
	// A connection that never sent MODEL_GETTYPE (or whose model was refused) is V0.
	if cs, err := DecodeStatusResponse(req(TrackStartRequest{Flags: TrackCurrent}.Encode(), StatusResponseBytes), ResTrackStart); err != nil || cs != ipc.CSOk {
		t.Fatalf("trackstart: %v, %v", cs, err)
	}
	ev, err := conn.Event(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != NotificationV0Bytes+4 {
		t.Errorf("v0 notification of %d bytes, want %d", len(ev), NotificationV0Bytes+4)
	}
	if n, err := DecodeNotificationV0(ev); err != nil || !n.Quorate || !reflect.DeepEqual(n.Members, []uint32{1}) {
		t.Errorf("v0 notification %+v, %v", n, err)
	}

	mt, err = DecodeModelGetTypeResponse(req(ModelGetTypeRequest{Model: ModelV1}.Encode(), WordResponseBytes))
	if err != nil || mt != (ModelGetTypeResponse{Error: ipc.CSOk, Type: TypeSet}) {
		t.Errorf("model v1: %+v, %v", mt, err)
	}
	req(TrackStartRequest{Flags: TrackCurrent}.Encode(), StatusResponseBytes)
	for _, want := range []struct {
		id   int32
		size int
	}{{ResV1NodelistNotification, NodelistNotificationBytes + 4}, {ResV1QuorumNotification, QuorumNotificationBytes + 4}} {
		ev, err := conn.Event(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if idOf(ev) != want.id || len(ev) != want.size || ipc.ResponseError(ev) != ipc.CSOk {
			t.Errorf("event id %d of %d bytes, want id %d of %d", idOf(ev), len(ev), want.id, want.size)
		}
	}
	if gq, err := DecodeGetQuorateResponse(req(EncodeHeaderRequest(ReqGetQuorate), WordResponseBytes)); err != nil || gq != (GetQuorateResponse{ipc.CSOk, true}) {
		t.Errorf("getquorate %+v, %v", gq, err)
	}
	if gt, err := DecodeGetTypeResponse(req(EncodeHeaderRequest(ReqGetType), WordResponseBytes)); err != nil || gt != (GetTypeResponse{ipc.CSOk, TypeSet}) {
		t.Errorf("gettype %+v, %v", gt, err)
	}
	if cs, err := DecodeStatusResponse(req(EncodeHeaderRequest(ReqTrackStop), StatusResponseBytes), ResTrackStop); err != nil || cs != ipc.CSOk {
		t.Errorf("trackstop %v, %v", cs, err)
	}
}

func testClose(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, ModelV1)
	ctx := testCtx(t)
	if err := c.TrackStart(ctx, TrackChanges); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := c.Getquorate(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("getquorate after close: %v", err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-c.Events():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("events not closed after Close")
		}
	}
}

// TestReferenceChanges starts the reference inquorate (expected_votes 2 with one vote)
// and makes it quorate with corosync-quorumtool -e 1, which trackers must hear of.
func TestReferenceChanges(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{Conf: oneNodeConf("quorum {\n\tprovider: corosync_votequorum\n\texpected_votes: 2\n}")})
	before := refcorosync.ShmNames()
	ctx := testCtx(t)
	tracker := dial(t, ref, ModelV1)
	changesOnly := dial(t, ref, ModelV0)
	untracked := dial(t, ref, ModelV1)
	if ok, err := tracker.Getquorate(ctx); err != nil || ok {
		t.Fatalf("getquorate = %v, %v; want inquorate", ok, err)
	}
	ring := quorumtoolRingID(t, ref)
	if err := tracker.TrackStart(ctx, TrackChanges); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, tracker); !reflect.DeepEqual(ev, Nodelist{RingID: ring, Members: []uint32{1}}) {
		t.Errorf("first event %#v", ev)
	}
	// The view lists the members even while inquorate.
	if ev := nextEvent(t, tracker); !reflect.DeepEqual(ev, Quorum{Quorate: false, RingID: ring, Members: []uint32{1}}) {
		t.Errorf("second event %#v", ev)
	}
	if err := changesOnly.TrackStart(ctx, TrackChangesOnly); err != nil {
		t.Fatal(err)
	}
	noEvent(t, changesOnly)

	if out, err := ref.Command("corosync-quorumtool", "-e", "1").CombinedOutput(); err != nil {
		t.Fatalf("corosync-quorumtool -e 1: %v\n%s", err, out)
	}
	// No membership change: a quorum notification alone.
	if ev := nextEvent(t, tracker); !reflect.DeepEqual(ev, Quorum{Quorate: true, RingID: ring, Members: []uint32{1}}) {
		t.Errorf("change event %#v", ev)
	}
	if ev := nextEvent(t, changesOnly); !reflect.DeepEqual(ev, Quorum{Quorate: true, RingID: RingID{Seq: ring.Seq}, Members: []uint32{1}}) {
		t.Errorf("v0 change event %#v", ev)
	}
	noEvent(t, tracker)
	noEvent(t, untracked)
	if ok, err := untracked.Getquorate(ctx); err != nil || !ok {
		t.Errorf("getquorate after -e 1 = %v, %v", ok, err)
	}
	for _, c := range []*Client{tracker, changesOnly, untracked} {
		c.Close()
	}
	if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the clients closed: %v", left)
	}
}

// TestReferenceNoProvider checks the quorum type and state without a quorum provider:
// QUORUM_FREE and always quorate.
func TestReferenceNoProvider(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{Conf: oneNodeConf("")})
	c := dial(t, ref, ModelV1)
	ctx := testCtx(t)
	if c.Type() != TypeFree {
		t.Errorf("type %d, want QUORUM_FREE", c.Type())
	}
	if ok, err := c.Getquorate(ctx); err != nil || !ok {
		t.Errorf("getquorate = %v, %v", ok, err)
	}
}
