package main

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/quorum"
	"github.com/corosync-go/corosync/ipc/votequorum"
)

// fakeDaemon stands in for corosync's cmap, quorum, votequorum and cfg services.
type fakeDaemon struct {
	keys    map[string]cmap.Value
	qType   quorum.Type
	quorate bool
	members []uint32
	ring    votequorum.RingID
	infos   map[uint32]votequorum.Info
	addrs   map[uint32][]netip.Addr
	// closeEvents makes the quorum service's event channel close instead of answering.
	closeEvents bool
	setVotes    [][2]uint32
	unregister  []string
}

func (f *fakeDaemon) Get(_ context.Context, key string) (cmap.Value, error) {
	if v, ok := f.keys[key]; ok {
		return v, nil
	}
	return cmap.Value{}, ipc.CSErrNotExist
}

func (f *fakeDaemon) Iter(_ context.Context, prefix string) ([]cmap.Entry, error) {
	var out []cmap.Entry
	for k, v := range f.keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, cmap.Entry{Key: k, Len: uint64(v.Len()), Type: v.Type()})
		}
	}
	return out, nil
}

func (f *fakeDaemon) Close() error { return nil }

type fakeQuorum struct {
	f  *fakeDaemon
	ev chan quorum.Event
}

func (q *fakeQuorum) Type() quorum.Type                        { return q.f.qType }
func (q *fakeQuorum) Getquorate(context.Context) (bool, error) { return q.f.quorate, nil }
func (q *fakeQuorum) TrackStop(context.Context) error          { return nil }
func (q *fakeQuorum) Events() <-chan quorum.Event              { return q.ev }
func (q *fakeQuorum) Close() error                             { return nil }
func (q *fakeQuorum) TrackStart(context.Context, quorum.TrackFlags) error {
	if q.f.closeEvents {
		close(q.ev)
		return nil
	}
	q.ev <- quorum.Quorum{Quorate: q.f.quorate, RingID: quorum.RingID{Seq: q.f.ring.Seq}, Members: q.f.members}
	return nil
}

type fakeVQ struct {
	f  *fakeDaemon
	ev chan votequorum.Event
}

func (v *fakeVQ) Info(_ context.Context, id uint32) (votequorum.Info, error) {
	if info, ok := v.f.infos[id]; ok {
		return info, nil
	}
	return votequorum.Info{}, ipc.CSErrNotExist
}
func (v *fakeVQ) SetExpected(context.Context, uint32) error { return ipc.CSErrInvalid }
func (v *fakeVQ) SetVotes(_ context.Context, id, votes uint32) error {
	v.f.setVotes = append(v.f.setVotes, [2]uint32{id, votes})
	return nil
}
func (v *fakeVQ) TrackStart(context.Context, votequorum.TrackFlags, uint64) error {
	v.ev <- votequorum.ExpectedVotes{ExpectedVotes: 3}
	v.ev <- votequorum.Nodelist{RingID: v.f.ring, Members: v.f.members}
	return nil
}
func (v *fakeVQ) QdeviceUnregister(_ context.Context, name string) error {
	v.f.unregister = append(v.f.unregister, name)
	return nil
}
func (v *fakeVQ) Events() <-chan votequorum.Event { return v.ev }
func (v *fakeVQ) Close() error                    { return nil }

type fakeCfg struct{ f *fakeDaemon }

func (c fakeCfg) NodeAddrs(_ context.Context, id uint32) ([]netip.Addr, error) {
	if a, ok := c.f.addrs[id]; ok {
		return a, nil
	}
	return nil, ipc.CSErrNotExist
}
func (c fakeCfg) Close() error { return nil }

func (f *fakeDaemon) deps() deps {
	return deps{
		dialCmap:       func(context.Context) (cmapAPI, error) { return f, nil },
		dialQuorum:     func(context.Context) (quorumAPI, error) { return &fakeQuorum{f, make(chan quorum.Event, 4)}, nil },
		dialCfg:        func(context.Context) (cfgAPI, error) { return fakeCfg{f}, nil },
		dialVotequorum: func(context.Context) (votequorumAPI, error) { return &fakeVQ{f, make(chan votequorum.Event, 4)}, nil },
		lookupAddr: func(_ context.Context, a netip.Addr) (string, bool) {
			switch a.String() {
			case "10.0.0.3":
				return "host3.example", true
			case "10.0.0.9":
				return "", false // a name server that does not answer
			}
			return a.String(), true
		},
		now: func() time.Time { return time.Date(2026, 3, 5, 7, 8, 9, 0, time.Local) },
	}
}

// threeNodes is a quorate cluster of nodes 1 (local, named), 2 (named, two addresses)
// and 3 (unnamed, resolved by the fake resolver).
func threeNodes() *fakeDaemon {
	a := netip.MustParseAddr
	q := votequorum.InfoQuorate
	return &fakeDaemon{
		keys: map[string]cmap.Value{
			"quorum.provider":                 cmap.String("corosync_votequorum"),
			"runtime.votequorum.this_node_id": cmap.Uint32(1),
			"nodelist.node.0.nodeid":          cmap.Uint32(1), "nodelist.node.0.name": cmap.String("one"),
			"nodelist.node.1.nodeid": cmap.Uint32(2), "nodelist.node.1.name": cmap.String("two"),
			"nodelist.node.2.nodeid": cmap.Uint32(3),
		},
		qType: quorum.TypeSet, quorate: true, members: []uint32{1, 2, 3},
		ring: votequorum.RingID{NodeID: 2, Seq: 0x1c},
		infos: map[uint32]votequorum.Info{
			1: {NodeID: 1, Votes: 1, ExpectedVotes: 3, HighestExpected: 3, TotalVotes: 3, Quorum: 2, Flags: q},
			2: {NodeID: 2, Votes: 1, Flags: q}, 3: {NodeID: 3, Votes: 1, Flags: q},
		},
		addrs: map[uint32][]netip.Addr{1: {a("10.0.0.1")}, 2: {a("10.0.0.2"), a("10.1.0.2")}, 3: {a("10.0.0.3"), {}, a("10.1.0.3")}},
	}
}

func runFake(t *testing.T, f *fakeDaemon, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var so, se bytes.Buffer
	code = run(context.Background(), append([]string{"corosync-quorumtool"}, args...), false, &so, &se, f.deps())
	return so.String(), se.String(), code
}

func TestStatus(t *testing.T) {
	out, errOut, code := runFake(t, threeNodes(), "-s")
	want := "Quorum information\n------------------\nDate:             Thu Mar  5 07:08:09 2026\n" +
		"Quorum provider:  corosync_votequorum\nNodes:            3\nNode ID:          1\nRing ID:          2.1c\nQuorate:          Yes\n\n" +
		"Votequorum information\n----------------------\nExpected votes:   3\nHighest expected: 3\nTotal votes:      3\n" +
		"Quorum:           2  \nFlags:            Quorate \n\n" +
		"Membership information\n----------------------\n    Nodeid      Votes Name\n" +
		"         1          1 one (local)\n         2          1 two\n         3          1 host3.example\n"
	if out != want || errOut != "" || code != 0 {
		t.Errorf("-s: code %d stderr %q\n%s\nwant\n%s", code, errOut, out, want)
	}
}

func TestStatusNotQuorate(t *testing.T) {
	f := threeNodes()
	f.quorate = false
	info := f.infos[1]
	info.Flags = votequorum.InfoTwoNode | votequorum.InfoWaitForAll
	f.infos[1] = info
	out, _, code := runFake(t, f)
	if code != exitNotQuorate || !strings.Contains(out, "Quorate:          No\n") ||
		!strings.Contains(out, "Quorum:           2 Activity blocked\nFlags:            2Node WaitForAll \n") {
		t.Errorf("code %d:\n%s", code, out)
	}
}

func TestNodeNames(t *testing.T) {
	f := threeNodes()
	f.addrs[3] = []netip.Addr{netip.MustParseAddr("10.0.0.9")}
	cases := []struct {
		args []string
		rows string
	}{
		{[]string{"-l"}, "         1          1 one (local)\n         2          1 two\n         3          1 \n"},
		{[]string{"-l", "-a"}, "         1          1 one (local)\n         2          1 two, 10.1.0.2\n         3          1 \n"},
		{[]string{"-l", "-i"}, "         1          1 10.0.0.1 (local)\n         2          1 10.0.0.2\n         3          1 10.0.0.9\n"},
		{[]string{"-l", "-i", "-a", "-H"}, "0x00000001          1 10.0.0.1 (local)\n0x00000002          1 10.0.0.2, 10.1.0.2\n0x00000003          1 10.0.0.9\n"},
	}
	for _, c := range cases {
		out, _, code := runFake(t, f, c.args...)
		if code != 0 || !strings.HasSuffix(out, "Name\n"+c.rows) {
			t.Errorf("%q: code %d\n%s\nwant rows\n%s", c.args, code, out, c.rows)
		}
	}
	// A node cfg does not know: its name is empty, and the failure is reported.
	f.members = append(f.members, 7)
	f.infos[7] = votequorum.Info{NodeID: 7}
	out, errOut, _ := runFake(t, f, "-l")
	if !strings.HasSuffix(out, "         7          0 \n") || errOut != "Unable to get node address for nodeid 7: CS_ERR_NOT_EXIST\n" {
		t.Errorf("unknown node: %q %q", out, errOut)
	}
}

func TestDispatchFailure(t *testing.T) {
	f := threeNodes()
	f.closeEvents = true
	out, errOut, code := runFake(t, f, "-l")
	if code != 1 || out != "" || errOut != "Unable to dispatch quorum status: CS_ERR_LIBRARY\n" {
		t.Errorf("-l: %d %q %q", code, out, errOut)
	}
}

func TestChanges(t *testing.T) {
	f := threeNodes()
	if _, _, code := runFake(t, f, "-v", "4"); code != 0 || len(f.setVotes) != 1 || f.setVotes[0] != [2]uint32{1, 4} {
		t.Errorf("-v 4: %d %v", code, f.setVotes)
	}
	if _, _, code := runFake(t, f, "-n", "3", "-v", "0"); code != 0 || f.setVotes[1] != [2]uint32{3, 0} {
		t.Errorf("-n 3 -v 0: %d %v", code, f.setVotes)
	}
	if _, errOut, code := runFake(t, f, "-e", "9"); code != 1 || errOut != "Unable to set expected votes: CS_ERR_INVALID_PARAM\n" {
		t.Errorf("-e 9: %d %q", code, errOut)
	}
	if _, _, code := runFake(t, f, "-f"); code != 0 || f.unregister != nil {
		t.Errorf("-f without a device: %d %v", code, f.unregister)
	}
	info := f.infos[1]
	info.Flags |= votequorum.InfoQdeviceRegistered
	info.QdeviceName = "dev"
	f.infos[1] = info
	if _, _, code := runFake(t, f, "-f"); code != 0 || len(f.unregister) != 1 || f.unregister[0] != "dev" {
		t.Errorf("-f: %d %v", code, f.unregister)
	}
	f.keys["quorum.provider"] = cmap.String("other")
	if _, errOut, code := runFake(t, f, "-v", "1"); code != 1 || errOut != "You cannot change node votes, corosync is not using votequorum\n" {
		t.Errorf("-v under another provider: %d %q", code, errOut)
	}
}

func TestNoDaemonFake(t *testing.T) {
	d := threeNodes().deps()
	d.dialCmap = func(context.Context) (cmapAPI, error) { return nil, errors.New("refused") }
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"q", "-l"}, false, &so, &se, d); code != 1 || se.String() != "Cannot initialize CMAP service\n" || so.Len() != 0 {
		t.Errorf("%d %q %q", code, so.String(), se.String())
	}
}
