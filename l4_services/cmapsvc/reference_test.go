package cmapsvc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// cmapctlScript is run by corosync-cmapctl against corosync 3.1.7 and against our service
// on maps that differ only outside the cmp. prefix; every output and exit status must
// match.
func cmapctlScript(bin string) [][]string {
	return [][]string{
		{"-s", "--", "cmp.i8", "i8", "-5"},
		{"-s", "cmp.u8", "u8", "200"},
		{"-s", "--", "cmp.i16", "i16", "-300"},
		{"-s", "cmp.u16", "u16", "60000"},
		{"-s", "--", "cmp.i32", "i32", "-70000"},
		{"-s", "cmp.u32", "u32", "4000000000"},
		{"-s", "--", "cmp.i64", "i64", "-5000000000"},
		{"-s", "cmp.u64", "u64", "18446744073709551615"},
		{"-s", "cmp.flt", "flt", "1.5"},
		{"-s", "--", "cmp.dbl", "dbl", "-2.25"},
		{"-s", "cmp.str", "str", "hello world"},
		{"-s", "cmp.empty", "str", ""},
		{"-s", "cmp.bin", "bin", bin},
		{"-s", "cmp.u8", "u8", "256"},
		{"-s", "cmp.retyped", "u32", "7"},
		{"-s", "cmp.retyped", "str", "now a string"},
		{"-s", "cmp.str", "str", "hello world"}, // the same value again
		{"-s", "cmp." + strings.Repeat("k", 251), "u8", "1"},
		{"-s", "cmp." + strings.Repeat("k", 252), "u8", "1"},
		{"-b", "cmp."},
		{"cmp.u", "cmp.i"},
		{"-g", "cmp.str"},
		{"-g", "cmp.empty"},
		{"-g", "cmp.dbl"},
		{"-q", "-g", "cmp.u64"},
		{"-g", "cmp.none"},
		{"-d", "cmp.none"},
		{"-D", "cmp.none"},
		{"cmp.none"},
		{"-s", "ab", "u8", "1"},
		{"-s", "bad!", "u8", "1"},
		{"-s", "totem.cluster_name", "str", "x"},
		{"-s", "runtime.config.totem.token", "u32", "1"},
		{"-d", "nodelist.node.0.nodeid"},
		{"-d", "cmp.u64"},
		{"-g", "cmp.u64"},
		{"-D", "cmp."},
		{"cmp."},
		{"-m", "stats", "-s", "stats.srp.orf_token_rx", "u64", "5"},
		{"-m", "stats", "-s", "stats.clear.foo", "u32", "1"},
		{"-m", "stats", "-d", "stats.srp.orf_token_rx"},
		{"-m", "stats", "-d", "stats.clear.all"},
		{"-m", "stats", "-g", "stats.none"},
		{"-m", "stats", "-g", "stats.clear.all"},
		{"-m", "stats", "cmp."},
	}
}

// runScript returns one line per command: its arguments, exit status and output.
func runScript(ns *refcorosync.Netns, script [][]string) []string {
	var lines []string
	for _, args := range script {
		out, err := cmapctl(ns, args...)
		status := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			status = exit.ExitCode()
		} else if err != nil {
			status = -1
		}
		lines = append(lines, fmt.Sprintf("%q exit %d: %q", args, status, out))
	}
	return lines
}

func TestCmapctlMatchesReference(t *testing.T) {
	needCmapctl(t)
	ref := refcorosync.Start(t, refcorosync.Options{})
	ours := cmapctlEnv(t, sampleStats())
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(bin, []byte{0, 0x7f, 0x80, 0xff, '\\', 'a'}, 0o600); err != nil {
		t.Fatal(err)
	}

	// Trackers in both, fed the same changes by the script.
	var refKey, refPrefix, ourKey, ourPrefix *tracking
	refKey = startTracking(t, ref.Netns, "-t", "cmp.str")
	refPrefix = startTracking(t, ref.Netns, "-T", "cmp.")
	ourKey = startTracking(t, ours.ns, "-t", "cmp.str")
	ourPrefix = startTracking(t, ours.ns, "-T", "cmp.")

	script := cmapctlScript(bin)
	want := runScript(ref.Netns, script)
	got := runScript(ours.ns, script)
	for i := range script {
		if got[i] != want[i] {
			t.Errorf("corosync-cmapctl differs:\n 3.1.7: %s\n ours:  %s", want[i], got[i])
		}
	}

	refKey.waitLines(t, 2)
	refPrefix.waitLines(t, 16)
	wantKey, wantPrefix := notes(refKey.stop(t)), notes(refPrefix.stop(t))
	ourKey.waitLines(t, len(wantKey))
	ourPrefix.waitLines(t, len(wantPrefix))
	gotKey, gotPrefix := notes(ourKey.stop(t)), notes(ourPrefix.stop(t))
	if strings.Join(gotKey, "\n") != strings.Join(wantKey, "\n") {
		t.Errorf("-t output differs:\n3.1.7:\n%s\nours:\n%s", strings.Join(wantKey, "\n"), strings.Join(gotKey, "\n"))
	}
	if strings.Join(gotPrefix, "\n") != strings.Join(wantPrefix, "\n") {
		t.Errorf("-T output differs:\n3.1.7:\n%s\nours:\n%s", strings.Join(wantPrefix, "\n"), strings.Join(gotPrefix, "\n"))
	}
	if testing.Verbose() {
		t.Logf("3.1.7's -T output, matched:\n%s", strings.Join(wantPrefix, "\n"))
	}
}

// TestGoClientMatchesReference sends requests libcmap never sends (or that corosync-cmapctl
// cannot express) to corosync 3.1.7 and to our service and compares the answers.
func TestGoClientMatchesReference(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	ours := cmapctlEnv(t, sampleStats())
	answers := func(ns *refcorosync.Netns) []string {
		c := dialIn(t, ns, false)
		ctx := testCtx(t)
		raw := rawIn(t, ns)
		var out []string
		note := func(what string, v ...any) { out = append(out, what+": "+fmt.Sprint(v...)) }
		status := func(req []byte, id int32) ipc.CS {
			cs, err := cmap.DecodeStatusResponse(call(t, raw, req), id)
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}
		setRaw := func(key string, typ cmap.Type, data []byte) ipc.CS {
			b := encode(t, cmap.SetRequest{Key: key, Value: cmap.Binary(data)})
			b[cmap.SetRequestBytes-8] = byte(typ)
			return status(b, cmap.ResSet)
		}

		c.Set(ctx, "cmpgo.u8", cmap.Uint8(255))
		c.Set(ctx, "cmpgo.i8", cmap.Int8(-128))
		c.Set(ctx, "cmpgo.str", cmap.String("s"))
		note("inc u8 255", c.Inc(ctx, "cmpgo.u8"))
		v, err := c.Get(ctx, "cmpgo.u8")
		note("u8 after", v, err)
		note("dec i8 -128", c.Dec(ctx, "cmpgo.i8"))
		v, err = c.Get(ctx, "cmpgo.i8")
		note("i8 after", v, err)
		note("inc str", c.Inc(ctx, "cmpgo.str"))
		note("inc absent", c.Inc(ctx, "cmpgo.none"))
		note("inc read-only", c.Inc(ctx, "runtime.config.totem.token"))
		note("delete read-only absent", c.Delete(ctx, "runtime.config.none"))
		note("string with a NUL inside", setRaw("cmpgo.nul", cmap.TypeString, []byte("a\x00b")))
		note("string without NUL", setRaw("cmpgo.nonul", cmap.TypeString, []byte("abc")))
		v, err = c.Get(ctx, "cmpgo.nonul")
		note("read back", v, " ", v.Len(), err)
		note("u32 of 3 bytes", setRaw("cmpgo.short", cmap.TypeUint32, []byte{1, 2, 3}))
		note("value over 16 KiB", setRaw("cmpgo.big", cmap.TypeBinary, make([]byte, cmap.MaxValueBytes+1)))
		note("value of 16 KiB", setRaw("cmpgo.big", cmap.TypeBinary, make([]byte, cmap.MaxValueBytes)))

		for _, room := range []uint64{0, 1, 2, 100} {
			r, err := cmap.DecodeGetResponse(call(t, raw, encode(t, cmap.GetRequest{Key: "cmpgo.str", ValueLen: room})))
			note(fmt.Sprintf("get room %d", room), r.Error, " ", r.Type, " ", r.ValueLen, " ", r.Room, " ", r.Data, " ", err)
		}
		r, err := cmap.DecodeGetResponse(call(t, raw, encode(t, cmap.GetRequest{Key: "cmpgo.none", ValueLen: 8})))
		note("get absent", r.Error, " ", r.Room, " ", err)

		it, _ := cmap.DecodeIterInitResponse(call(t, raw, encode(t, cmap.IterInitRequest{Prefix: "cmpgo.u"})))
		note("iter init", it.Error)
		for range 3 {
			n, err := cmap.DecodeIterNextResponse(call(t, raw, cmap.IterNextRequest{IterHandle: it.IterHandle}.Encode()))
			note("iter next", n.Error, " ", n.Key, " ", n.Type, " ", n.ValueLen, " ", err)
		}
		note("set map while iterating", status(cmap.SetCurrentMapRequest{Map: cmap.MapStats}.Encode(), cmap.ResSetCurrentMap))
		note("iter finalize", status(cmap.IterFinalizeRequest{IterHandle: it.IterHandle}.Encode(), cmap.ResIterFinalize))
		note("iter finalize again", status(cmap.IterFinalizeRequest{IterHandle: it.IterHandle}.Encode(), cmap.ResIterFinalize))
		n, _ := cmap.DecodeIterNextResponse(call(t, raw, cmap.IterNextRequest{IterHandle: it.IterHandle}.Encode()))
		note("iter next finalized", n.Error)

		tr, _ := cmap.DecodeTrackAddResponse(call(t, raw, encode(t, cmap.TrackAddRequest{Key: "cmpgo.", TrackType: 0x10})))
		note("track add bad flags", tr.Error, " ", tr.TrackHandle)
		td, _ := cmap.DecodeTrackDeleteResponse(call(t, raw, cmap.TrackDeleteRequest{TrackHandle: 12345}.Encode()))
		note("track delete unknown", td.Error, " ", td.TrackInstHandle)

		note("set map 2", status(cmap.SetCurrentMapRequest{Map: 2}.Encode(), cmap.ResSetCurrentMap))
		unknown := call(t, raw, withHeader(10, make([]byte, 8)))
		note("unknown request", binary.LittleEndian.Uint32(unknown), " ", len(unknown), " ", ipc.ResponseError(unknown))

		note("set map stats", status(cmap.SetCurrentMapRequest{Map: cmap.MapStats}.Encode(), cmap.ResSetCurrentMap))
		tr, _ = cmap.DecodeTrackAddResponse(call(t, raw, encode(t, cmap.TrackAddRequest{Key: "stats.", TrackType: cmap.TrackAdd | cmap.TrackPrefix})))
		note("stats prefix track without delete", tr.Error)
		tr, _ = cmap.DecodeTrackAddResponse(call(t, raw, encode(t, cmap.TrackAddRequest{Key: "stats.srp.", TrackType: all | cmap.TrackPrefix})))
		note("stats prefix track", tr.Error)
		note("set map back while tracking", status(cmap.SetCurrentMapRequest{Map: cmap.MapICMAP}.Encode(), cmap.ResSetCurrentMap))
		note("adjust a stat", status(encode(t, cmap.AdjustIntRequest{Key: "stats.srp.orf_token_rx", Step: 1}), cmap.ResAdjustInt))
		note("adjust a clear key", status(encode(t, cmap.AdjustIntRequest{Key: "stats.clear.all", Step: 1}), cmap.ResAdjustInt))
		r, _ = cmap.DecodeGetResponse(call(t, raw, encode(t, cmap.GetRequest{Key: "stats.srp.orf_token_rx"})))
		note("stats length query", r.Error, " ", r.Type, " ", r.ValueLen)
		return out
	}
	want, got := answers(ref.Netns), answers(ours.ns)
	if len(want) != len(got) {
		t.Fatalf("%d answers from 3.1.7, %d from ours", len(want), len(got))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("differs:\n 3.1.7: %s\n ours:  %s", want[i], got[i])
		}
	}
	if testing.Verbose() {
		t.Logf("3.1.7's answers, matched:\n%s", strings.Join(want, "\n"))
	}
}

// TestStatsTrackingMatchesReference checks on corosync 3.1.7 and on our service what
// exec/stats.c does with stats trackers: a key tracker gets modify notifications as the
// value changes, a prefix tracker gets none, only create and delete ones as keys come and
// go (here: the per-connection stats.ipcs.* keys of a short-lived client).
func TestStatsTrackingMatchesReference(t *testing.T) {
	needCmapctl(t)
	ref := refcorosync.Start(t, refcorosync.Options{})
	stats := sampleStats()
	ours := cmapctlEnv(t, stats)
	for _, side := range []struct {
		name string
		ns   *refcorosync.Netns
		// act makes the changes corosync makes by itself: the token counter moves, and a
		// client connects and goes, adding and removing its stats.ipcs keys.
		act func()
	}{
		{"corosync 3.1.7", ref.Netns, func() { cmapctl(ref.Netns, "-m", "stats", "-g", "stats.srp.orf_token_rx") }},
		{"ours", ours.ns, func() {
			stats.put("stats.srp.orf_token_rx", cmap.Uint64(100))
			stats.put("stats.ipcs.service0.9.0x9.requests", cmap.Uint64(1))
			waitFor(t, "the poller saw the new key", func() bool { return pollsSeen(ours, "stats.ipcs.service0.9.0x9.requests") })
			stats.remove("stats.ipcs.service0.9.0x9.requests")
			stats.put("stats.srp.orf_token_rx", cmap.Uint64(101))
		}},
	} {
		t.Run(side.name, func(t *testing.T) {
			key := startTracking(t, side.ns, "-m", "stats", "-t", "stats.srp.orf_token_rx")
			srp := startTracking(t, side.ns, "-m", "stats", "-T", "stats.srp.")
			ipcs := startTracking(t, side.ns, "-m", "stats", "-T", "stats.ipcs.")
			side.act()
			key.waitLines(t, 2) // two changes seen: the prefix tracker had its chances
			ipcs.waitFor(t, func(s string) bool { return strings.Contains(s, "delete> ") })
			for _, l := range notes(key.stop(t)) {
				if !strings.HasPrefix(l, "modify> stats.srp.orf_token_rx (u64) = ") {
					t.Errorf("key tracker: %q", l)
				}
			}
			if got := notes(srp.stop(t)); len(got) != 0 {
				t.Errorf("prefix tracker got %q", got)
			}
			for _, l := range notes(ipcs.stop(t)) {
				if !strings.HasPrefix(l, "create> stats.ipcs.service0.") && !strings.HasPrefix(l, "delete> stats.ipcs.service0.") {
					t.Errorf("ipcs prefix tracker: %q", l)
				}
			}
		})
	}
}

// pollsSeen reports whether every stats prefix tracker of e has seen key.
func pollsSeen(e *env, key string) bool {
	e.svc.stats.mu.Lock()
	defer e.svc.stats.mu.Unlock()
	for tr := range e.svc.stats.tracks {
		if tr.flags&cmap.TrackPrefix != 0 && strings.HasPrefix(key, tr.key) {
			if _, ok := tr.stats.known[key]; !ok {
				return false
			}
		}
	}
	return true
}
