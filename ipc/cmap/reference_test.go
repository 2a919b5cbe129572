package cmap

import (
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// TestReference runs the client against Debian's corosync 3.1.7 over the shm transport.
func TestReference(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	before := refcorosync.ShmNames()
	t.Run("KnownKeys", func(t *testing.T) { testKnownKeys(t, ref) })
	t.Run("ListingMatchesCmapctl", func(t *testing.T) { testListing(t, ref) })
	t.Run("SetGetEveryType", func(t *testing.T) { testSetGet(t, ref) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, ref) })
	t.Run("IncDec", func(t *testing.T) { testIncDec(t, ref) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, ref) })
	t.Run("Stats", func(t *testing.T) { testStats(t, ref) })
	t.Run("Track", func(t *testing.T) { testTrack(t, ref) })
	t.Run("Close", func(t *testing.T) { testClose(t, ref) })
	t.Run("RawLayouts", func(t *testing.T) { testRawLayouts(t, ref) })
	if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the clients closed: %v", left)
	}
}

// TestReferenceSocket repeats the basic calls and tracking over the socket transport.
func TestReferenceSocket(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{IPCType: "socket"})
	before := refcorosync.ShmNames()
	t.Run("KnownKeys", func(t *testing.T) { testKnownKeys(t, ref) })
	t.Run("SetGetEveryType", func(t *testing.T) { testSetGet(t, ref) })
	t.Run("Track", func(t *testing.T) { testTrack(t, ref) })
	if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the clients closed: %v", left)
	}
}

func testKnownKeys(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, nil)
	ctx := testCtx(t)
	for key, want := range map[string]Value{
		"totem.cluster_name":               String("refcluster"),
		"totem.transport":                  String("knet"),
		"totem.version":                    Uint32(2),
		"nodelist.node.0.nodeid":           Uint32(1),
		"nodelist.node.0.ring0_addr":       String("127.0.0.1"),
		"runtime.votequorum.this_node_id":  Uint32(1),
		"runtime.votequorum.two_node":      Uint8(0),
		"runtime.members.1.status":         String("joined"),
		"runtime.services.cfg.service_id":  Uint16(1),
		"runtime.config.totem.token":       Uint32(1000),
		"runtime.config.totem.window_size": Uint32(50),
	} {
		got, err := c.Get(ctx, key)
		if err != nil {
			t.Errorf("get %s: %v", key, err)
			continue
		}
		if !got.Equal(want) {
			t.Errorf("get %s = %s %q, want %s %q", key, got.Type(), got.Bytes(), want.Type(), want.Bytes())
		}
	}
	v, err := c.Get(ctx, "totem.cluster_name")
	if err != nil || v.String() != "refcluster" || v.Type() != TypeString || v.Len() != len("refcluster")+1 {
		t.Errorf("cluster name = %q (%s, %d bytes), %v", v.String(), v.Type(), v.Len(), err)
	}
}

// testListing compares Iter and Get with corosync-cmapctl's output: values for stable
// prefixes, keys and types for the whole map.
func testListing(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, nil)
	ctx := testCtx(t)
	for _, prefix := range []string{"nodelist.", "totem.", "runtime.votequorum.", "internal_configuration.", "logging.", "runtime.config."} {
		want := cmapctl(t, ref, prefix)
		if got := listing(t, ctx, c, prefix); got != want {
			t.Errorf("prefix %q:\nours:\n%s\ncorosync-cmapctl:\n%s", prefix, got, want)
		}
	}
	all, err := c.Iter(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, e := range all {
		ours = append(ours, e.Key+" ("+e.Type.String()+")")
	}
	theirs := keyTypes(cmapctl(t, ref))
	if !slices.Equal(ours, theirs) {
		t.Errorf("whole map: %d keys, corosync-cmapctl %d\nours: %v\ntheirs: %v", len(ours), len(theirs), ours, theirs)
	}
	t.Logf("%d keys in the map; nodelist.:\n%s", len(all), cmapctl(t, ref, "nodelist."))
}

func everyType() map[string]Value {
	long := strings.Repeat("0123456789abcdef", 64) // 1 KiB: more than the first GET's room
	return map[string]Value{
		"testgo.types.i8":        Int8(math.MinInt8),
		"testgo.types.u8":        Uint8(math.MaxUint8),
		"testgo.types.i16":       Int16(math.MinInt16),
		"testgo.types.u16":       Uint16(math.MaxUint16),
		"testgo.types.i32":       Int32(-123456789),
		"testgo.types.u32":       Uint32(math.MaxUint32),
		"testgo.types.i64":       Int64(math.MinInt64),
		"testgo.types.u64":       Uint64(math.MaxUint64),
		"testgo.types.flt":       Float(3.25),
		"testgo.types.flt_nan":   Float(float32(math.NaN())),
		"testgo.types.dbl":       Double(-1.0e300),
		"testgo.types.str":       String("hello, corosync"),
		"testgo.types.str_empty": String(""),
		"testgo.types.str_utf8":  String("grüße 🙂"),
		"testgo.types.str_long":  String(long),
		"testgo.types.bin":       Binary([]byte{0, 1, 2, 0, 0xff}),
		"testgo.types.bin_empty": Binary(nil),
		"testgo.types.bin_max":   Binary([]byte(strings.Repeat("x", MaxValueBytes))),
	}
}

func testSetGet(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, nil)
	ctx := testCtx(t)
	values := everyType()
	for key, v := range values {
		if err := c.Set(ctx, key, v); err != nil {
			t.Fatalf("set %s (%s): %v", key, v.Type(), err)
		}
	}
	for key, want := range values {
		got, err := c.Get(ctx, key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if !got.Equal(want) {
			t.Errorf("%s: got %s %x, want %s %x", key, got.Type(), got.Bytes(), want.Type(), want.Bytes())
		}
	}
	// The typed accessors read what the daemon returned.
	for key, check := range map[string]func(Value) bool{
		"testgo.types.i8":  func(v Value) bool { return v.Int8() == math.MinInt8 },
		"testgo.types.u32": func(v Value) bool { return v.Uint32() == math.MaxUint32 },
		"testgo.types.i64": func(v Value) bool { return v.Int64() == math.MinInt64 },
		"testgo.types.flt": func(v Value) bool { return v.Float() == 3.25 },
		"testgo.types.dbl": func(v Value) bool { return v.Double() == -1.0e300 },
		"testgo.types.str": func(v Value) bool { return v.String() == "hello, corosync" },
		"testgo.types.bin": func(v Value) bool { return string(v.Binary()) == "\x00\x01\x02\x00\xff" },
	} {
		v, err := c.Get(ctx, key)
		if err != nil || !check(v) {
			t.Errorf("%s: accessor disagrees with %s %x (%v)", key, v.Type(), v.Bytes(), err)
		}
	}
	// Iteration reports each key with its type and length, in sorted order.
	entries, err := c.Iter(ctx, "testgo.types.")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.Key)
		v := values[e.Key]
		if e.Type != v.Type() || e.Len != uint64(v.Len()) {
			t.Errorf("iter %s: %s of %d bytes, want %s of %d", e.Key, e.Type, e.Len, v.Type(), v.Len())
		}
	}
	if len(keys) != len(values) || !slices.IsSorted(keys) {
		t.Errorf("iteration found %v", keys)
	}
	// corosync-cmapctl reads what we stored the same way.
	out := cmapctl(t, ref, "testgo.types.str")
	if !strings.Contains(out, "testgo.types.str (str) = hello, corosync\n") {
		t.Errorf("corosync-cmapctl shows %q", out)
	}
	// Overwriting with another type is allowed.
	if err := c.Set(ctx, "testgo.types.u8", String("now a string")); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "testgo.types.u8"); err != nil || v.String() != "now a string" {
		t.Errorf("retyped key = %v, %v", v, err)
	}
	for key := range values {
		if err := c.Delete(ctx, key); err != nil {
			t.Errorf("delete %s: %v", key, err)
		}
	}
}

func testDelete(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, nil)
	ctx := testCtx(t)
	const key = "testgo.delete.me"
	if err := c.Set(ctx, key, Uint32(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, key); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("get after delete: %v, want CS_ERR_NOT_EXIST", err)
	}
	if err := c.Delete(ctx, key); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("second delete: %v, want CS_ERR_NOT_EXIST", err)
	}
	if out, _ := ref.Command("corosync-cmapctl", "-g", key).CombinedOutput(); !strings.Contains(string(out), "CS_ERR_NOT_EXIST") {
		t.Errorf("corosync-cmapctl still finds the key: %s", out)
	}
}

func testIncDec(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, nil)
	ctx := testCtx(t)
	steps := []struct {
		start Value
		inc   bool
		want  Value
	}{
		{Uint32(5), true, Uint32(6)},
		{Uint32(5), false, Uint32(4)},
		{Uint8(255), true, Uint8(0)}, // wraps as C's u8 += step does
		{Int8(0), false, Int8(-1)},
		{Int16(-1), true, Int16(0)},
		{Uint16(0), false, Uint16(65535)},
		{Int32(-1), true, Int32(0)},
		{Int64(math.MaxInt64), true, Int64(math.MinInt64)},
		{Uint64(0), false, Uint64(math.MaxUint64)},
	}
	const key = "testgo.adjust"
	for _, s := range steps {
		if err := c.Set(ctx, key, s.start); err != nil {
			t.Fatal(err)
		}
		op, err := "inc", error(nil)
		if s.inc {
			err = c.Inc(ctx, key)
		} else {
			op, err = "dec", c.Dec(ctx, key)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", op, s.start.Type(), err)
		}
		if got, err := c.Get(ctx, key); err != nil || !got.Equal(s.want) {
			t.Errorf("%s of %s %s = %s, want %s (%v)", op, s.start.Type(), s.start, got, s.want, err)
		}
	}
	for _, v := range []Value{String("7"), Double(1), Float(1), Binary([]byte{1})} {
		if err := c.Set(ctx, key, v); err != nil {
			t.Fatal(err)
		}
		if err := c.Inc(ctx, key); !errors.Is(err, ipc.CSErrInvalid) {
			t.Errorf("inc of a %s: %v, want CS_ERR_INVALID_PARAM", v.Type(), err)
		}
	}
	if err := c.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := c.Dec(ctx, key); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("dec of a missing key: %v, want CS_ERR_NOT_EXIST", err)
	}
}

func testErrors(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, nil)
	ctx := testCtx(t)
	if _, err := c.Get(ctx, "testgo.no.such.key"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("get of a missing key: %v", err)
	}
	// libcmap's own limit: 255 bytes, checked before sending.
	long := "testgo." + strings.Repeat("k", KeyNameMax-len("testgo.")+1)
	for name, err := range map[string]error{
		"get":       func() error { _, err := c.Get(ctx, long); return err }(),
		"set":       c.Set(ctx, long, Uint8(1)),
		"delete":    c.Delete(ctx, long),
		"inc":       c.Inc(ctx, long),
		"iter":      func() error { _, err := c.Iter(ctx, long); return err }(),
		"trackadd":  func() error { _, err := c.TrackAdd(ctx, long, TrackAdd); return err }(),
		"nul in it": c.Set(ctx, "testgo.a\x00b", Uint8(1)),
	} {
		want := ErrKeyTooLong
		if name == "nul in it" {
			want = ErrInvalidKey
		}
		if !errors.Is(err, want) {
			t.Errorf("%s with a bad key: %v, want %v", name, err, want)
		}
		if name != "nul in it" && !errors.Is(err, ipc.CSErrNameTooLong) {
			t.Errorf("%s with a 256-byte key: %v does not wrap CS_ERR_NAME_TOO_LONG", name, err)
		}
	}
	// The longest name the daemon accepts.
	longest := long[:KeyNameMax]
	if err := c.Set(ctx, longest, Uint8(1)); err != nil {
		t.Errorf("set of a %d-byte key: %v", len(longest), err)
	} else if err := c.Delete(ctx, longest); err != nil {
		t.Error(err)
	}
	// The daemon's own name rules for new keys (3.1.7 answers CS_ERR_NAME_TOO_LONG).
	for _, bad := range []string{"ab", "testgo.with space", "testgo.semi;colon"} {
		if err := c.Set(ctx, bad, Uint8(1)); !errors.Is(err, ipc.CSErrNameTooLong) {
			t.Errorf("set of %q: %v, want CS_ERR_NAME_TOO_LONG", bad, err)
		}
	}
	// Value limits: checked here, and the daemon agrees.
	big := Binary(make([]byte, MaxValueBytes+1))
	if err := c.Set(ctx, "testgo.big", big); !errors.Is(err, ErrValueTooBig) || !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("set of %d bytes: %v, want ErrValueTooBig wrapping CS_ERR_INVALID_PARAM", big.Len(), err)
	}
	raw, err := SetRequest{Key: "testgo.big", Value: big}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.status(ctx, raw, ResSet); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("daemon's answer to %d bytes: %v, want CS_ERR_INVALID_PARAM", big.Len(), err)
	}
	short := Value{typ: TypeUint32, data: []byte{1, 2}}
	if err := c.Set(ctx, "testgo.short", short); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("set of a 2-byte u32: %v, want ErrInvalidValue", err)
	}
	raw, _ = SetRequest{Key: "testgo.short", Value: short}.Encode()
	if err := c.status(ctx, raw, ResSet); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("daemon's answer to a 2-byte u32: %v, want CS_ERR_INVALID_PARAM", err)
	}
	if err := c.Set(ctx, "testgo.nul", String("a\x00b")); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("set of a string holding a NUL: %v", err)
	}
	if _, err := NewValue(TypeDouble, []byte{1}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("NewValue of a 1-byte double: %v", err)
	}
	// Read-only keys.
	if err := c.Set(ctx, "totem.cluster_name", String("other")); !errors.Is(err, ipc.CSErrAccess) {
		t.Errorf("set of totem.cluster_name: %v, want CS_ERR_ACCESS", err)
	}
	if err := c.Delete(ctx, "nodelist.node.0.nodeid"); !errors.Is(err, ipc.CSErrAccess) {
		t.Errorf("delete of nodelist.node.0.nodeid: %v, want CS_ERR_ACCESS", err)
	}
	if err := c.Inc(ctx, "runtime.config.totem.token"); !errors.Is(err, ipc.CSErrAccess) {
		t.Errorf("inc of runtime.config.totem.token: %v, want CS_ERR_ACCESS", err)
	}
	// Unknown handles.
	if err := c.TrackDelete(ctx, 0xdead); !errors.Is(err, ipc.CSErrBadHandle) {
		t.Errorf("track delete of an unknown handle: %v, want CS_ERR_BAD_HANDLE", err)
	}
	if err := c.status(ctx, IterFinalizeRequest{IterHandle: 0xdead}.Encode(), ResIterFinalize); !errors.Is(err, ipc.CSErrBadHandle) {
		t.Errorf("iter finalize of an unknown handle: %v, want CS_ERR_BAD_HANDLE", err)
	}
	// The connection still works after all these refusals.
	if v, err := c.Get(ctx, "totem.cluster_name"); err != nil || v.String() != "refcluster" {
		t.Errorf("get after errors: %v, %v", v, err)
	}
}

func testStats(t *testing.T, ref *refcorosync.Instance) {
	m := MapStats
	c := dial(t, ref, &m)
	ctx := testCtx(t)
	entries, err := c.Iter(ctx, "stats.srp.")
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, e := range entries {
		ours = append(ours, e.Key+" ("+e.Type.String()+")")
	}
	if theirs := keyTypes(cmapctl(t, ref, "-m", "stats", "stats.srp.")); !slices.Equal(ours, theirs) {
		t.Errorf("stats.srp. keys:\nours:   %v\ntheirs: %v", ours, theirs)
	}
	v, err := c.Get(ctx, "stats.srp.memb_join_tx")
	if err != nil || v.Type() != TypeUint64 || v.Uint64() < 1 {
		t.Errorf("stats.srp.memb_join_tx = %s %v, %v", v.Type(), v, err)
	}
	if v, err := c.Get(ctx, "stats.knet.node1.link0.connected"); err != nil || !v.Equal(Uint8(1)) {
		t.Errorf("stats.knet.node1.link0.connected = %v, %v", v, err)
	}
	// Our own connection's statistics: the procname string is read in two steps.
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	all, err := c.Iter(ctx, "stats.ipcs.")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range all {
		if strings.HasSuffix(e.Key, ".procname") {
			// 3.1.7's stats map iterates strings with length 0 (it only measures them
			// when asked for the value).
			v, err := c.Get(ctx, e.Key)
			if err != nil || v.Type() != TypeString || e.Type != TypeString || e.Len != 0 {
				t.Errorf("%s = %v (%d bytes), %v", e.Key, v, v.Len(), err)
			}
			names = append(names, v.String())
		}
	}
	if !slices.Contains(names, strings.TrimSpace(string(comm))) {
		t.Errorf("procnames %q lack ours, %q", names, strings.TrimSpace(string(comm)))
	}
	t.Logf("stats map: %d stats.ipcs. keys, procnames %q", len(all), names)
	// The stats map is read-only apart from stats.clear.*.
	if err := c.Set(ctx, "stats.srp.memb_join_tx", Uint64(0)); !errors.Is(err, ipc.CSErrAccess) {
		t.Errorf("set of a statistic: %v, want CS_ERR_ACCESS", err)
	}
	if err := c.Delete(ctx, "stats.srp.memb_join_tx"); !errors.Is(err, ipc.CSErrAccess) {
		t.Errorf("delete of a statistic: %v, want CS_ERR_ACCESS", err)
	}
	if err := c.Set(ctx, "stats.clear.nothing", Uint8(1)); !errors.Is(err, ipc.CSErrNotSupport) {
		t.Errorf("set of an unknown stats.clear key: %v, want CS_ERR_NOT_SUPPORTED", err)
	}
	if err := c.Set(ctx, "stats.clear.ipc", Uint8(1)); err != nil {
		t.Errorf("set of stats.clear.ipc: %v", err)
	}
	if _, err := c.Get(ctx, "totem.cluster_name"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("icmap key through the stats map: %v, want CS_ERR_NOT_EXIST", err)
	}
	// DialMap with the default map behaves as Dial; an unknown map is refused.
	d := MapICMAP
	if v, err := dial(t, ref, &d).Get(ctx, "totem.cluster_name"); err != nil || v.String() != "refcluster" {
		t.Errorf("DialMap(MapICMAP): %v, %v", v, err)
	}
	var bad *Client
	err = ref.Do(func() (err error) { bad, err = DialMap(ctx, Map(7)); return err })
	if !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("DialMap(7): %v, want CS_ERR_NOT_EXIST", err)
	}
	if bad != nil {
		bad.Close()
	}
}

func testTrack(t *testing.T, ref *refcorosync.Instance) {
	a, b := dial(t, ref, nil), dial(t, ref, nil)
	ctx := testCtx(t)
	const k1, k2 = "testgo.track.k1", "testgo.track.k2"
	all := TrackAdd | TrackModify | TrackDelete
	prefix, err := a.TrackAdd(ctx, "testgo.track.", all|TrackPrefix)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := a.TrackAdd(ctx, k1, all)
	if err != nil {
		t.Fatal(err)
	}
	if prefix == exact {
		t.Fatalf("two trackers share handle %d", prefix)
	}
	// byHandle sorts a step's notifications, whose order between trackers is the daemon's.
	byHandle := func(ns []Notification) map[TrackHandle]Notification {
		m := map[TrackHandle]Notification{}
		for _, n := range ns {
			if _, dup := m[n.TrackHandle]; dup {
				t.Fatalf("two notifications for tracker %d: %+v", n.TrackHandle, ns)
			}
			m[n.TrackHandle] = n
		}
		return m
	}
	check := func(step string, n Notification, ev TrackType, key string, nv, ov Value) {
		t.Helper()
		if n.Event != ev || n.Key != key || !n.New.Equal(nv) || !n.Old.Equal(ov) {
			t.Errorf("%s: got %s %s new=%s/%x old=%s/%x, want %s %s new=%x old=%x", step, n.Event, n.Key,
				n.New.Type(), n.New.Bytes(), n.Old.Type(), n.Old.Bytes(), ev, key, nv.Bytes(), ov.Bytes())
		}
	}
	steps := []struct {
		name   string
		change func() error
		ev     TrackType
		nv, ov Value
	}{
		{"add", func() error { return b.Set(ctx, k1, Uint32(1)) }, TrackAdd, Uint32(1), Value{}},
		{"modify", func() error { return b.Set(ctx, k1, Uint32(2)) }, TrackModify, Uint32(2), Uint32(1)},
		{"delete", func() error { return b.Delete(ctx, k1) }, TrackDelete, Value{}, Uint32(2)},
	}
	for i, s := range steps {
		if err := s.change(); err != nil {
			t.Fatal(err)
		}
		got := byHandle(collect(t, a, 2))
		check(s.name+" (prefix tracker)", got[prefix], s.ev, k1, s.nv, s.ov)
		check(s.name+" (key tracker)", got[exact], s.ev, k1, s.nv, s.ov)
		if i == 1 { // an equal value is no change: the delete's notifications come next
			if err := b.Set(ctx, k1, Uint32(2)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Only the prefix tracker sees another key under the prefix.
	if err := b.Set(ctx, k2, String("x")); err != nil {
		t.Fatal(err)
	}
	n := collect(t, a, 1)[0]
	if n.TrackHandle != prefix {
		t.Errorf("notification of %s went to tracker %d, want %d", k2, n.TrackHandle, prefix)
	}
	check("prefix add", n, TrackAdd, k2, String("x"), Value{})
	// After TrackDelete the prefix tracker is silent while the key tracker still reports.
	if err := a.TrackDelete(ctx, prefix); err != nil {
		t.Fatal(err)
	}
	if err := a.TrackDelete(ctx, prefix); !errors.Is(err, ipc.CSErrBadHandle) {
		t.Errorf("second track delete: %v, want CS_ERR_BAD_HANDLE", err)
	}
	if err := b.Set(ctx, k1, Uint32(3)); err != nil {
		t.Fatal(err)
	}
	n = collect(t, a, 1)[0]
	if n.TrackHandle != exact {
		t.Errorf("notification after delete came from tracker %d", n.TrackHandle)
	}
	check("after track delete", n, TrackAdd, k1, Uint32(3), Value{})
	if err := b.Set(ctx, k2, String("y")); err != nil {
		t.Fatal(err)
	}
	quiet(t, a, 300*time.Millisecond)
	// A tracker of additions only ignores modifications.
	addOnly, err := b.TrackAdd(ctx, "testgo.track.k3", TrackAdd)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []Value{Uint8(1), Uint8(2)} {
		if err := a.Set(ctx, "testgo.track.k3", v); err != nil {
			t.Fatal(err)
		}
	}
	check("add only", collect(t, b, 1)[0], TrackAdd, "testgo.track.k3", Uint8(1), Value{})
	quiet(t, b, 200*time.Millisecond)
	if err := b.TrackDelete(ctx, addOnly); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{k1, k2, "testgo.track.k3"} {
		if err := b.Delete(ctx, k); err != nil {
			t.Error(err)
		}
	}
	check("last delete", collect(t, a, 1)[0], TrackDelete, k1, Value{}, Uint32(3))
	if err := a.TrackDelete(ctx, exact); err != nil {
		t.Fatal(err)
	}
	quiet(t, a, 100*time.Millisecond)
}

func testClose(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, nil)
	ctx := testCtx(t)
	if _, err := c.TrackAdd(ctx, "testgo.close", TrackAdd); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, ok := <-c.Events(); ok {
		t.Error("events still open after close")
	}
	if _, err := c.Get(ctx, "totem.cluster_name"); !errors.Is(err, ErrClosed) {
		t.Errorf("get after close: %v, want ErrClosed", err)
	}
	// The daemon dropped the closed client's tracker: a change does not trouble it.
	other := dial(t, ref, nil)
	if err := other.Set(ctx, "testgo.close", Uint8(1)); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, "testgo.close"); err != nil {
		t.Fatal(err)
	}
}

// testRawLayouts checks the daemon's message sizes that the decoders rely on.
func testRawLayouts(t *testing.T, ref *refcorosync.Instance) {
	c := dial(t, ref, nil)
	ctx := testCtx(t)
	for _, tc := range []struct {
		room    uint64
		size    int
		cs      ipc.CS
		valLen  uint64
		hasData bool
	}{
		{0, 40, ipc.CSOk, 11, false},        // a length query
		{64, 104, ipc.CSOk, 11, true},       // the answer is sized by the room offered
		{4, 40, ipc.CSErrInvalid, 0, false}, // too small: a bare 40-byte error answer
	} {
		req, _ := GetRequest{Key: "totem.cluster_name", ValueLen: tc.room}.Encode()
		res, err := c.call(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		r, err := DecodeGetResponse(res)
		if err != nil || len(res) != tc.size || r.Error != tc.cs || r.ValueLen != tc.valLen || (r.Data != nil) != tc.hasData {
			t.Errorf("room %d: %d bytes, %+v, %v", tc.room, len(res), r, err)
		}
	}
	req, _ := IterInitRequest{Prefix: "totem.cluster_name"}.Encode()
	res, err := c.call(ctx, req)
	if err != nil || len(res) != HandleResponseBytes {
		t.Fatalf("iter init: %d bytes, %v", len(res), err)
	}
	init, _ := DecodeIterInitResponse(res)
	next := IterNextRequest{IterHandle: init.IterHandle}.Encode()
	for _, want := range []ipc.CS{ipc.CSOk, ipc.CSErrNoSections} {
		res, err := c.call(ctx, next)
		if err != nil || len(res) != IterNextResponseBytes || ipc.ResponseError(res) != want {
			t.Errorf("iter next: %d bytes, %v, %v", len(res), ipc.ResponseError(res), err)
		}
	}
	res, err = c.call(ctx, IterFinalizeRequest{IterHandle: init.IterHandle}.Encode())
	if err != nil || len(res) != StatusResponseBytes || ipc.ResponseError(res) != ipc.CSOk {
		t.Errorf("iter finalize: %d bytes, %v", len(res), err)
	}
	// SET_CURRENT_MAP is refused while an iterator or tracker exists.
	h, err := c.TrackAdd(ctx, "testgo.raw", TrackAdd)
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.call(ctx, SetCurrentMapRequest{Map: MapStats}.Encode())
	if err != nil || len(res) != StatusResponseBytes || int32(u32(res, 0)) != ResSetCurrentMap || ipc.ResponseError(res) != ipc.CSErrBusy {
		t.Errorf("set current map with a tracker: %d bytes, %v, %v", len(res), ipc.ResponseError(res), err)
	}
	if err := c.TrackDelete(ctx, h); err != nil {
		t.Fatal(err)
	}
}
