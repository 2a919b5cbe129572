package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc/votequorum"
)

func TestWriteMembersQdevice(t *testing.T) {
	reg := votequorum.InfoQdeviceRegistered
	infos := []votequorum.Info{
		{Votes: 1, Flags: reg | votequorum.InfoQdeviceAlive | votequorum.InfoQdeviceCastVote, QdeviceVotes: 2, QdeviceName: "Qnet"},
		{Votes: 2, Flags: reg | votequorum.InfoQdeviceMasterWins},
		{Votes: 3},
	}
	members := []member{{5, "e"}, {2, "b"}, {9, "a"}}
	var b bytes.Buffer
	writeMembers(&b, options{}, members, infos, true, 5)
	want := "\nMembership information\n----------------------\n    Nodeid      Votes    Qdevice Name\n" +
		"         5          1    A,V,NMW e (local)\n         2          2   NA,NV,MW b\n         9          3         NR a\n" +
		"         0          2            Qnet\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	// Sorted by id, the rows keep the daemon's order of information (3.1.7's pairing),
	// and the local node's flags come from its row: no vote cast, so the device shows 0.
	b.Reset()
	writeMembers(&b, options{sort: sortNodeID, hexIDs: true}, members, infos, true, 5)
	want = "\nMembership information\n----------------------\n    Nodeid      Votes    Qdevice Name\n" +
		"0x00000002          1    A,V,NMW b\n0x00000005          2   NA,NV,MW e (local)\n0x00000009          3         NR a\n" +
		"0x00000000          0            Qnet (votes 2)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteMembersPlain(t *testing.T) {
	members := []member{{30, "alpha"}, {10, ""}, {20, "beta"}}
	var b bytes.Buffer
	writeMembers(&b, options{sort: sortNodeName}, members, make([]votequorum.Info, 3), false, 7)
	want := "\nMembership information\n----------------------\n    Nodeid Name\n        10 \n        30 alpha\n        20 beta\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	writeMembers(&b, options{parsable: true}, []member{{4294967295, "x"}}, []votequorum.Info{{Votes: 4294967295}}, true, 4294967295)
	if want := "    Nodeid      Votes    Qdevice Name\n4294967295 4294967295         NR x (local)\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("got\n%s\nwant suffix\n%s", b.String(), want)
	}
}

func TestWriteVotequorum(t *testing.T) {
	var b bytes.Buffer
	all := votequorum.InfoFlags(0x3ff)
	writeVotequorum(&b, votequorum.Info{ExpectedVotes: 3, HighestExpected: 4, TotalVotes: 5, Quorum: 3, Flags: all})
	want := "\nVotequorum information\n----------------------\nExpected votes:   3\nHighest expected: 4\nTotal votes:      5\n" +
		"Quorum:           3  \nFlags:            2Node Quorate WaitForAll LastManStanding AutoTieBreaker AllowDownscale Qdevice \n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	writeVotequorum(&b, votequorum.Info{Quorum: 2})
	if !strings.HasSuffix(b.String(), "Quorum:           2 Activity blocked\nFlags:            \n") {
		t.Errorf("got\n%s", b.String())
	}
}

func TestPadded(t *testing.T) {
	for in, want := range map[string]string{"": "           ", "Nodeid": "    Nodeid ", "0123456789": "0123456789 ", "01234567890": "01234567890 "} {
		if got := padded(in); got != want {
			t.Errorf("padded(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNodeIDKeyPos(t *testing.T) {
	cases := map[string]int64{
		"nodelist.node.0.nodeid": 0, "nodelist.node.12.nodeid": 12, "nodelist.node.3.name": -1, "nodelist.node..nodeid": -1,
		"nodelist.node.x.nodeid": -1, "nodelist.node.1.nodeid.x": -1, "nodelist.local_node_pos": -1, "totem.nodeid": -1,
	}
	for key, want := range cases {
		pos, ok := nodeIDKeyPos(key)
		if (want < 0) == ok || (ok && int64(pos) != want) {
			t.Errorf("nodeIDKeyPos(%q) = %d, %v; want %d", key, pos, ok, want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		args           []string
		want           options
		done           bool
		code           int
		stdout, stderr string
	}{
		{args: nil, want: options{}},
		{args: []string{"-l", "-aipH", "-o", "n"}, want: options{cmd: cmdShowNodes, allAddrs: true, numeric: true, parsable: true, hexIDs: true, sort: sortNodeName}},
		{args: []string{"-v", "3", "-n", "7"}, want: options{cmd: cmdSetVotes, votes: 3, nodeID: 7, nodeIDSet: true}},
		{args: []string{"-v", "3", "-e", "5"}, want: options{cmd: cmdSetExpected, votes: 5}},
		{args: []string{"-e", "5", "-m"}, want: options{cmd: cmdMonitor, votes: 5}},
		{args: []string{"-V", "-x"}, done: true, stdout: "corosync-quorumtool version: 3.1.7\n"},
		{args: []string{"-e", "0", "-x"}, done: true, code: 1, stderr: "New expected votes value was not valid, try a positive number\n"},
		{args: []string{"-x", "-e", "0"}, done: true, code: 1, stderr: "prog: invalid option -- 'x'\n", stdout: usage("prog")},
		{args: []string{"-o", "x"}, done: true, code: 1, stderr: "Invalid ordering option. valid orders are a(address), i(node ID) or n(name)\n"},
		{args: []string{"-n", "-1"}, done: true, code: 1, stderr: "The nodeid was not valid, try a positive number\n"},
		{args: []string{"-v", "x"}, done: true, code: 1, stderr: "New votes value was not valid, try a positive number or zero\n"},
		{args: []string{"-h"}, done: true, stdout: usage("prog")},
	}
	for _, c := range cases {
		var so, se bytes.Buffer
		o, done, code := parseArgs("prog", c.args, false, &so, &se)
		if done != c.done || code != c.code || so.String() != c.stdout || se.String() != c.stderr || (!done && o != c.want) {
			t.Errorf("%q: %+v %v %d %q %q", c.args, o, done, code, so.String(), se.String())
		}
	}
}

// FuzzRun runs the tool on any command line against a daemon that cannot be reached:
// it must not crash, exit 0 or 1 only, and print only usage, version, getopt's and the
// tool's own messages.
func FuzzRun(f *testing.F) {
	f.Add("-s\x00-H")
	f.Add("-e\x00 +5\x00-o\x00i")
	f.Add("-x\x00-V")
	f.Add("-n\x0099999999999\x00-v\x001")
	f.Fuzz(func(t *testing.T, joined string) {
		d := threeNodes().deps()
		d.dialCmap = func(context.Context) (cmapAPI, error) { return nil, errNoHandle }
		var so, se bytes.Buffer
		code := run(context.Background(), append([]string{"prog"}, strings.Split(joined, "\x00")...), false, &so, &se, d)
		out, errOut := so.String(), se.String()
		switch {
		case code != 0 && code != 1:
			t.Fatalf("exit code %d", code)
		case out != "" && out != usage("prog") && out != "corosync-quorumtool version: 3.1.7\n":
			t.Fatalf("stdout %q", out)
		case code == 0 && errOut != "":
			t.Fatalf("exit 0 with stderr %q", errOut)
		case code == 1 && errOut == "":
			t.Fatal("exit 1 without a message")
		case errOut != "" && !strings.HasSuffix(errOut, "\n"):
			t.Fatalf("stderr %q", errOut)
		}
	})
}
