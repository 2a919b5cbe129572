package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
)

// decoded passes a status through its wire form, so the formatter sees exactly what the
// client library decodes from the daemon.
func decoded(t *testing.T, st cfg.NodeStatus) cfg.NodeStatus {
	t.Helper()
	b, err := cfg.NodeStatusResponse{Error: ipc.CSOk, Version: cfg.NodeStatusV1, Status: &st}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.DecodeNodeStatusResponse(b)
	if err != nil || r.Status == nil {
		t.Fatalf("decode: %v", err)
	}
	return *r.Status
}

func link(src, dst string, enabled, connected bool, mtu uint32) cfg.LinkStatus {
	return cfg.LinkStatus{Enabled: enabled, Connected: connected, MTU: mtu, SrcAddr: src, DstAddr: dst}
}

func knetView(local uint32, ids ...uint32) clusterView {
	v := clusterView{LocalID: local, Transport: "knet", Kind: transportKnet, NodeIDs: ids}
	for i := range v.LinkTransport {
		v.LinkTransport[i] = "udp"
	}
	return v
}

// oneNode is what 3.1.7's daemon reports for the default one-node reference cluster.
func oneNode(t *testing.T) []nodeResult {
	st := cfg.NodeStatus{NodeID: 1, Reachable: true}
	st.Links[0] = link("127.0.0.1", "127.0.0.1", true, true, 65535)
	return []nodeResult{{ID: 1, Status: decoded(t, st), Err: ipc.CSOk}}
}

// threeNodes is nodes 1 (local), 3 and 7 over two links: 3 connected on link 0 only, 7
// on both, node 7 remote and with a dynamically connected link 1.
func threeNodes(t *testing.T) []nodeResult {
	n1 := cfg.NodeStatus{NodeID: 1, Reachable: true}
	n1.Links[0] = link("10.0.0.1", "10.0.0.1", true, true, 65535)
	n3 := cfg.NodeStatus{NodeID: 3, Reachable: true}
	n3.Links[0] = link("10.0.0.1", "10.0.0.3", true, true, 1397)
	n3.Links[1] = link("10.1.0.1", "10.1.0.3", true, false, 1397)
	n7 := cfg.NodeStatus{NodeID: 7, Reachable: true, Remote: true, External: true}
	n7.Links[0] = link("10.0.0.1", "10.0.0.7", true, true, 1397)
	n7.Links[1] = link("10.1.0.1", "10.1.0.7", true, true, 1366)
	n7.Links[1].DynConnected = true
	return []nodeResult{{ID: 1, Status: decoded(t, n1), Err: ipc.CSOk}, {ID: 3, Status: decoded(t, n3), Err: ipc.CSOk}, {ID: 7, Status: decoded(t, n7), Err: ipc.CSOk}}
}

func TestWriteHeader(t *testing.T) {
	var b strings.Builder
	v := clusterView{LocalID: 4294967295, Transport: "udpu"}
	writeHeader(&b, &v)
	if b.String() != "Local node ID 4294967295, transport udpu\n" {
		t.Errorf("%q", b.String())
	}
}

func TestWriteLinks(t *testing.T) {
	v := knetView(1, 1)
	var b strings.Builder
	writeLinks(&b, &v, oneNode(t), false)
	// Captured from Debian's corosync-cfgtool -s on the one-node reference.
	if want := "LINK ID 0 udp\n\taddr\t= 127.0.0.1\n\tstatus:\n\t\tnodeid:          1:\tlocalhost\n"; b.String() != want {
		t.Errorf("one node:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	writeLinks(&b, &v, oneNode(t), true)
	if want := "LINK ID 0 udp\n\taddr\t= 127.0.0.1\n\tstatus\t= n\n"; b.String() != want {
		t.Errorf("one node brief:\n%q\nwant\n%q", b.String(), want)
	}

	v = knetView(1, 1, 3, 7)
	v.LinkTransport[1] = "sctp"
	b.Reset()
	writeLinks(&b, &v, threeNodes(t), false)
	want := "LINK ID 0 udp\n\taddr\t= 10.0.0.1\n\tstatus:\n" +
		"\t\tnodeid:          1:\tlocalhost\n\t\tnodeid:          3:\tconnected\n\t\tnodeid:          7:\tconnected\n" +
		"LINK ID 1 sctp\n\taddr\t= 10.1.0.1\n\tstatus:\n" +
		"\t\tnodeid:          1:\tlocalhost\n\t\tnodeid:          3:\tdisconnected\n\t\tnodeid:          7:\tconnected\n"
	if b.String() != want {
		t.Errorf("three nodes:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	writeLinks(&b, &v, threeNodes(t), true)
	want = "LINK ID 0 udp\n\taddr\t= 10.0.0.1\n\tstatus\t= n33\nLINK ID 1 sctp\n\taddr\t= 10.1.0.1\n\tstatus\t= n13\n"
	if b.String() != want {
		t.Errorf("three nodes brief:\n%q\nwant\n%q", b.String(), want)
	}
}

// A node whose status failed is all zeroes: id 0, every link down. When it is the last
// other node, its (absent) links decide what -s lists: nothing.
func TestWriteLinksFailedNode(t *testing.T) {
	res := threeNodes(t)
	res[1] = nodeResult{ID: 3, Err: ipc.CSErrFailedOp}
	v := knetView(1, 1, 3, 7)
	var b strings.Builder
	writeLinks(&b, &v, res, false)
	if !strings.Contains(b.String(), "\t\tnodeid:          0:\tdisconnected\n") {
		t.Errorf("failed node:\n%s", b.String())
	}
	b.Reset()
	writeLinks(&b, &v, res, true)
	if want := "LINK ID 0 udp\n\taddr\t= 10.0.0.1\n\tstatus\t= n03\nLINK ID 1 udp\n\taddr\t= 10.1.0.1\n\tstatus\t= n03\n"; b.String() != want {
		t.Errorf("failed node brief:\n%q\nwant\n%q", b.String(), want)
	}
	res[2] = nodeResult{ID: 7, Err: ipc.CSErrFailedOp}
	b.Reset()
	writeLinks(&b, &v, res, false)
	if b.String() != "" {
		t.Errorf("failed last node: %q", b.String())
	}
	var e strings.Builder
	res[2].ID = 3000000000
	writeStatusErrors(&e, res)
	if want := "Could not get the node status for nodeid 3, the error is: 21\nCould not get the node status for nodeid -1294967296, the error is: 21\n"; e.String() != want {
		t.Errorf("errors:\n%q\nwant\n%q", e.String(), want)
	}
}

// Without the local node in the nodelist, the first node takes its place.
func TestWriteLinksLocalMissing(t *testing.T) {
	v := knetView(9, 1, 3, 7)
	var b strings.Builder
	writeLinks(&b, &v, threeNodes(t), true)
	if want := "LINK ID 0 udp\n\taddr\t= 10.0.0.1\n\tstatus\t= n33\nLINK ID 1 udp\n\taddr\t= 10.1.0.1\n\tstatus\t= n13\n"; b.String() != want {
		t.Errorf("%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	writeLinks(&b, &v, nil, true)
	if b.String() != "" {
		t.Errorf("no nodes: %q", b.String())
	}
}

func TestWriteNodes(t *testing.T) {
	v := knetView(1, 1, 3, 7)
	res := threeNodes(t)
	var b strings.Builder
	writeNodes(&b, &v, res)
	want := "nodeid: 3 reachable\n" +
		"   LINK: 0 udp (10.0.0.1->10.0.0.3) enabled connected mtu: 1397\n" +
		"   LINK: 1 udp (10.1.0.1->10.1.0.3) enabled mtu: 1397\n\n" +
		"nodeid: 7 reachable remote external\n" +
		"   LINK: 0 udp (10.0.0.1->10.0.0.7) enabled connected mtu: 1397\n" +
		"   LINK: 1 udp (10.1.0.1->10.1.0.7) enabled connected dynconnected mtu: 1366\n\n"
	if b.String() != want {
		t.Errorf("knet:\n%q\nwant\n%q", b.String(), want)
	}

	// Unreachable and failed nodes are left out; udpu has no arrow and no link transport.
	res[1].Status.Reachable = false
	res[2].Status.Links[1].MTU = 1 << 31
	v = clusterView{LocalID: 1, Transport: "udpu", Kind: transportUDPU}
	b.Reset()
	writeNodes(&b, &v, res)
	want = "nodeid: 7 reachable remote external\n" +
		"   LINK: 0  (10.0.0.110.0.0.7) enabled connected mtu: 1397\n" +
		"   LINK: 1  (10.1.0.110.1.0.7) enabled connected dynconnected mtu: -2147483648\n\n"
	if b.String() != want {
		t.Errorf("udpu:\n%q\nwant\n%q", b.String(), want)
	}
	res[2].Err = ipc.CSErrFailedOp
	b.Reset()
	writeNodes(&b, &v, res)
	if b.String() != "" {
		t.Errorf("failed: %q", b.String())
	}
}

func TestWriteAddrs(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	tests := []struct {
		in   []netip.Addr
		want string
	}{
		{nil, "\n"},
		{[]netip.Addr{a("127.0.0.1")}, "127.0.0.1\n"},
		{[]netip.Addr{a("127.0.0.1"), a("127.0.0.2")}, "127.0.0.1 127.0.0.2\n"},
		// An unused first slot still leaves the separator before the next address.
		{[]netip.Addr{{}, a("10.0.0.2")}, " 10.0.0.2\n"},
		{[]netip.Addr{a("10.0.0.1"), {}, a("10.0.0.3")}, "10.0.0.1 10.0.0.3\n"},
		{[]netip.Addr{a("fe80::1"), a("2001:db8::"), a("::ffff:1.2.3.4")}, "fe80::1 2001:db8:: ::ffff:1.2.3.4\n"},
		// inet_ntop's forms, checked with glibc.
		{[]netip.Addr{a("::102:304"), a("::0:102"), a("1:0:0:1:0:0:0:1"), a("::1"), a("::1:0:0")}, "::1.2.3.4 ::102 1:0:0:1::1 ::1 ::1:0:0\n"},
		{[]netip.Addr{a("1.1.1.1"), a("1.1.1.2"), a("1.1.1.3"), a("1.1.1.4"), a("1.1.1.5"), a("1.1.1.6"), a("1.1.1.7"), a("1.1.1.8"), a("1.1.1.9")},
			"1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		writeAddrs(&b, tt.in)
		if b.String() != tt.want {
			t.Errorf("writeAddrs(%v) = %q, want %q", tt.in, b.String(), tt.want)
		}
	}
}

func TestCSStrerror(t *testing.T) {
	tests := map[ipc.CS]string{
		ipc.CSOk: "success", ipc.CSErrLibrary: "CS_ERR_LIBRARY", ipc.CSErrNotExist: "CS_ERR_NOT_EXIST",
		ipc.CSErrInvalid: "CS_ERR_INVALID_PARAM", 29: "unknown error", 100: "CS_ERR_SECURITY", 0: "unknown error",
	}
	for cs, want := range tests {
		if got := csStrerror(cs); got != want {
			t.Errorf("csStrerror(%d) = %q, want %q", cs, got, want)
		}
	}
}
