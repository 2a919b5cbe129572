package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
	"github.com/corosync-go/corosync/ipc/cmap"
	"golang.org/x/sys/unix"
)

// fakeCfg stands in for the cfg service.
type fakeCfg struct {
	local        uint32
	localErr     error
	status       map[uint32]cfg.NodeStatus // others: CS_ERR_FAILED_OPERATION
	addrs        map[uint32][]netip.Addr   // others: CS_ERR_NOT_EXIST
	killErr      error
	reloadErr    error
	reopenErr    error
	shutdownErrs []error // answers to successive shutdown requests, then CS_OK
	calls        []string
	closed       bool
}

func (f *fakeCfg) LocalNodeID(context.Context) (uint32, error) { return f.local, f.localErr }
func (f *fakeCfg) NodeStatus(_ context.Context, id uint32) (cfg.NodeStatus, error) {
	st, ok := f.status[id]
	if !ok {
		return cfg.NodeStatus{NodeID: 99}, ipc.CSErrFailedOp
	}
	return st, nil
}
func (f *fakeCfg) NodeAddrs(_ context.Context, id uint32) ([]netip.Addr, error) {
	a, ok := f.addrs[id]
	if !ok {
		return nil, ipc.CSErrNotExist
	}
	return a, nil
}
func (f *fakeCfg) KillNode(_ context.Context, id uint32, reason string) error {
	f.calls = append(f.calls, fmt.Sprintf("kill %d %s", id, reason))
	return f.killErr
}
func (f *fakeCfg) TryShutdown(_ context.Context, flags cfg.ShutdownFlags) error {
	f.calls = append(f.calls, fmt.Sprintf("shutdown %d", flags))
	if len(f.shutdownErrs) == 0 {
		return nil
	}
	err := f.shutdownErrs[0]
	f.shutdownErrs = f.shutdownErrs[1:]
	return err
}
func (f *fakeCfg) ReloadConfig(context.Context) error   { return f.reloadErr }
func (f *fakeCfg) ReopenLogFiles(context.Context) error { return f.reopenErr }
func (f *fakeCfg) Close() error                         { f.closed = true; return nil }

// fakeCmap stands in for the cmap service.
type fakeCmap struct {
	vals    map[string]cmap.Value
	iterErr error
}

func (f *fakeCmap) Get(_ context.Context, key string) (cmap.Value, error) {
	v, ok := f.vals[key]
	if !ok {
		return cmap.Value{}, ipc.CSErrNotExist
	}
	return v, nil
}
func (f *fakeCmap) Iter(_ context.Context, prefix string) ([]cmap.Entry, error) {
	if f.iterErr != nil {
		return nil, f.iterErr
	}
	var es []cmap.Entry
	for k, v := range f.vals {
		if strings.HasPrefix(k, prefix) {
			es = append(es, cmap.Entry{Key: k, Len: uint64(v.Len()), Type: v.Type()})
		}
	}
	slices.SortFunc(es, func(a, b cmap.Entry) int { return strings.Compare(a.Key, b.Key) })
	return es, nil
}
func (f *fakeCmap) Close() error { return nil }

func fakeDeps(c *fakeCfg, m *fakeCmap, cfgErr, cmapErr error) deps {
	return deps{
		dialCfg: func(context.Context) (cfgAPI, error) {
			if cfgErr != nil {
				return nil, cfgErr
			}
			return c, nil
		},
		dialCmap: func(context.Context) (cmapAPI, error) {
			if cmapErr != nil {
				return nil, cmapErr
			}
			return m, nil
		},
	}
}

type outcome struct {
	stdout, stderr string
	code           int
}

func runWith(d deps, args ...string) outcome {
	var so, se strings.Builder
	code := run(context.Background(), append([]string{"corosync-cfgtool"}, args...), false, &so, &se, d)
	return outcome{so.String(), se.String(), code}
}

// twoNodeCluster is nodes 1 (local) and 2 over links 0 and 1, link 1 on sctp.
func twoNodeCluster() (*fakeCfg, *fakeCmap) {
	n1 := cfg.NodeStatus{NodeID: 1, Reachable: true}
	n1.Links[0] = link("10.0.0.1", "10.0.0.1", true, true, 65535)
	n2 := cfg.NodeStatus{NodeID: 2, Reachable: true}
	n2.Links[0] = link("10.0.0.1", "10.0.0.2", true, true, 1397)
	n2.Links[1] = link("10.1.0.1", "10.1.0.2", true, false, 1397)
	c := &fakeCfg{local: 1, status: map[uint32]cfg.NodeStatus{1: n1, 2: n2},
		addrs: map[uint32][]netip.Addr{2: {netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.2")}}}
	m := &fakeCmap{vals: map[string]cmap.Value{
		"totem.transport":                  cmap.String("knet"),
		"nodelist.node.0.nodeid":           cmap.Uint32(2),
		"nodelist.node.0.name":             cmap.String("two"),
		"nodelist.node.1.nodeid":           cmap.Uint32(1),
		"nodelist.node.2.nodeid":           cmap.String("5"), // not a uint32: ignored
		"nodelist.node.3.nodeidx":          cmap.Uint32(8),
		"totem.interface.0.bindnetaddr":    cmap.String("10.0.0.0"),
		"totem.interface.1.knet_transport": cmap.String("sctp"),
		"totem.interface.9.knet_transport": cmap.String("bogus"), // beyond the links
	}}
	return c, m
}

func TestRunStatus(t *testing.T) {
	c, m := twoNodeCluster()
	got := runWith(fakeDeps(c, m, nil, nil), "-s")
	want := outcome{"Local node ID 1, transport knet\n" +
		"LINK ID 0 udp\n\taddr\t= 10.0.0.1\n\tstatus:\n\t\tnodeid:          1:\tlocalhost\n\t\tnodeid:          2:\tconnected\n" +
		"LINK ID 1 sctp\n\taddr\t= 10.1.0.1\n\tstatus:\n\t\tnodeid:          1:\tlocalhost\n\t\tnodeid:          2:\tdisconnected\n", "", 0}
	if got != want {
		t.Errorf("-s:\n%+v\nwant\n%+v", got, want)
	}
	if !c.closed {
		t.Error("cfg connection left open")
	}
	got = runWith(fakeDeps(c, m, nil, nil), "-n")
	want = outcome{"Local node ID 1, transport knet\nnodeid: 2 reachable\n" +
		"   LINK: 0 udp (10.0.0.1->10.0.0.2) enabled connected mtu: 1397\n" +
		"   LINK: 1 sctp (10.1.0.1->10.1.0.2) enabled mtu: 1397\n\n", "", 0}
	if got != want {
		t.Errorf("-n:\n%+v\nwant\n%+v", got, want)
	}

	// udp transport: no default link transport; a node the daemon does not know.
	m.vals["totem.transport"] = cmap.String("udp")
	m.vals["nodelist.node.4.nodeid"] = cmap.Uint32(3)
	got = runWith(fakeDeps(c, m, nil, nil), "-sb")
	// Node 3 is the last other node and, its status unknown, has no links: none is listed.
	want = outcome{"Local node ID 1, transport udp\n", "Could not get the node status for nodeid 3, the error is: 21\n", 0}
	if got != want {
		t.Errorf("-sb with unknown node:\n%+v\nwant\n%+v", got, want)
	}
	got = runWith(fakeDeps(c, m, nil, nil), "-n")
	want = outcome{"Local node ID 1, transport udp\nnodeid: 2 reachable\n" +
		"   LINK: 0  (10.0.0.110.0.0.2) enabled connected mtu: 1397\n" +
		"   LINK: 1 sctp (10.1.0.110.1.0.2) enabled mtu: 1397\n\n", "", 0}
	if got != want {
		t.Errorf("-n udp:\n%+v\nwant\n%+v", got, want)
	}
	// A transport that is not a string counts as unset.
	m.vals["totem.transport"] = cmap.Uint8(1)
	if got := runWith(fakeDeps(c, m, nil, nil), "-s"); !strings.HasPrefix(got.stdout, "Local node ID 1, transport knet\n") {
		t.Errorf("non-string transport: %+v", got)
	}
}

func TestRunStatusFailures(t *testing.T) {
	refused := fmt.Errorf("ipc: connect to cfg: %w", unix.ECONNREFUSED)
	tests := []struct {
		name            string
		change          func(*fakeCfg, *fakeCmap)
		cfgErr, cmapErr error
		want            outcome
	}{
		{"no daemon", nil, refused, nil, outcome{"", "Could not initialize corosync configuration API error 2\n", 1}},
		{"access", nil, fmt.Errorf("refused: %w", unix.EACCES), nil, outcome{"", "Could not initialize corosync configuration API error 11\n", 1}},
		{"no cmap", nil, nil, refused, outcome{"", "Could not initialize corosync cmap API error 2\n", 1}},
		{"local id", func(c *fakeCfg, _ *fakeCmap) { c.localErr = ipc.CSErrTryAgain }, nil, nil,
			outcome{"", "Could not get the local node id, the error is: 6\n", 1}},
		{"iter", func(_ *fakeCfg, m *fakeCmap) { m.iterErr = ipc.CSErrAccess }, nil, nil,
			outcome{"", "Could not get nodelist from cmap. error 11\n", 1}},
		{"no nodes", func(_ *fakeCfg, m *fakeCmap) {
			delete(m.vals, "nodelist.node.0.nodeid")
			delete(m.vals, "nodelist.node.1.nodeid")
		}, nil, nil, outcome{"", "No nodes found in nodelist\n", 1}},
	}
	for _, tt := range tests {
		for _, flag := range []string{"-s", "-n"} {
			c, m := twoNodeCluster()
			if tt.change != nil {
				tt.change(c, m)
			}
			if got := runWith(fakeDeps(c, m, tt.cfgErr, tt.cmapErr), flag); got != tt.want {
				t.Errorf("%s %s: %+v, want %+v", tt.name, flag, got, tt.want)
			}
		}
	}
}

func TestRunActions(t *testing.T) {
	refused := fmt.Errorf("ipc: connect to cfg: %w", unix.ECONNREFUSED)
	tests := []struct {
		name   string
		args   []string
		change func(*fakeCfg)
		cfgErr error
		want   outcome
		calls  []string
	}{
		{"reload", []string{"-R"}, nil, nil, outcome{"Reloading corosync.conf...\nDone\n", "", 0}, nil},
		{"reload refused", []string{"-R"}, func(c *fakeCfg) { c.reloadErr = ipc.CSErrInvalid }, nil,
			outcome{"Reloading corosync.conf...\n", "Could not reload configuration. Error CS_ERR_INVALID_PARAM\n", 7}, nil},
		{"reload no daemon", []string{"-R"}, nil, refused,
			outcome{"Reloading corosync.conf...\n", "Could not initialize corosync configuration API error CS_ERR_LIBRARY\n", 1}, nil},
		{"reopen", []string{"-L"}, nil, nil, outcome{"", "", 0}, nil},
		{"reopen refused", []string{"-L"}, func(c *fakeCfg) { c.reopenErr = errors.New("connection lost") }, nil,
			outcome{"", "Could not reopen corosync logging files. Error CS_ERR_LIBRARY\n", 2}, nil},
		{"reopen no daemon", []string{"-L"}, nil, refused,
			outcome{"", "Could not initialize corosync configuration API error CS_ERR_LIBRARY\n", 1}, nil},
		{"kill", []string{"-k", "2"}, nil, nil, outcome{"Killing node 2\n", "", 0}, []string{"kill 2 Killed by corosync-cfgtool"}},
		{"kill missing", []string{"-k", "4000000000"}, func(c *fakeCfg) { c.killErr = ipc.CSErrNotExist }, nil,
			outcome{"Killing node 4000000000\n", "Could not kill node (error = CS_ERR_NOT_EXIST)\n", 1}, []string{"kill 4000000000 Killed by corosync-cfgtool"}},
		{"kill no daemon", []string{"-k", "2"}, nil, refused,
			outcome{"Killing node 2\n", "Could not initialize corosync configuration API error 2\n", 1}, nil},
		{"shutdown", []string{"-H"}, nil, nil, outcome{"Shutting down corosync\n", "", 0}, []string{"shutdown 0"}},
		{"shutdown force", []string{"--force", "-H"}, nil, nil, outcome{"Shutting down corosync\n", "", 0}, []string{"shutdown 1"}},
		{"shutdown retried", []string{"-H"}, func(c *fakeCfg) { c.shutdownErrs = []error{ipc.CSErrTryAgain, ipc.CSErrTryAgain} }, nil,
			outcome{"Shutting down corosync\n", "", 0}, []string{"shutdown 0", "shutdown 0", "shutdown 0"}},
		{"shutdown vetoed", []string{"-H"}, func(c *fakeCfg) { c.shutdownErrs = []error{ipc.CSErrBusy} }, nil,
			outcome{"Shutting down corosync\n", "Could not shutdown (error = 10)\n", 0}, []string{"shutdown 0"}},
		{"shutdown no daemon", []string{"-H"}, nil, refused,
			outcome{"", "Could not initialize corosync configuration API error 2\n", 1}, nil},
		{"addrs", []string{"-a", "2"}, nil, nil, outcome{"10.0.0.2 10.1.0.2\n", "", 0}, nil},
		{"addrs missing", []string{"-a", "3000000000"}, nil, nil, outcome{"", "Could not get node address for nodeid -1294967296\n", 1}, nil},
		{"addrs no daemon", []string{"-a", "2"}, nil, refused, outcome{"", "Could not initialize corosync configuration API error 2\n", 1}, nil},
		{"usage", []string{"-b"}, nil, nil, outcome{usageText, "", 0}, nil},
		{"bad option", []string{"-s", "-y"}, nil, nil, outcome{"", "corosync-cfgtool: invalid option -- 'y'\n", 1}, nil},
	}
	for _, tt := range tests {
		c, m := twoNodeCluster()
		if tt.change != nil {
			tt.change(c)
		}
		if got := runWith(fakeDeps(c, m, tt.cfgErr, nil), tt.args...); got != tt.want {
			t.Errorf("%s: %+v\nwant %+v", tt.name, got, tt.want)
		}
		if !slices.Equal(c.calls, tt.calls) {
			t.Errorf("%s: calls %q, want %q", tt.name, c.calls, tt.calls)
		}
	}
}

// The shutdown is tried 30 times while the daemon says "try again".
func TestShutdownGivesUp(t *testing.T) {
	c, m := twoNodeCluster()
	for range 40 {
		c.shutdownErrs = append(c.shutdownErrs, ipc.CSErrTryAgain)
	}
	got := runWith(fakeDeps(c, m, nil, nil), "-H")
	if want := (outcome{"Shutting down corosync\n", "Could not shutdown (error = 6)\n", 0}); got != want {
		t.Errorf("%+v, want %+v", got, want)
	}
	if len(c.calls) != shutdownAttempts {
		t.Errorf("%d attempts, want %d", len(c.calls), shutdownAttempts)
	}
}

func TestErrCS(t *testing.T) {
	tests := []struct {
		err  error
		want ipc.CS
	}{
		{nil, ipc.CSOk},
		{ipc.CSErrBusy, ipc.CSErrBusy},
		{fmt.Errorf("wrapped: %w", ipc.CSErrNotSupport), ipc.CSErrNotSupport},
		{fmt.Errorf("dial: %w", unix.ECONNREFUSED), ipc.CSErrLibrary},
		{fmt.Errorf("dial: %w", unix.EAGAIN), ipc.CSErrTryAgain},
		{fmt.Errorf("dial: %w", unix.ENOENT), ipc.CSErrNotExist},
		{errors.New("other"), ipc.CSErrLibrary},
	}
	for _, tt := range tests {
		if got := errCS(tt.err); got != tt.want {
			t.Errorf("errCS(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
