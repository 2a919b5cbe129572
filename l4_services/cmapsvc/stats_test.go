package cmapsvc

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

func sampleStats() *fakeStats {
	return newFakeStats(map[string]icmap.Value{
		"stats.srp.orf_token_rx":             cmap.Uint64(46),
		"stats.srp.firewall_enabled":         cmap.Uint8(0),
		"stats.ipcs.global.active":           cmap.Uint64(2),
		"stats.ipcs.service0.1.0x1.procname": cmap.String("corosync-cmapct"),
		"stats.schedmiss.0.delay":            cmap.Float(12.5),
	})
}

func TestStatsMap(t *testing.T) {
	stats := sampleStats()
	e := newEnv(t, Config{Stats: stats})
	e.m.Set("totem.token", cmap.Uint32(1000))
	c := e.dial(t, true)
	ctx := testCtx(t)

	entries, err := c.Iter(ctx, "stats.srp.")
	if err != nil {
		t.Fatal(err)
	}
	want := []cmap.Entry{{Key: "stats.srp.firewall_enabled", Len: 1, Type: cmap.TypeUint8}, {Key: "stats.srp.orf_token_rx", Len: 8, Type: cmap.TypeUint64}}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("iter: %+v", entries)
	}
	if all, _ := c.Iter(ctx, ""); len(all) != 5 {
		t.Errorf("the stats map lists %d keys, want 5 (and no icmap key): %+v", len(all), all)
	}
	for k, want := range map[string]cmap.Value{
		"stats.srp.orf_token_rx":             cmap.Uint64(46),
		"stats.ipcs.service0.1.0x1.procname": cmap.String("corosync-cmapct"),
		"stats.schedmiss.0.delay":            cmap.Float(12.5),
	} {
		if v, err := c.Get(ctx, k); err != nil || !v.Equal(want) {
			t.Errorf("get %s: %v %v", k, v, err)
		}
	}
	if _, err := c.Get(ctx, "totem.token"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("icmap key on the stats map: %v", err)
	}

	// Length-only queries, which 3.1.7 crashes on for stats.schedmiss.*, and too little
	// room, which it overruns.
	raw := e.raw(t)
	if cs, _ := cmap.DecodeStatusResponse(call(t, raw, cmap.SetCurrentMapRequest{Map: cmap.MapStats}.Encode()), cmap.ResSetCurrentMap); cs != ipc.CSOk {
		t.Fatalf("set current map: %v", cs)
	}
	for _, k := range []string{"stats.schedmiss.0.delay", "stats.ipcs.service0.1.0x1.procname"} {
		r, err := cmap.DecodeGetResponse(call(t, raw, encode(t, cmap.GetRequest{Key: k})))
		v, _ := stats.Get(k)
		if err != nil || r.Error != ipc.CSOk || r.Type != v.Type() || r.ValueLen != uint64(v.Len()) || r.Data != nil {
			t.Errorf("length query of %s: %+v %v", k, r, err)
		}
	}
	if r, _ := cmap.DecodeGetResponse(call(t, raw, encode(t, cmap.GetRequest{Key: "stats.srp.orf_token_rx", ValueLen: 4}))); r.Error != ipc.CSErrInvalid {
		t.Errorf("get with 4 bytes of room for a u64: %+v", r)
	}

	// Writes: refused but for the clear keys.
	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	check("set a stat", c.Set(ctx, "stats.srp.orf_token_rx", cmap.Uint64(5)), ipc.CSErrAccess)
	check("set a new key", c.Set(ctx, "mykey.x", cmap.Uint64(5)), ipc.CSErrAccess)
	check("delete a stat", c.Delete(ctx, "stats.srp.orf_token_rx"), ipc.CSErrAccess)
	check("inc a stat", c.Inc(ctx, "stats.srp.orf_token_rx"), ipc.CSErrAccess)
	check("delete a clear key", c.Delete(ctx, "stats.clear.all"), ipc.CSErrNotSupport)
	check("inc a clear key", c.Inc(ctx, "stats.clear.all"), ipc.CSErrNotSupport)
	check("unknown clear key", c.Set(ctx, "stats.clear.foo", cmap.Uint32(1)), ipc.CSErrNotSupport)
	check("clear all", c.Set(ctx, "stats.clear.all", cmap.Uint32(1)), nil)
	check("clear totem", c.Set(ctx, "stats.clear.totem", cmap.String("x")), nil)
	check("clear ipc, prefix match", c.Set(ctx, "stats.clear.ipcfoo", cmap.Uint8(0)), nil)
	if got, want := stats.clearedList(), []string{"all", "totem", "ipc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cleared %v, want %v", got, want)
	}
	if v, _ := stats.Get("stats.srp.orf_token_rx"); v.Uint64() != 46 {
		t.Errorf("stat changed to %v", v)
	}
	if _, err := e.m.Get("mykey.x"); err == nil {
		t.Error("a set on the stats map reached the icmap")
	}
}

func TestStatsMapEmpty(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.dial(t, true)
	ctx := testCtx(t)
	if entries, err := c.Iter(ctx, ""); err != nil || len(entries) != 0 {
		t.Errorf("iter: %v %v", entries, err)
	}
	if _, err := c.Get(ctx, "stats.srp.orf_token_rx"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("get: %v", err)
	}
	if err := c.Set(ctx, "stats.clear.all", cmap.Uint32(1)); !errors.Is(err, ipc.CSErrNotSupport) {
		t.Errorf("clear without a clearer: %v", err)
	}
}

func TestSetCurrentMap(t *testing.T) {
	e := newEnv(t, Config{Stats: sampleStats()})
	e.m.Set("totem.token", cmap.Uint32(1000))
	raw := e.raw(t)
	setMap := func(m cmap.Map) ipc.CS {
		t.Helper()
		res := call(t, raw, cmap.SetCurrentMapRequest{Map: m}.Encode())
		if len(res) != cmap.StatusResponseBytes {
			t.Errorf("answer of %d bytes", len(res))
		}
		cs, err := cmap.DecodeStatusResponse(res, cmap.ResSetCurrentMap)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	get := func(key string) ipc.CS {
		t.Helper()
		r, err := cmap.DecodeGetResponse(call(t, raw, encode(t, cmap.GetRequest{Key: key, ValueLen: 8})))
		if err != nil {
			t.Fatal(err)
		}
		return r.Error
	}
	if cs := setMap(2); cs != ipc.CSErrNotExist {
		t.Errorf("map 2: %v", cs)
	}
	if cs := setMap(-1); cs != ipc.CSErrNotExist {
		t.Errorf("map -1: %v", cs)
	}
	if get("totem.token") != ipc.CSOk || get("stats.srp.orf_token_rx") != ipc.CSErrNotExist {
		t.Error("a refused switch changed the map")
	}
	if cs := setMap(cmap.MapStats); cs != ipc.CSOk {
		t.Fatalf("to stats: %v", cs)
	}
	if get("totem.token") != ipc.CSErrNotExist || get("stats.srp.orf_token_rx") != ipc.CSOk {
		t.Error("not on the stats map")
	}
	// Busy while an iterator or a tracker is open.
	it, _ := cmap.DecodeIterInitResponse(call(t, raw, encode(t, cmap.IterInitRequest{Prefix: "stats."})))
	if cs := setMap(cmap.MapICMAP); cs != ipc.CSErrBusy {
		t.Errorf("with an iterator: %v", cs)
	}
	call(t, raw, cmap.IterFinalizeRequest{IterHandle: it.IterHandle}.Encode())
	tr, _ := cmap.DecodeTrackAddResponse(call(t, raw, encode(t, cmap.TrackAddRequest{Key: "stats.srp.orf_token_rx", TrackType: cmap.TrackModify})))
	if tr.Error != ipc.CSOk {
		t.Fatalf("track add: %+v", tr)
	}
	if cs := setMap(cmap.MapICMAP); cs != ipc.CSErrBusy {
		t.Errorf("with a tracker: %v", cs)
	}
	call(t, raw, cmap.TrackDeleteRequest{TrackHandle: tr.TrackHandle}.Encode())
	if cs := setMap(cmap.MapICMAP); cs != ipc.CSOk {
		t.Errorf("back to the icmap: %v", cs)
	}
	if get("totem.token") != ipc.CSOk {
		t.Error("not back on the icmap")
	}
}

func TestStatsTracking(t *testing.T) {
	stats := sampleStats()
	const poll = 10 * time.Millisecond
	e := newEnv(t, Config{Stats: stats, StatsPoll: poll})
	ctx := testCtx(t)
	c := e.dial(t, true)

	if _, err := c.TrackAdd(ctx, "stats.srp.", cmap.TrackAdd|cmap.TrackModify|cmap.TrackPrefix); !errors.Is(err, ipc.CSErrNotSupport) {
		t.Errorf("prefix tracker without delete: %v", err)
	}
	if _, err := c.TrackAdd(ctx, "stats.srp.", cmap.TrackDelete|cmap.TrackPrefix); !errors.Is(err, ipc.CSErrNotSupport) {
		t.Errorf("prefix tracker without add: %v", err)
	}

	// A key tracker: modify when the value changes, with the value as new and old.
	key := "stats.srp.orf_token_rx"
	hk, err := c.TrackAdd(ctx, key, all)
	if err != nil {
		t.Fatal(err)
	}
	noNote(t, c, 5*poll) // unchanged since TRACK_ADD
	stats.put(key, cmap.Uint64(47))
	expect(t, c, hk, cmap.TrackModify, key, cmap.Uint64(47), cmap.Uint64(47))
	noNote(t, c, 5*poll)
	stats.remove(key)
	expect(t, c, hk, cmap.TrackDelete, key, cmap.Uint64(47), cmap.Uint64(47))
	stats.put(key, cmap.Uint64(47))
	expect(t, c, hk, cmap.TrackAdd, key, cmap.Uint64(47), cmap.Uint64(47))
	noNote(t, c, 5*poll) // the same value as before: no modify
	if err := c.TrackDelete(ctx, hk); err != nil {
		t.Fatal(err)
	}

	// 3.1.7 sends modify notifications whatever the flags; a key absent at TRACK_ADD
	// starts from zeros.
	hz, err := c.TrackAdd(ctx, "stats.new.key", cmap.TrackAdd)
	if err != nil {
		t.Fatal(err)
	}
	stats.put("stats.new.key", cmap.Uint32(0))
	expect(t, c, hz, cmap.TrackAdd, "stats.new.key", cmap.Uint32(0), cmap.Uint32(0))
	noNote(t, c, 5*poll)
	stats.put("stats.new.key", cmap.Uint32(3))
	expect(t, c, hz, cmap.TrackModify, "stats.new.key", cmap.Uint32(3), cmap.Uint32(3))
	stats.remove("stats.new.key") // no delete flag
	noNote(t, c, 5*poll)
	c.TrackDelete(ctx, hz)

	// A prefix tracker: create and delete, never modify; schedmiss keys are silent.
	hp, err := c.TrackAdd(ctx, "stats.", all|cmap.TrackPrefix)
	if err != nil {
		t.Fatal(err)
	}
	stats.put("stats.srp.firewall_enabled", cmap.Uint8(1))
	stats.put("stats.schedmiss.1.delay", cmap.Float(3))
	noNote(t, c, 5*poll)
	stats.put("stats.knet.node1.link0.up", cmap.Uint8(1))
	expect(t, c, hp, cmap.TrackAdd, "stats.knet.node1.link0.up", cmap.Uint8(1), cmap.Uint8(1))
	stats.put("stats.knet.node1.link0.up", cmap.Uint8(0))
	time.Sleep(3 * poll)
	stats.remove("stats.knet.node1.link0.up")
	stats.remove("stats.schedmiss.0.delay")
	expect(t, c, hp, cmap.TrackDelete, "stats.knet.node1.link0.up", cmap.Uint8(0), cmap.Uint8(0))
	noNote(t, c, 5*poll)
}

// TestStatsKeysChangedNotifiesAtOnce: with the poll far away, StatsKeysChanged gives
// trackers their create and delete notifications at once, and no modify notification
// (values wait for the poll, as in corosync).
func TestStatsKeysChangedNotifiesAtOnce(t *testing.T) {
	stats := sampleStats()
	e := newEnv(t, Config{Stats: stats, StatsPoll: time.Hour})
	ctx := testCtx(t)
	c := e.dial(t, true)
	hp, err := c.TrackAdd(ctx, "stats.ipcs.", all|cmap.TrackPrefix)
	if err != nil {
		t.Fatal(err)
	}
	key := "stats.srp.orf_token_rx"
	hk, err := c.TrackAdd(ctx, key, all)
	if err != nil {
		t.Fatal(err)
	}
	conn := "stats.ipcs.service0.2.0x2.procname"
	stats.put(conn, cmap.String("corosync-cfgtoo"))
	stats.put(key, cmap.Uint64(99))
	noNote(t, c, 100*time.Millisecond) // nothing until told
	e.svc.StatsKeysChanged()
	expect(t, c, hp, cmap.TrackAdd, conn, cmap.String("corosync-cfgtoo"), cmap.String("corosync-cfgtoo"))
	noNote(t, c, 100*time.Millisecond) // the value change of the key tracker waits
	stats.remove(conn)
	stats.remove(key)
	e.svc.StatsKeysChanged()
	got := map[cmap.TrackHandle]cmap.Notification{}
	for range 2 {
		n := nextNote(t, c, time.Second)
		got[n.TrackHandle] = n
	}
	if n := got[hp]; n.Event != cmap.TrackDelete || n.Key != conn {
		t.Errorf("prefix tracker: %+v, want the delete of %s", n, conn)
	}
	if n := got[hk]; n.Event != cmap.TrackDelete || n.Key != key {
		t.Errorf("key tracker: %+v, want the delete of %s", n, key)
	}
}
