package main

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cpg"
)

// fakeDaemon stands in for corosync's cpg and cfg services.
type fakeDaemon struct {
	entries []cpg.IterationEntry
	addrs   map[uint32][]netip.Addr
	iterErr error
}

func (f *fakeDaemon) Iterate(_ context.Context, typ cpg.IterationType, group string) ([]cpg.IterationEntry, error) {
	if f.iterErr != nil {
		return nil, f.iterErr
	}
	if typ != cpg.IterationNameOnly {
		return f.entries, nil
	}
	var names []cpg.IterationEntry
	for i, e := range f.entries {
		if i == 0 || e.Group != f.entries[i-1].Group {
			names = append(names, cpg.IterationEntry{Group: e.Group})
		}
	}
	return names, nil
}

func (f *fakeDaemon) NodeAddrs(_ context.Context, id uint32) ([]netip.Addr, error) {
	if a, ok := f.addrs[id]; ok {
		return a, nil
	}
	return nil, ipc.CSErrNotExist
}

func (f *fakeDaemon) Close() error { return nil }

func (f *fakeDaemon) deps() deps {
	return deps{
		dialCpg: func(context.Context) (cpgAPI, error) { return f, nil },
		dialCfg: func(context.Context) (cfgAPI, error) { return f, nil },
	}
}

func sample() *fakeDaemon {
	a := netip.MustParseAddr
	return &fakeDaemon{
		entries: []cpg.IterationEntry{
			{Group: "", PID: 7, NodeID: 1}, {Group: "a\\b\x01", PID: 10, NodeID: 1}, {Group: "a\\b\x01", PID: 11, NodeID: 2},
			{Group: "\xe9", PID: 4294967295, NodeID: 9},
		},
		addrs: map[uint32][]netip.Addr{1: {a("10.0.0.1")}, 2: {{}, a("fe80::1"), a("10.1.0.2")}},
	}
}

func runFake(t *testing.T, f *fakeDaemon, args ...string) (string, string, int) {
	t.Helper()
	var so, se bytes.Buffer
	code := run(context.Background(), append([]string{"/usr/sbin/corosync-cpgtool"}, args...), false, &so, &se, f.deps())
	return so.String(), se.String(), code
}

func TestFullOutput(t *testing.T) {
	out, errOut, code := runFake(t, sample())
	// The nameless group's header is not printed (the C tool starts from an empty name);
	// node 2's unused first slot still counts for the space; node 9 has no addresses.
	want := "Group Name\t       PID\t   Node ID\n\t\t         7\t         1 (10.0.0.1)\n" +
		`a\\b\x01` + "\n\t\t        10\t         1 (10.0.0.1)\n\t\t        11\t         2 ( fe80::1 10.1.0.2)\n" +
		`\xFFFFFFE9` + "\n\t\t4294967295\t         9 ()\n"
	if out != want || errOut != "" || code != 0 {
		t.Errorf("code %d stderr %q\n%q\nwant\n%q", code, errOut, out, want)
	}
}

func TestDelimited(t *testing.T) {
	out, _, code := runFake(t, sample(), "-d", ";x", "-e")
	want := "GRP_NAME;PID;NODEID\n;7;1\na\\b\x01;10;1\na\\b\x01;11;2\n\xe9;4294967295;9\n"
	if out != want || code != 0 {
		t.Errorf("%d %q want %q", code, out, want)
	}
	out, _, _ = runFake(t, sample(), "-n", "-d", ",")
	if want := `,a\\b\x01,\xFFFFFFE9,` + "\n"; out != want {
		t.Errorf("-n -d ,: %q want %q", out, want)
	}
	out, _, _ = runFake(t, sample(), "-n")
	if want := "\n" + `a\\b\x01` + "\n" + `\xFFFFFFE9` + "\n"; out != want {
		t.Errorf("-n: %q want %q", out, want)
	}
}

func TestErrors(t *testing.T) {
	f := sample()
	f.iterErr = ipc.CSErrTryAgain
	if out, errOut, code := runFake(t, f); code != 1 || out != "" || errOut != "Cannot initialize cpg iterator error 6\n" {
		t.Errorf("%d %q %q", code, out, errOut)
	}
	d := f.deps()
	d.dialCpg = func(context.Context) (cpgAPI, error) { return nil, ipc.CSErrLibrary }
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"x"}, false, &so, &se, d); code != 1 || se.String() != "Could not initialize corosync cpg API error 2\n" {
		t.Errorf("%d %q", code, se.String())
	}
	if out, errOut, code := runFake(t, f, "-h", "-x"); code != 0 || errOut != "" || !strings.HasPrefix(out, "corosync-cpgtool [-d delimiter]") {
		t.Errorf("-h: %d %q %q", code, out, errOut)
	}
	if out, errOut, code := runFake(t, f, "-x", "-h"); code != 1 || out != "" || errOut != "/usr/sbin/corosync-cpgtool: invalid option -- 'x'\n" {
		t.Errorf("-x: %d %q %q", code, out, errOut)
	}
}

func TestBasename(t *testing.T) {
	for in, want := range map[string]string{"": ".", "/": "/", "a/b/": "b", "//x": "x", "tool": "tool", "./t": "t"} {
		if got := basename(in); got != want {
			t.Errorf("basename(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzGroupName checks the escaping: the escaped name holds printable ASCII only, and
// decodes back to the name.
func FuzzGroupName(f *testing.F) {
	f.Add("plain")
	f.Add("a\\b\x00\x7f\x80\xff")
	f.Fuzz(func(t *testing.T, name string) {
		esc := groupName(name, false)
		for i := 0; i < len(esc); i++ {
			if esc[i] < ' ' || esc[i] >= 0x7f {
				t.Fatalf("%q escaped to %q", name, esc)
			}
		}
		var back []byte
		for i := 0; i < len(esc); {
			switch {
			case strings.HasPrefix(esc[i:], `\\`):
				back, i = append(back, '\\'), i+2
			case strings.HasPrefix(esc[i:], `\xFFFFFF`):
				back, i = append(back, unhex(t, esc[i+8:i+10])), i+10
			case strings.HasPrefix(esc[i:], `\x`):
				back, i = append(back, unhex(t, esc[i+2:i+4])), i+4
			default:
				back, i = append(back, esc[i]), i+1
			}
		}
		if string(back) != name || groupName(name, true) != name {
			t.Fatalf("%q escaped to %q, back to %q", name, esc, back)
		}
	})
}

func unhex(t *testing.T, s string) byte {
	var v byte
	for _, c := range []byte(s) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			t.Fatalf("bad hex %q", s)
		}
	}
	return v
}

// FuzzRun runs the tool on any command line against a fake daemon: no crash, and exit 0
// or 1.
func FuzzRun(f *testing.F) {
	f.Add("-d\x00,")
	f.Add("-ne\x00-d|")
	f.Add("-x\x00-h")
	f.Fuzz(func(t *testing.T, joined string) {
		var so, se bytes.Buffer
		code := run(context.Background(), append([]string{"prog"}, strings.Split(joined, "\x00")...), false, &so, &se, sample().deps())
		if code != 0 && code != 1 {
			t.Fatalf("exit code %d", code)
		}
		if (code == 1) != (se.Len() > 0) {
			t.Fatalf("exit %d with stderr %q", code, se.String())
		}
	})
}
