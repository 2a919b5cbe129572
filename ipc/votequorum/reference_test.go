package votequorum

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// csNameNotFound is CS_ERR_NAME_NOT_FOUND, which package ipc has no name for.
const csNameNotFound ipc.CS = 17

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
		t.Fatalf("dial votequorum: %v", err)
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

func expectEvent(t *testing.T, c *Client, want Event) {
	t.Helper()
	if ev := nextEvent(t, c); !reflect.DeepEqual(ev, want) {
		t.Errorf("event %#v, want %#v", ev, want)
	}
}

// noEvent checks nothing arrives for a while (changes go round the one-node ring in
// milliseconds).
func noEvent(t *testing.T, c *Client) {
	t.Helper()
	select {
	case ev := <-c.Events():
		t.Errorf("unexpected event %#v", ev)
	case <-time.After(300 * time.Millisecond):
	}
}

func expectErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// waitInfo polls the local node's info until ok accepts it (changes made through totem
// land shortly after the request's answer).
func waitInfo(t *testing.T, c *Client, ok func(Info) bool) Info {
	t.Helper()
	ctx := testCtx(t)
	var info Info
	for range 100 {
		var err error
		if info, err = c.Info(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if ok(info) {
			return info
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("info stays %+v", info)
	return info
}

// quorumtool returns the "Key: value" lines of corosync-quorumtool -s.
func quorumtool(t *testing.T, ref *refcorosync.Instance) map[string]string {
	t.Helper()
	out, err := ref.Command("corosync-quorumtool", "-s").CombinedOutput()
	// corosync-quorumtool -s exits 2 when not quorate.
	if err != nil && !strings.Contains(string(out), "Quorate:") {
		t.Fatalf("corosync-quorumtool -s: %v\n%s", err, out)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return fields
}

// currentRing starts and ends a TrackCurrent on c and returns the ring id of the
// Nodelist it delivers (what a quorum device polls with).
func currentRing(t *testing.T, c *Client) RingID {
	t.Helper()
	if err := c.TrackStart(testCtx(t), TrackCurrent, 0); err != nil {
		t.Fatal(err)
	}
	nl, ok := nextEvent(t, c).(Nodelist)
	if !ok {
		t.Fatal("first event is not a Nodelist")
	}
	if _, ok := nextEvent(t, c).(Quorum); !ok {
		t.Fatal("second event is not a Quorum")
	}
	return nl.RingID
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
quorum {
	provider: corosync_votequorum
` + quorum + `
}
logging {
	to_stderr: yes
	to_syslog: no
	to_logfile: no
	timestamp: off
}
`
}

// localInfo is GETINFO's answer for the default one-node configuration.
var localInfo = Info{NodeID: 1, State: NodeStateMember, Votes: 1, ExpectedVotes: 1, HighestExpected: 1, TotalVotes: 1, Quorum: 1, Flags: InfoQuorate}

// TestReference runs the client against Debian's corosync 3.1.7 in its default one-node
// configuration.
func TestReference(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	before := refcorosync.ShmNames()
	t.Run("Info", func(t *testing.T) { testInfo(t, ref) })
	t.Run("Track", func(t *testing.T) { testTrack(t, ref) })
	t.Run("Qdevice", func(t *testing.T) { testQdevice(t, ref) })
	t.Run("RawWire", func(t *testing.T) { testRawWire(t, ref) })
	t.Run("Close", func(t *testing.T) { testClose(t, ref) })
	if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the clients closed: %v", left)
	}
}

func testInfo(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref)
	ctx := testCtx(t)
	for _, id := range []uint32{0, 1} {
		info, err := c.Info(ctx, id)
		if err != nil || info != localInfo {
			t.Errorf("info(%d) = %+v, %v; want %+v", id, info, err, localInfo)
		}
	}
	qt := quorumtool(t, ref)
	if qt["Flags"] != localInfo.Flags.String() || qt["Expected votes"] != "1" || qt["Quorum"] != "1" || qt["Total votes"] != "1" {
		t.Errorf("corosync-quorumtool -s says %q", qt)
	}
	_, err := c.Info(ctx, 99)
	expectErr(t, "info(99)", err, ipc.CSErrNotExist)
	expectErr(t, "setvotes(99)", c.SetVotes(ctx, 99, 1), csNameNotFound)
}

func testTrack(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref)
	ctx := testCtx(t)
	ring := currentRing(t, c)
	if want := quorumtool(t, ref)["Ring ID"]; ring.String() != want {
		t.Fatalf("ring id %v, corosync-quorumtool says %s", ring, want)
	}
	current := func(userCtx uint64) {
		t.Helper()
		expectEvent(t, c, Nodelist{Context: userCtx, RingID: ring, Members: []uint32{1}})
		expectEvent(t, c, Quorum{Context: userCtx, Quorate: true, Nodes: []Node{{1, NodeStateMember}}})
	}
	// TRACK_CURRENT did not subscribe.
	expectErr(t, "setexpected 1", c.SetExpected(ctx, 1), nil)
	noEvent(t, c)

	expectErr(t, "trackstart", c.TrackStart(ctx, TrackChanges, 42), nil)
	current(42)
	// A second subscription is refused, after the current state with its own context.
	expectErr(t, "second trackstart", c.TrackStart(ctx, TrackChanges, 43), ipc.CSErrExist)
	current(43)

	expectErr(t, "setexpected 1", c.SetExpected(ctx, 1), nil)
	expectEvent(t, c, ExpectedVotes{Context: 42, ExpectedVotes: 1})
	// Below the total votes, or above them while quorate: refused.
	expectErr(t, "setexpected 0", c.SetExpected(ctx, 0), ipc.CSErrInvalid)
	expectErr(t, "setexpected 2", c.SetExpected(ctx, 2), ipc.CSErrInvalid)
	// Setting a node's votes to what they are changes nothing.
	expectErr(t, "setvotes 1 1", c.SetVotes(ctx, 1, 1), nil)
	noEvent(t, c)
	if info, err := c.Info(ctx, 0); err != nil || info != localInfo {
		t.Errorf("info after the round trips = %+v, %v", info, err)
	}

	expectErr(t, "trackstop", c.TrackStop(ctx), nil)
	expectErr(t, "second trackstop", c.TrackStop(ctx), ipc.CSErrNotExist)
	expectErr(t, "setexpected 1", c.SetExpected(ctx, 1), nil)
	noEvent(t, c)

	expectErr(t, "trackstart changes only", c.TrackStart(ctx, TrackChangesOnly, 5), nil)
	noEvent(t, c)
	expectErr(t, "setexpected 1", c.SetExpected(ctx, 1), nil)
	expectEvent(t, c, ExpectedVotes{Context: 5, ExpectedVotes: 1})
	expectErr(t, "trackstop", c.TrackStop(ctx), nil)
}

// testQdevice drives the quorum device interface; the default configuration gives the
// device no votes, so quorum does not change.
func testQdevice(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref)
	ctx := testCtx(t)
	ring := currentRing(t, c)

	// libvotequorum's own checks, before anything is sent.
	expectErr(t, "register \"\"", c.QdeviceRegister(ctx, ""), ipc.CSErrInvalid)
	expectErr(t, "register long", c.QdeviceRegister(ctx, strings.Repeat("q", QdeviceMaxNameLen)), ipc.CSErrInvalid)

	expectErr(t, "unregister before register", c.QdeviceUnregister(ctx, "qd"), ipc.CSErrNotExist)
	expectErr(t, "poll before register", c.QdevicePoll(ctx, "qd", true, ring), ipc.CSErrNotExist)
	expectErr(t, "update before register", c.QdeviceUpdate(ctx, "qd", "qd2"), ipc.CSErrNotExist)
	expectErr(t, "master wins before register", c.QdeviceMasterWins(ctx, "qd", true), ipc.CSErrNotExist)

	expectErr(t, "register", c.QdeviceRegister(ctx, "qd"), nil)
	expectErr(t, "register again", c.QdeviceRegister(ctx, "qd"), nil)
	expectErr(t, "register another", c.QdeviceRegister(ctx, "other"), ipc.CSErrExist)
	want := localInfo
	want.Flags |= InfoQdeviceRegistered
	want.QdeviceName = "qd"
	if info, err := c.Info(ctx, 0); err != nil || info != want {
		t.Errorf("info after register = %+v, %v; want %+v", info, err, want)
	}

	expectErr(t, "poll with an old ring", c.QdevicePoll(ctx, "qd", true, RingID{ring.NodeID, ring.Seq - 1}), ipc.CSErrMessage)
	expectErr(t, "poll another", c.QdevicePoll(ctx, "other", true, ring), ipc.CSErrInvalid)
	expectErr(t, "poll", c.QdevicePoll(ctx, "qd", true, ring), nil)
	want.Flags |= InfoQdeviceAlive | InfoQdeviceCastVote
	waitInfo(t, c, func(i Info) bool { return i == want })

	expectErr(t, "master wins another", c.QdeviceMasterWins(ctx, "other", true), ipc.CSErrInvalid)
	expectErr(t, "master wins", c.QdeviceMasterWins(ctx, "qd", true), nil)
	want.Flags |= InfoQdeviceMasterWins
	waitInfo(t, c, func(i Info) bool { return i == want })
	expectErr(t, "master loses", c.QdeviceMasterWins(ctx, "qd", false), nil)
	want.Flags &^= InfoQdeviceMasterWins
	waitInfo(t, c, func(i Info) bool { return i == want })

	expectErr(t, "update another", c.QdeviceUpdate(ctx, "other", "qd2"), ipc.CSErrInvalid)
	expectErr(t, "update", c.QdeviceUpdate(ctx, "qd", "qd2"), nil)
	want.QdeviceName = "qd2"
	waitInfo(t, c, func(i Info) bool { return i == want })

	expectErr(t, "unregister the old name", c.QdeviceUnregister(ctx, "qd"), ipc.CSErrInvalid)
	expectErr(t, "unregister", c.QdeviceUnregister(ctx, "qd2"), nil)
	waitInfo(t, c, func(i Info) bool { return i == localInfo })
	expectErr(t, "unregister again", c.QdeviceUnregister(ctx, "qd2"), ipc.CSErrNotExist)
}

// testRawWire checks what the Go client cannot show: the byte counts and ids of the
// daemon's answers and events.
func testRawWire(t *testing.T, ref *refcorosync.Instance) {
	ctx := testCtx(t)
	var conn *ipc.Client
	if err := ref.Do(func() (err error) { conn, err = ipc.Dial(ctx, "votequorum"); return err }); err != nil {
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
			t.Fatalf("answer to request %d: %d bytes, want %d", u32(b, 0), len(res), size)
		}
		return res
	}
	if r, err := DecodeGetInfoResponse(req(GetInfoRequest{NodeID: 1}.Encode(), GetInfoResponseBytes)); err != nil || r != (GetInfoResponse{ipc.CSOk, localInfo}) {
		t.Errorf("getinfo: %+v, %v", r, err)
	}
	// An error answer has the full size too.
	if r, err := DecodeGetInfoResponse(req(GetInfoRequest{NodeID: 99}.Encode(), GetInfoResponseBytes)); err != nil || r != (GetInfoResponse{Error: ipc.CSErrNotExist}) {
		t.Errorf("getinfo(99): %+v, %v", r, err)
	}
	// TRACKSTART is answered with MESSAGE_RES_VOTEQUORUM_STATUS, not _TRACKSTART.
	if cs, err := DecodeStatusResponse(req(TrackStartRequest{Context: 7, Flags: TrackCurrent}.Encode(), StatusResponseBytes)); err != nil || cs != ipc.CSOk {
		t.Errorf("trackstart: %v, %v", cs, err)
	}
	for _, want := range []struct {
		id   int32
		size int
	}{{ResNodelistNotification, NodelistNotificationBytes + 4}, {ResQuorumNotification, QuorumNotificationBytes + 8}} {
		ev, err := conn.Event(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if int32(u32(ev, 0)) != want.id || len(ev) != want.size || ipc.ResponseError(ev) != ipc.CSOk {
			t.Errorf("event id %d of %d bytes, want id %d of %d", int32(u32(ev, 0)), len(ev), want.id, want.size)
		}
		if u64(ev, 24+8*boolInt(want.id == ResQuorumNotification)) != 7 {
			t.Errorf("event %d lacks the context: %x", want.id, ev)
		}
	}
	if cs, err := DecodeStatusResponse(req(EncodeHeaderRequest(ReqTrackStop), StatusResponseBytes)); err != nil || cs != ipc.CSErrNotExist {
		t.Errorf("trackstop untracked: %v, %v", cs, err)
	}
	// Tracking changes, an expected votes notification is 40 bytes.
	req(TrackStartRequest{Context: 8, Flags: TrackChangesOnly}.Encode(), StatusResponseBytes)
	req(SetExpectedRequest{ExpectedVotes: 1}.Encode(), StatusResponseBytes)
	ev, err := conn.Event(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if x, err := DecodeExpectedVotes(ev); err != nil || len(ev) != ExpectedVotesNotificationBytes || x != (ExpectedVotes{8, 1}) {
		t.Errorf("expected votes notification %x: %+v, %v", ev, x, err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func testClose(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref)
	ctx := testCtx(t)
	if err := c.TrackStart(ctx, TrackChanges, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := c.Info(ctx, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("info after close: %v", err)
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

// TestReferenceQuorumChanges makes the one node lose and regain quorum: giving the
// quorum device a vote (SETVOTES for node 0) raises the expected votes to 2, which the
// node's one vote cannot meet until the device polls casting its vote.
func TestReferenceQuorumChanges(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	before := refcorosync.ShmNames()
	ctx := testCtx(t)
	tracker := dial(t, ref)
	changesOnly := dial(t, ref)
	ring := currentRing(t, tracker)
	expectErr(t, "trackstart", tracker.TrackStart(ctx, TrackChanges, 1), nil)
	expectEvent(t, tracker, Nodelist{Context: 1, RingID: ring, Members: []uint32{1}})
	expectEvent(t, tracker, Quorum{Context: 1, Quorate: true, Nodes: []Node{{1, NodeStateMember}}})
	expectErr(t, "trackstart changes only", changesOnly.TrackStart(ctx, TrackChangesOnly, 2), nil)

	expectErr(t, "setvotes 0 1", tracker.SetVotes(ctx, QdeviceNodeID, 1), nil)
	member := []Node{{1, NodeStateMember}}
	for ctxID, c := range map[uint64]*Client{1: tracker, 2: changesOnly} {
		expectEvent(t, c, ExpectedVotes{Context: ctxID, ExpectedVotes: 2})
		expectEvent(t, c, Quorum{Context: ctxID, Quorate: false, Nodes: member})
	}
	inquorate := Info{NodeID: 1, State: NodeStateMember, Votes: 1, ExpectedVotes: 2, HighestExpected: 2, TotalVotes: 1, Quorum: 2, QdeviceVotes: 1}
	if info, err := tracker.Info(ctx, 0); err != nil || info != inquorate {
		t.Errorf("info = %+v, %v; want %+v", info, err, inquorate)
	}
	if qt := quorumtool(t, ref); qt["Quorate"] != "No" {
		t.Errorf("corosync-quorumtool says quorate %q", qt["Quorate"])
	}

	expectErr(t, "register", tracker.QdeviceRegister(ctx, "qd"), nil)
	noEvent(t, tracker)
	// The device's entry in quorum notifications has node id 0 and state 0: 3.1.7 never
	// sets the device's state.
	withDevice := []Node{{1, NodeStateMember}, {QdeviceNodeID, 0}}
	for i, cast := range []bool{true, false, true} {
		expectErr(t, "poll", tracker.QdevicePoll(ctx, "qd", cast, ring), nil)
		for ctxID, c := range map[uint64]*Client{1: tracker, 2: changesOnly} {
			expectEvent(t, c, Quorum{Context: ctxID, Quorate: cast, Nodes: withDevice})
		}
		want := inquorate
		want.Flags = InfoQdeviceRegistered | InfoQdeviceAlive
		want.QdeviceName = "qd"
		if cast {
			want.Flags |= InfoQuorate | InfoQdeviceCastVote
			want.TotalVotes = 2
		}
		if info, err := tracker.Info(ctx, 0); err != nil || info != want {
			t.Errorf("poll #%d: info = %+v, %v; want %+v", i, info, err, want)
		}
	}
	expectErr(t, "unregister", tracker.QdeviceUnregister(ctx, "qd"), nil)
	expectEvent(t, tracker, Quorum{Context: 1, Quorate: false, Nodes: member})
	expectEvent(t, changesOnly, Quorum{Context: 2, Quorate: false, Nodes: member})
	noEvent(t, tracker)

	tracker.Close()
	changesOnly.Close()
	if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the clients closed: %v", left)
	}
}

// TestReferenceFlags checks the configuration flags of GETINFO against two differently
// shaped quorum sections, and against corosync-quorumtool's reading of them.
func TestReferenceFlags(t *testing.T) {
	for _, c := range []struct {
		name, quorum string
		flags        InfoFlags
	}{
		// two_node turns wait_for_all on by itself.
		{"TwoNode", "\ttwo_node: 1", InfoTwoNode | InfoQuorate | InfoWaitForAll},
		{"Features", "\twait_for_all: 1\n\tlast_man_standing: 1\n\tauto_tie_breaker: 1\n\tallow_downscale: 1",
			InfoQuorate | InfoWaitForAll | InfoLastManStanding | InfoAutoTieBreaker | InfoAllowDownscale},
	} {
		t.Run(c.name, func(t *testing.T) {
			ref := refcorosync.Start(t, refcorosync.Options{Conf: oneNodeConf(c.quorum)})
			info, err := dial(t, ref).Info(testCtx(t), 0)
			if err != nil || info.Flags != c.flags {
				t.Errorf("flags %v (%v), want %v", info.Flags, err, c.flags)
			}
			if qt := quorumtool(t, ref)["Flags"]; qt != c.flags.String() {
				t.Errorf("corosync-quorumtool says flags %q, want %q", qt, c.flags.String())
			}
		})
	}
}
