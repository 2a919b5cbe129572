package cmapsvc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

const all = cmap.TrackAdd | cmap.TrackModify | cmap.TrackDelete

// expect checks one notification.
func expect(t *testing.T, c *cmap.Client, h cmap.TrackHandle, ev cmap.TrackType, key string, nv, ov cmap.Value) {
	t.Helper()
	n := nextNote(t, c, 5*time.Second)
	if n.TrackHandle != h || n.Event != ev || n.Key != key || !n.New.Equal(nv) || !n.Old.Equal(ov) {
		t.Errorf("got %d %v %q new=%v(%v) old=%v(%v); want %d %v %q new=%v old=%v",
			n.TrackHandle, n.Event, n.Key, n.New, n.New.Type(), n.Old, n.Old.Type(), h, ev, key, nv, ov)
	}
}

func TestTrackKey(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.dial(t, false)
	ctx := testCtx(t)
	h, err := c.TrackAdd(ctx, "tr.key", all)
	if err != nil {
		t.Fatal(err)
	}
	addOnly := e.dial(t, false)
	h2, err := addOnly.TrackAdd(ctx, "tr.key", cmap.TrackAdd)
	if err != nil {
		t.Fatal(err)
	}
	writer := e.dial(t, false)
	none := cmap.Value{}
	writer.Set(ctx, "tr.key", cmap.Uint32(1))
	expect(t, c, h, cmap.TrackAdd, "tr.key", cmap.Uint32(1), none)
	expect(t, addOnly, h2, cmap.TrackAdd, "tr.key", cmap.Uint32(1), none)
	writer.Set(ctx, "tr.key", cmap.Uint32(1)) // no change, no notification
	writer.Set(ctx, "tr.key.sub", cmap.Uint32(1))
	writer.Set(ctx, "tr.ke", cmap.Uint32(1))
	writer.Set(ctx, "tr.key", cmap.String("two"))
	expect(t, c, h, cmap.TrackModify, "tr.key", cmap.String("two"), cmap.Uint32(1))
	writer.Inc(ctx, "tr.key.sub")
	e.m.Set("tr.key", cmap.Uint64(3)) // the daemon's own changes are notified too
	expect(t, c, h, cmap.TrackModify, "tr.key", cmap.Uint64(3), cmap.String("two"))
	writer.Inc(ctx, "tr.key")
	expect(t, c, h, cmap.TrackModify, "tr.key", cmap.Uint64(4), cmap.Uint64(3))
	writer.Delete(ctx, "tr.key")
	expect(t, c, h, cmap.TrackDelete, "tr.key", none, cmap.Uint64(4))
	noNote(t, c, 50*time.Millisecond)
	noNote(t, addOnly, 0)

	if err := c.TrackDelete(ctx, h); err != nil {
		t.Fatal(err)
	}
	writer.Set(ctx, "tr.key", cmap.Uint8(9))
	expect(t, addOnly, h2, cmap.TrackAdd, "tr.key", cmap.Uint8(9), none)
	noNote(t, c, 50*time.Millisecond)
}

func TestTrackPrefix(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.dial(t, false)
	ctx := testCtx(t)
	h, err := c.TrackAdd(ctx, "pre.", all|cmap.TrackPrefix)
	if err != nil {
		t.Fatal(err)
	}
	every := e.dial(t, false)
	hAll, err := every.TrackAdd(ctx, "", cmap.TrackDelete|cmap.TrackPrefix)
	if err != nil {
		t.Fatal(err)
	}
	none := cmap.Value{}
	e.m.Set("pre.a", cmap.Int8(-1))
	e.m.Set("pre", cmap.Int8(-1))
	e.m.Set("prefix.x", cmap.Int8(-1))
	e.m.Set("pre.b.c", cmap.Double(0.5))
	expect(t, c, h, cmap.TrackAdd, "pre.a", cmap.Int8(-1), none)
	expect(t, c, h, cmap.TrackAdd, "pre.b.c", cmap.Double(0.5), none)
	e.m.Set("pre.a", cmap.Int8(2))
	expect(t, c, h, cmap.TrackModify, "pre.a", cmap.Int8(2), cmap.Int8(-1))
	e.m.Delete("pre.b.c")
	expect(t, c, h, cmap.TrackDelete, "pre.b.c", none, cmap.Double(0.5))
	e.m.Delete("prefix.x")
	expect(t, every, hAll, cmap.TrackDelete, "pre.b.c", none, cmap.Double(0.5))
	expect(t, every, hAll, cmap.TrackDelete, "prefix.x", none, cmap.Int8(-1))
	noNote(t, c, 50*time.Millisecond)
	noNote(t, every, 0)
}

// TestTrackWire checks what the answers and events carry: the client's cookie
// (track_inst_handle), the daemon's handle, and the errors.
func TestTrackWire(t *testing.T) {
	e := newEnv(t, Config{})
	raw := e.raw(t)
	const cookie = 0xfeedface12345678
	add := func(key string, flags cmap.TrackType) cmap.TrackAddResponse {
		t.Helper()
		r, err := cmap.DecodeTrackAddResponse(call(t, raw, encode(t, cmap.TrackAddRequest{Key: key, TrackType: flags, TrackInstHandle: cookie})))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	del := func(h uint64) cmap.TrackDeleteResponse {
		t.Helper()
		r, err := cmap.DecodeTrackDeleteResponse(call(t, raw, cmap.TrackDeleteRequest{TrackHandle: h}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := add("wire.key", cmap.TrackAdd)
	if r.Error != ipc.CSOk || r.TrackHandle == 0 {
		t.Fatalf("track add: %+v", r)
	}
	if bad := add("wire.key", 0x40); bad.Error != ipc.CSErrInvalid || bad.TrackHandle != 0 {
		t.Errorf("unknown flag: %+v", bad)
	}
	e.m.Set("wire.key", cmap.String("v"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := raw.Event(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := cmap.DecodeNotifyCallback(ev)
	if err != nil || n.TrackInstHandle != cookie || n.Event != cmap.TrackAdd || n.Key != "wire.key" ||
		!n.New.Equal(cmap.String("v")) || n.Old.Type() != 0 || n.Old.Len() != 0 {
		t.Errorf("notification: %+v %v", n, err)
	}
	if len(ev) != cmap.NotifyCallbackBytes+2 {
		t.Errorf("notification of %d bytes, want %d", len(ev), cmap.NotifyCallbackBytes+2)
	}
	if d := del(r.TrackHandle); d.Error != ipc.CSOk || d.TrackInstHandle != cookie {
		t.Errorf("track delete: %+v", d)
	}
	if d := del(r.TrackHandle); d.Error != ipc.CSErrBadHandle || d.TrackInstHandle != 0 {
		t.Errorf("track delete twice: %+v", d)
	}
	e.m.Set("wire.key", cmap.String("w"))
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if ev, err := raw.Event(short); err == nil {
		t.Errorf("event after track delete: %x", ev)
	}
}

func TestDisconnectFreesTrackers(t *testing.T) {
	stats := newFakeStats(map[string]icmap.Value{"stats.a.b": cmap.Uint64(1)})
	e := newEnv(t, Config{Stats: stats, StatsPoll: 10 * time.Millisecond})
	ctx := testCtx(t)
	c := e.dial(t, false)
	for _, k := range []string{"gone.a", "gone.b"} {
		if _, err := c.TrackAdd(ctx, k, all); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.TrackAdd(ctx, "gone.", all|cmap.TrackPrefix); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Iter(ctx, ""); err != nil { // opened and finalized
		t.Fatal(err)
	}
	sc := e.dial(t, true)
	if _, err := sc.TrackAdd(ctx, "stats.a.b", all); err != nil {
		t.Fatal(err)
	}
	if n := e.svc.openTracks.Load(); n != 4 {
		t.Fatalf("%d trackers, want 4", n)
	}
	c.Close()
	sc.Close()
	waitFor(t, "trackers freed", func() bool { return e.svc.openTracks.Load() == 0 })
	// The icmap holds none of them: its handles are issued from 1 upwards.
	for h := icmap.TrackHandle(1); h <= 3; h++ {
		if err := e.m.Untrack(h); !errors.Is(err, ipc.CSErrNotExist) {
			t.Errorf("icmap tracker %d still there: %v", h, err)
		}
	}
	e.svc.stats.mu.Lock()
	left := len(e.svc.stats.tracks)
	e.svc.stats.mu.Unlock()
	if left != 0 {
		t.Errorf("%d stats trackers left", left)
	}
	if e.svc.openIters.Load() != 0 {
		t.Errorf("%d iterators left", e.svc.openIters.Load())
	}
	// Changes after the clients went notify nobody and break nothing.
	e.m.Set("gone.a", cmap.Uint8(1))
	stats.put("stats.a.b", cmap.Uint64(2))
	time.Sleep(30 * time.Millisecond)
}
