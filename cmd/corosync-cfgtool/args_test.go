package main

import (
	"strings"
	"testing"
)

// The expected messages were checked against Debian's corosync-cfgtool 3.1.7 (and are
// again, through the whole tool, by TestArgsSameAsDebian).
func TestParseArgs(t *testing.T) {
	const p = "corosync-cfgtool"
	tests := []struct {
		args  string
		posix bool
		want  options
		err   string
	}{
		{args: "", want: options{}},
		{args: "-h", want: options{}},
		{args: "-r", want: options{}},
		{args: "-s", want: options{action: actionLinkStatus}},
		{args: "-sb", want: options{action: actionLinkStatus, brief: true}},
		{args: "-b -i 127.0.0.1 -s", want: options{action: actionLinkStatus, brief: true, iface: "127.0.0.1"}},
		{args: "-i127.0.0.1 -n", want: options{action: actionNodeStatus, iface: "127.0.0.1"}},
		{args: "-s -n", want: options{action: actionNodeStatus}},
		{args: "-n -s -h", want: options{action: actionLinkStatus}},
		{args: "-R", want: options{action: actionReload}},
		{args: "--reload", want: options{action: actionReload}},
		{args: "--reo", want: options{action: actionReopenLogs}},
		{args: "-L", want: options{action: actionReopenLogs}},
		{args: "-H --force", want: options{action: actionShutdown, force: true}},
		{args: "--fo --shut", want: options{action: actionShutdown, force: true}},
		{args: "-H", want: options{action: actionShutdown}},
		{args: "-k 5", want: options{action: actionKillNode, nodeID: 5}},
		{args: "-k5", want: options{action: actionKillNode, nodeID: 5}},
		{args: "-k +5", want: options{action: actionKillNode, nodeID: 5}},
		{args: "--kill=4294967295", want: options{action: actionKillNode, nodeID: 4294967295}},
		{args: "--kil 7", want: options{action: actionKillNode, nodeID: 7}},
		{args: "-a 3", want: options{action: actionShowAddrs, nodeID: 3}},
		{args: "--address=3 -k 4", want: options{action: actionKillNode, nodeID: 4}},
		{args: "foo -s bar", want: options{action: actionLinkStatus}},
		{args: "foo -s", posix: true, want: options{}},
		{args: "-s -- -x", want: options{action: actionLinkStatus}},
		{args: "- -s", want: options{action: actionLinkStatus}},
		{args: "-x", err: p + ": invalid option -- 'x'\n"},
		{args: "-sx", err: p + ": invalid option -- 'x'\n"},
		{args: "-:", err: p + ": invalid option -- ':'\n"},
		{args: "-k", err: p + ": option requires an argument -- 'k'\n"},
		{args: "-sk", err: p + ": option requires an argument -- 'k'\n"},
		{args: "-i", err: p + ": option requires an argument -- 'i'\n"},
		{args: "--foo=bar", err: p + ": unrecognized option '--foo=bar'\n"},
		{args: "--h", err: p + ": unrecognized option '--h'\n"},
		{args: "--re", err: p + ": option '--re' is ambiguous; possibilities: '--reload' '--reopen'\n"},
		{args: "--re=5", err: p + ": option '--re=5' is ambiguous; possibilities: '--reload' '--reopen'\n"},
		{args: "--s", err: p + ": option '--s' is ambiguous; possibilities: '--status' '--shutdown'\n"},
		{args: "--=x", err: p + ": option '--=x' is ambiguous; possibilities: '--if' '--status' '--nodes' '--brief' '--reload' '--reopen' '--kill' '--address' '--shutdown' '--force'\n"},
		{args: "--force=", err: p + ": option '--force' doesn't allow an argument\n"},
		{args: "--stat=1", err: p + ": option '--status' doesn't allow an argument\n"},
		{args: "--kill", err: p + ": option '--kill' requires an argument\n"},
		{args: "--i", err: p + ": option '--if' requires an argument\n"},
		{args: "-k 0", err: badNodeID},
		{args: "-k -5", err: badNodeID},
		{args: "-k 00", err: badNodeID},
		{args: "-a 0x5", err: badNodeID},
		{args: "-k 4294967296", err: badNodeID},
		{args: "-ks", err: badNodeID},
		{args: "--kill=", err: badNodeID},
		{args: "-k -- -x", err: badNodeID},
		{args: "-k 0 -x", err: badNodeID},
		{args: "-x -k 0", err: p + ": invalid option -- 'x'\n"},
	}
	for _, tt := range tests {
		o, err := parseArgs(p, strings.Fields(tt.args), tt.posix)
		if tt.err != "" {
			if err == nil || err.Msg != tt.err {
				t.Errorf("parseArgs(%q) error = %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.args, err)
			continue
		}
		if o != tt.want {
			t.Errorf("parseArgs(%q) = %+v, want %+v", tt.args, o, tt.want)
		}
	}
}

func TestParseArgsEmptyArgument(t *testing.T) {
	if _, err := parseArgs("x", []string{"-k", ""}, false); err == nil || err.Msg != badNodeID {
		t.Errorf("-k '': %v", err)
	}
	o, err := parseArgs("x", []string{"-k", " \t5"}, false)
	if err != nil || o.nodeID != 5 {
		t.Errorf("-k ' \\t5' = %+v, %v", o, err)
	}
	// A non-ASCII option byte is echoed as the raw byte, as C's %c does.
	if _, err := parseArgs("x", []string{"-\xe9"}, false); err == nil || err.Msg != "x: invalid option -- '\xe9'\n" {
		t.Errorf("-\\xe9: %q", err.Msg)
	}
}

func TestParseNodeID(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"1", 1, true}, {"+1", 1, true}, {" 42", 42, true}, {"\v\f\r\n\t7", 7, true},
		{"4294967295", 4294967295, true}, {"0004294967295", 4294967295, true},
		{"", 0, false}, {"0", 0, false}, {"-0", 0, false}, {"-1", 0, false}, {"+", 0, false},
		{"4294967296", 0, false}, {"99999999999999999999999", 0, false}, {"1 ", 0, false},
		{"1x", 0, false}, {"0x10", 0, false}, {"1e3", 0, false}, {"--1", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseNodeID(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseNodeID(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
