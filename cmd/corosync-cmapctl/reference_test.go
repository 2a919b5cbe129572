package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// The reference tests run Debian's corosync-cmapctl 3.1.7 and this one, built from this
// package, inside the reference daemon's network namespace with the same arguments, and
// compare their stdout, stderr and exit codes byte for byte.

// fixture is a key of every type, loaded with -p before the cases that change keys.
func (r *rig) fixture() (reset func(), allBytes string) {
	var b []byte
	for c := range 256 {
		b = append(b, byte(c))
	}
	allBytes = r.file("allbytes", b)
	conf := r.file("fixture", []byte(`cmt.i8 i8 -5
cmt.u8 u8 200
cmt.i16 i16 -300
cmt.u16 u16 60000
cmt.i32 i32 -70000
cmt.u32 u32 4000000000
cmt.i64 i64 -5000000000
cmt.u64 u64 18446744073709551615
cmt.flt flt 3.14159
cmt.dbl dbl 2.718281828
cmt.str str hello
cmt.bin bin `+allBytes+`
`))
	return func() {
		r.t.Helper()
		r.ref("-D", "cmt.")
		if res := r.ref("-p", conf); res.code != 0 || res.stderr != "" {
			r.t.Fatalf("loading the fixture: %v", res)
		}
	}, allBytes
}

// setEmptyBinary stores a zero-length binary with our client library (3.1.7's tool
// cannot: libcmap refuses a value without data), to see how both tools print it.
func setEmptyBinary(t *testing.T, ref *refcorosync.Instance, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var c *cmap.Client
	if err := ref.Do(func() (err error) { c, err = cmap.Dial(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, key, cmap.Binary(nil)); err != nil {
		t.Fatalf("set %s: %v", key, err)
	}
}

var statsConn = regexp.MustCompile(`^stats\.ipcs\.service(\d+)\.\d+\.0x[0-9a-f]+\.`)

// normalizeStats hides the pid and connection pointer in the names of the stats of an IPC
// connection.
func normalizeStats(head string) string {
	return statsConn.ReplaceAllString(head, "stats.ipcs.service$1.PID.CONN.")
}

func TestAgainstReference(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	shmBefore := refcorosync.ShmNames()
	r := newRig(t, ref)
	reset, allBytes := r.fixture()
	reset()
	setEmptyBinary(t, ref, "cmz.empty")
	long := strings.Repeat("k", 256)
	bigBin := r.file("big", bytes.Repeat([]byte{'x'}, 20000))
	hugeBin := r.file("huge", bytes.Repeat([]byte{'y'}, 1<<20))
	afterSet := func(key string) [][]string { return [][]string{{"-b", "-g", key}} }

	t.Run("help and options", func(t *testing.T) {
		for _, args := range [][]string{
			{"-h"}, {"-h", "-x"}, {"-x", "-h"}, {"-x"}, {"--foo"}, {"-m"}, {"-p"}, {"-C"}, {"-:"},
			{"-g"}, {"-s"}, {"-d"}, {"-D"}, {"-t"}, {"-T"}, {"-bq", "-g"},
			{"-m", "bogus"}, {"-m", "icmap", "-m", "bogus", "cmt.u8"}, {"-C", "bogus"}, {"-C", "all", "-x"},
			{"-s", "cmt.x", "u8", "-1"}, {"--", "-g"}, {"cmt.u8", "-g"},
		} {
			r.compare(t, cmpCase{args: args}, reset)
		}
	})

	t.Run("list", func(t *testing.T) {
		for _, args := range [][]string{
			{"cmt."}, {"-b", "cmt."}, {"-q", "cmt."}, {"-q", "-b", "cmt."}, {"cmt.u", "cmt.i"},
			{"nope."}, {"nope.", "cmt.s"}, {"nope.", "none."}, {"totem."}, {"-b", "cmz."}, {"cmz."},
			{"-q", "-b", "cmz."}, {long}, {strings.Repeat("k", 255)}, {"-b", "-m", "icmap", "cmt.bin"},
		} {
			r.compare(t, cmpCase{args: args}, reset)
		}
		everything := func(string) bool { return true }
		r.compareVolatile(t, nil, func(s string) string { return s }, everything)
		r.compareVolatile(t, []string{"-b"}, func(s string) string { return s }, everything)
		r.compareVolatile(t, []string{"-q", "runtime.", "totem."}, func(s string) string { return s }, everything)
	})

	t.Run("get", func(t *testing.T) {
		for _, k := range []string{"i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "flt", "dbl", "str", "bin"} {
			r.compare(t, cmpCase{args: []string{"-g", "cmt." + k}}, reset)
			r.compare(t, cmpCase{args: []string{"-b", "-q", "-g", "cmt." + k}}, reset)
		}
		for _, args := range [][]string{
			{"-b", "-g", "cmt.bin"}, {"-g", "nope"}, {"-g", "cmt.u8", "nope", "cmt.i8"}, {"-g", "cmt.u8", "cmt.str"},
			{"-g", long}, {"-g", strings.Repeat("k", 255)}, {"-b", "-g", "cmz.empty"}, {"-g", "cmz.empty"},
			{"-g", "totem.cluster_name"}, {"-g", ""},
		} {
			r.compare(t, cmpCase{args: args}, reset)
		}
	})

	t.Run("set", func(t *testing.T) {
		values := map[string][]string{
			"i8":  {"127", "128", "-128", "-129", " 5", "5x", "x", "", "+3", "-", "0x10", "99999999999999999999"},
			"u8":  {"255", "256", "-1", "-0"},
			"i16": {"32767", "32768", "-32768", "-32769"},
			"u16": {"65535", "65536"},
			"i32": {"2147483647", "2147483648", "-2147483649"},
			"u32": {"4294967295", "4294967296", "-4294967295"},
			"i64": {"9223372036854775807", "9223372036854775808", "-99999999999999999999"},
			"u64": {"18446744073709551615", "18446744073709551616", "-5"},
			"flt": {"1.5", "1e", "1e+", "inf", "-inf", "nan", "-nan", "0x1.8", "1e40", "infinity", "in", "1e-50", ".5", ".", "3.14159265358979", "0x", "0x.", "1e-45"},
			"dbl": {"1e308", "1e309", "1e-310", "2.5e-6", "0.0078125", "-0", "nan(12)", "0x1p-1074"},
			"str": {"a b", "", "r(0) ip(127.0.0.1) ", "\x01\xff"},
		}
		for typ, vals := range values {
			for _, v := range vals {
				key := "cmt.new." + typ
				r.compare(t, cmpCase{args: []string{"-s", "--", key, typ, v}, reset: true, check: afterSet(key)}, reset)
			}
		}
		for _, c := range []cmpCase{
			{args: []string{"-s", "cmt.u8", "u8", "7"}, check: afterSet("cmt.u8")},
			{args: []string{"-s", "cmt.u8", "str", "now a string"}, check: afterSet("cmt.u8")},
			{args: []string{"-s", "cmt.nb", "bin", allBytes}, check: afterSet("cmt.nb")},
			{args: []string{"-s", "cmt.nb", "bin", "-"}, stdin: "\x00from stdin\xff\\", check: afterSet("cmt.nb")},
			{args: []string{"-s", "cmt.nb", "bin", "/dev/null"}, check: afterSet("cmt.nb")},
			{args: []string{"-s", "cmt.nb", "bin", r.tmp}, check: afterSet("cmt.nb")},
			{args: []string{"-s", "cmt.nb", "bin", "/nonexistent/file"}, check: afterSet("cmt.nb")},
			{args: []string{"-s", "cmt.nb", "bin", bigBin}, check: afterSet("cmt.nb")},
			{args: []string{"-s", "cmt.nb", "bin", hugeBin}, check: afterSet("cmt.nb")},
			{args: []string{"-s", long, "bin", hugeBin}},
			{args: []string{"-s", long, "u8", "1"}},
			{args: []string{"-s", "cmt.x", "xyz", "1"}},
			{args: []string{"-s", "cmt.x", "u8"}},
			{args: []string{"-s", "cmt.x", "u8", "1", "extra"}, check: afterSet("cmt.x")},
			{args: []string{"-s", "totem.cluster_name", "str", "other"}},
			{args: []string{"-s", "a", "u8", "1"}},
			{args: []string{"-s", "ok$", "u8", "1"}},
			{args: []string{"-m", "stats", "-s", "stats.foo", "u8", "1"}},
		} {
			c.reset = true
			r.compare(t, c, reset)
		}
	})

	t.Run("delete", func(t *testing.T) {
		cmt := [][]string{{"cmt."}}
		for _, args := range [][]string{
			{"-d", "cmt.u8"}, {"-d", "nope"}, {"-d", "cmt.u8", "nope", "cmt.i8"}, {"-d", "totem.cluster_name"},
			{"-d", long}, {"-D", "cmt.u"}, {"-D", "nope.", "cmt.i"}, {"-D", "totem.cluster"}, {"-D", long},
			{"-m", "stats", "-d", "stats.ipcs.global.active"},
		} {
			r.compare(t, cmpCase{args: args, reset: true, check: cmt}, reset)
		}
	})

	t.Run("load", func(t *testing.T) {
		cmt := [][]string{{"-b", "cmt."}}
		files := map[string]string{
			"mixed":      "# comment\n\n   \t\n  cmt.p.a u8 5 extra\ncmt.p.b str hello\n^cmt.u8\n^cmt.none\n^^cmt.i\ncmt.p.c bin " + allBytes + "\n",
			"tab":        "cmt.p.a u8 5\ncmt.p.c\tu8\t1\ncmt.p.d u8 1\n",
			"incomplete": "cmt.p.a u8 5\ncmt.p.b\ncmt.p.d u8 1\n",
			"blank end":  "cmt.p.a u8 7\n   ",
			"crlf":       "cmt.p.x u8 7\r\n",
			"bad value":  "cmt.p.z u8 300\ncmt.p.y u8 1\n",
			"no newline": "cmt.p.q u8 1",
			"caret":      "^\n",
			"long line":  "cmt.p.long str " + strings.Repeat("v", 1100) + "\n",
			"long key":   strings.Repeat("k", 1030) + " u8 1\n",
			"nul":        "cmt.p.n u8 1\x00 junk\n\x00\n",
			"read-only":  "totem.cluster_name str x\n",
			"bad type":   "cmt.p.a u9 1\n",
		}
		for name, data := range files {
			p := r.file(strings.ReplaceAll(name, " ", "-")+".conf", []byte(data))
			r.compare(t, cmpCase{args: []string{"-p", p}, reset: true, check: cmt}, reset)
		}
		for _, args := range [][]string{{"-p", "/nonexistent"}, {"-p", r.tmp}, {"-p", "-"}} {
			r.compare(t, cmpCase{args: args, reset: true, check: cmt}, reset)
		}
	})

	t.Run("stats", func(t *testing.T) {
		shape := func(string) bool { return false }
		r.compareVolatile(t, []string{"-m", "stats"}, normalizeStats, shape)
		r.compareVolatile(t, []string{"-m", "stats", "stats.ipcs."}, normalizeStats,
			func(h string) bool { return strings.HasSuffix(h, ".procname (str)") })
		r.compareVolatile(t, []string{"-m", "stats", "-g", "stats.ipcs.global.active"}, normalizeStats, shape)
		for _, args := range [][]string{{"-m", "stats", "nope."}, {"-m", "stats", "-g", "nope"}, {"-C", "bogus"}} {
			r.compare(t, cmpCase{args: args}, reset)
		}
		r.compare(t, cmpCase{args: []string{"-C", "all"}}, reset)
		r.compare(t, cmpCase{args: []string{"-C", "ipc", "-m", "icmap"}, check: [][]string{{"-g", "stats.clear.ipc"}, {"-d", "stats.clear.ipc"}}}, reset)
	})

	t.Run("track", func(t *testing.T) {
		r.compareTracking(t, ref, allBytes)
		// The end of stdin (/dev/null) stops tracking at once.
		r.compare(t, cmpCase{args: []string{"-T", "cmt."}}, reset)
		r.compare(t, cmpCase{args: []string{"-t", long}}, reset)
	})

	// Last: it shuts the daemon down.
	t.Run("daemon leaves while tracking", func(t *testing.T) {
		trackers := r.startTrackers(t, ref, [][]string{{"-T", "cmt."}})
		// The end of a stdin pipe does not stop tracking.
		for _, tr := range trackers {
			tr.stdin.Close()
		}
		time.Sleep(300 * time.Millisecond)
		for _, tr := range trackers {
			select {
			case <-tr.done:
				t.Fatalf("%s stopped tracking at the end of its stdin pipe:\n%s%s", tr.cmd.Args, tr.out.String(), tr.errOut.String())
			default:
			}
		}
		if res := r.runTool(ref, "corosync-cfgtool", "-H"); res.code != 0 {
			t.Fatalf("corosync-cfgtool -H: %v", res)
		}
		if res := r.finishTrackers(t, trackers, false); res[0].stderr != "Dispatch error CS_ERR_LIBRARY\n" {
			t.Errorf("the reference printed %v", res[0])
		}
	})

	if left := refcorosync.ShmLeftovers(shmBefore, 2*time.Second); len(left) > 0 {
		t.Errorf("/dev/shm leftovers: %v", left)
	}
}

func TestAgainstReferenceWithoutDaemon(t *testing.T) {
	ns := refcorosync.NewNetns(t)
	r := newRig(t, ns)
	for _, args := range [][]string{
		nil, {"-g", "x"}, {"-s", "k", "xyz", "1"}, {"-s", "k"}, {"-m", "stats"}, {"-T", "x"}, {"-p", "/nonexistent"},
		{"-h"}, {"-x"}, {"-g"}, {"-C", "all"},
	} {
		r.compare(t, cmpCase{args: args}, nil)
	}
}
