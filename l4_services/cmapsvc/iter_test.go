package cmapsvc

import (
	"reflect"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
)

func TestIterPrefixes(t *testing.T) {
	e := newEnv(t, Config{})
	for _, k := range []string{"a.b.c", "a.b", "a.bc", "a.a", "ab.x", "b.a", "a.b.d"} {
		e.m.Set(k, cmap.Uint8(1))
	}
	c := e.dial(t, false)
	ctx := testCtx(t)
	keys := func(prefix string) []string {
		t.Helper()
		entries, err := c.Iter(ctx, prefix)
		if err != nil {
			t.Fatalf("iter %q: %v", prefix, err)
		}
		var out []string
		for _, en := range entries {
			out = append(out, en.Key)
		}
		return out
	}
	for prefix, want := range map[string][]string{
		"":      {"a.a", "a.b", "a.b.c", "a.b.d", "a.bc", "ab.x", "b.a"},
		"a.":    {"a.a", "a.b", "a.b.c", "a.b.d", "a.bc"},
		"a.b":   {"a.b", "a.b.c", "a.b.d", "a.bc"},
		"a.b.":  {"a.b.c", "a.b.d"},
		"a.b.c": {"a.b.c"},
		"zzz":   nil,
	} {
		if got := keys(prefix); !reflect.DeepEqual(got, want) {
			t.Errorf("prefix %q: %v, want %v", prefix, got, want)
		}
	}
}

func TestIterHandles(t *testing.T) {
	e := newEnv(t, Config{})
	for _, k := range []string{"it.a", "it.b", "it.c", "it.d"} {
		e.m.Set(k, cmap.Uint16(7))
	}
	raw := e.raw(t)
	init := func(prefix string) uint64 {
		t.Helper()
		r, err := cmap.DecodeIterInitResponse(call(t, raw, encode(t, cmap.IterInitRequest{Prefix: prefix})))
		if err != nil || r.Error != ipc.CSOk || r.IterHandle == 0 {
			t.Fatalf("iter init: %+v %v", r, err)
		}
		return r.IterHandle
	}
	next := func(h uint64) cmap.IterNextResponse {
		t.Helper()
		r, err := cmap.DecodeIterNextResponse(call(t, raw, cmap.IterNextRequest{IterHandle: h}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	final := func(h uint64) ipc.CS {
		t.Helper()
		cs, err := cmap.DecodeStatusResponse(call(t, raw, cmap.IterFinalizeRequest{IterHandle: h}.Encode()), cmap.ResIterFinalize)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	h1, h2 := init("it."), init("it.")
	if h1 == h2 {
		t.Fatalf("two iterations share handle %d", h1)
	}
	if r := next(h1); r.Error != ipc.CSOk || r.Key != "it.a" || r.Type != cmap.TypeUint16 || r.ValueLen != 2 {
		t.Errorf("first: %+v", r)
	}
	// Changes after the snapshot: it.b deleted is skipped, it.c grown reports its new
	// length, it.e added is not seen.
	e.m.Delete("it.b")
	e.m.Set("it.c", cmap.String("longer"))
	e.m.Set("it.e", cmap.Uint8(1))
	if r := next(h1); r.Key != "it.c" || r.Type != cmap.TypeString || r.ValueLen != 7 {
		t.Errorf("after changes: %+v", r)
	}
	if r := next(h1); r.Key != "it.d" {
		t.Errorf("third: %+v", r)
	}
	for range 2 {
		if r := next(h1); r.Error != ipc.CSErrNoSections || r.Key != "" {
			t.Errorf("past the end: %+v", r)
		}
	}
	// The second iteration is independent.
	if r := next(h2); r.Key != "it.a" {
		t.Errorf("second iterator: %+v", r)
	}
	if cs := final(h1); cs != ipc.CSOk {
		t.Errorf("finalize: %v", cs)
	}
	if cs := final(h1); cs != ipc.CSErrBadHandle {
		t.Errorf("finalize twice: %v", cs)
	}
	if r := next(h1); r.Error != ipc.CSErrBadHandle {
		t.Errorf("next after finalize: %+v", r)
	}
	if r := next(0xdead); r.Error != ipc.CSErrBadHandle {
		t.Errorf("next of an unknown handle: %+v", r)
	}
	if got := e.svc.openIters.Load(); got != 1 {
		t.Errorf("%d iterators open, want 1", got)
	}
	raw.Close()
	waitFor(t, "iterators freed on disconnect", func() bool { return e.svc.openIters.Load() == 0 })
}

// TestIterDeleteWhileIterating is what corosync-cmapctl -D does: delete each key as the
// iteration returns it.
func TestIterDeleteWhileIterating(t *testing.T) {
	e := newEnv(t, Config{})
	for _, k := range []string{"d.a", "d.b", "d.c", "e.a"} {
		e.m.Set(k, cmap.Uint8(1))
	}
	raw := e.raw(t)
	r, _ := cmap.DecodeIterInitResponse(call(t, raw, encode(t, cmap.IterInitRequest{Prefix: "d."})))
	var deleted []string
	for range 10 {
		n, err := cmap.DecodeIterNextResponse(call(t, raw, cmap.IterNextRequest{IterHandle: r.IterHandle}.Encode()))
		if err != nil || n.Error != ipc.CSOk {
			break
		}
		cs, _ := cmap.DecodeStatusResponse(call(t, raw, encode(t, cmap.DeleteRequest{Key: n.Key})), cmap.ResDelete)
		if cs != ipc.CSOk {
			t.Errorf("delete %s: %v", n.Key, cs)
		}
		deleted = append(deleted, n.Key)
	}
	if want := []string{"d.a", "d.b", "d.c"}; !reflect.DeepEqual(deleted, want) {
		t.Errorf("deleted %v, want %v", deleted, want)
	}
	if keys := e.m.Keys(""); len(keys) != 1 || keys[0].Key != "e.a" {
		t.Errorf("left: %v", keys)
	}
}
