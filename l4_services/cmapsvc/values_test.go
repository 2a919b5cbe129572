package cmapsvc

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
)

// everyType is one value of each of the twelve cmap types.
var everyType = map[string]cmap.Value{
	"types.i8":  cmap.Int8(-8),
	"types.u8":  cmap.Uint8(200),
	"types.i16": cmap.Int16(-16000),
	"types.u16": cmap.Uint16(65000),
	"types.i32": cmap.Int32(math.MinInt32),
	"types.u32": cmap.Uint32(math.MaxUint32),
	"types.i64": cmap.Int64(math.MinInt64),
	"types.u64": cmap.Uint64(math.MaxUint64),
	"types.flt": cmap.Float(1.5),
	"types.dbl": cmap.Double(-2.25),
	"types.str": cmap.String("hello world"),
	"types.bin": cmap.Binary([]byte{0, 1, 2, 0xff}),
}

func TestSetGetEveryType(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.dial(t, false)
	ctx := testCtx(t)
	for k, v := range everyType {
		if err := c.Set(ctx, k, v); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	for k, v := range everyType {
		got, err := c.Get(ctx, k)
		if err != nil || !got.Equal(v) {
			t.Errorf("get %s = %v (%v), want %v", k, got, err, v)
		}
		if stored, _ := e.m.Get(k); !stored.Equal(v) {
			t.Errorf("map holds %v for %s", stored, k)
		}
	}
	entries, err := c.Iter(ctx, "types.")
	if err != nil || len(entries) != len(everyType) {
		t.Fatalf("iter: %v %v", entries, err)
	}
	for _, en := range entries {
		v := everyType[en.Key]
		if en.Type != v.Type() || en.Len != uint64(v.Len()) {
			t.Errorf("iter %s: %v %d, want %v %d", en.Key, en.Type, en.Len, v.Type(), v.Len())
		}
	}
	// Overwrite with another type, and an empty string.
	if err := c.Set(ctx, "types.u8", cmap.String("")); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "types.u8"); !got.Equal(cmap.String("")) {
		t.Errorf("retyped key: %v", got)
	}
}

// TestGetRoom checks the answers to each room a GET may offer.
func TestGetRoom(t *testing.T) {
	e := newEnv(t, Config{})
	e.m.Set("room.str", cmap.String("abcdef")) // 7 bytes with the NUL
	raw := e.raw(t)
	for _, tc := range []struct {
		room    uint64
		cs      ipc.CS
		resSize int
	}{
		{0, ipc.CSOk, cmap.GetResponseBytes},         // length query
		{3, ipc.CSErrInvalid, cmap.GetResponseBytes}, // too little room
		{7, ipc.CSOk, cmap.GetResponseBytes + 7},
		{100, ipc.CSOk, cmap.GetResponseBytes + 100}, // the room offered, zero-padded
		{1 << 40, ipc.CSOk, ipc.DefaultMaxMessageBytes},
	} {
		res := call(t, raw, encode(t, cmap.GetRequest{Key: "room.str", ValueLen: tc.room}))
		r, err := cmap.DecodeGetResponse(res)
		if err != nil || r.Error != tc.cs || len(res) != tc.resSize {
			t.Errorf("room %d: %+v %v, %d bytes; want %v, %d bytes", tc.room, r, err, len(res), tc.cs, tc.resSize)
			continue
		}
		if tc.cs == ipc.CSOk && (r.Type != cmap.TypeString || r.ValueLen != 7) {
			t.Errorf("room %d: type %v len %d", tc.room, r.Type, r.ValueLen)
		}
		if tc.cs == ipc.CSOk && tc.room > 0 && string(r.Data) != "abcdef\x00" {
			t.Errorf("room %d: data %q", tc.room, r.Data)
		}
	}
	res := call(t, raw, encode(t, cmap.GetRequest{Key: "room.none", ValueLen: 8}))
	if r, err := cmap.DecodeGetResponse(res); err != nil || r.Error != ipc.CSErrNotExist || len(res) != cmap.GetResponseBytes {
		t.Errorf("absent key: %+v %v %d bytes", r, err, len(res))
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t, Config{})
	e.m.Set("ro.key", cmap.Uint32(1))
	e.m.Set("ro.prefix.a", cmap.Uint32(1))
	e.m.Set("rw.str", cmap.String("x"))
	e.m.SetReadOnly("ro.key", false, true)
	e.m.SetReadOnly("ro.prefix.", true, true)
	c := e.dial(t, false)
	ctx := testCtx(t)
	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	_, err := c.Get(ctx, "no.such.key")
	check("get absent", err, ipc.CSErrNotExist)
	check("delete absent", c.Delete(ctx, "no.such.key"), ipc.CSErrNotExist)
	check("inc absent", c.Inc(ctx, "no.such.key"), ipc.CSErrNotExist)
	check("set read-only", c.Set(ctx, "ro.key", cmap.Uint32(2)), ipc.CSErrAccess)
	check("set under read-only prefix", c.Set(ctx, "ro.prefix.new", cmap.Uint32(2)), ipc.CSErrAccess)
	check("delete read-only", c.Delete(ctx, "ro.prefix.a"), ipc.CSErrAccess)
	check("inc read-only", c.Inc(ctx, "ro.key"), ipc.CSErrAccess)
	check("delete absent read-only", c.Delete(ctx, "ro.prefix.none"), ipc.CSErrAccess)
	check("inc string", c.Inc(ctx, "rw.str"), ipc.CSErrInvalid)
	check("bad char", c.Set(ctx, "bad key", cmap.Uint8(1)), ipc.CSErrNameTooLong)
	check("too short", c.Set(ctx, "ab", cmap.Uint8(1)), ipc.CSErrNameTooLong)
	check("255 chars", c.Set(ctx, strings.Repeat("k", 255), cmap.Uint8(1)), nil)
	if v, _ := e.m.Get("ro.key"); v.Uint32() != 1 {
		t.Errorf("read-only key changed to %v", v)
	}

	// What the Go client refuses to send, sent raw.
	raw := e.raw(t)
	// set sends a SET of data with type typ (the encoder is given a binary value, then
	// the type byte is patched, as a client could send anything).
	set := func(key string, typ cmap.Type, data []byte) ipc.CS {
		t.Helper()
		b := encode(t, cmap.SetRequest{Key: key, Value: cmap.Binary(data)})
		b[cmap.SetRequestBytes-8] = byte(typ)
		cs, err := cmap.DecodeStatusResponse(call(t, raw, b), cmap.ResSet)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	for _, tc := range []struct {
		what string
		key  string
		typ  cmap.Type
		data []byte
		want ipc.CS
	}{
		{"16 KiB binary", "big.ok", cmap.TypeBinary, make([]byte, cmap.MaxValueBytes), ipc.CSOk},
		{"value over 16 KiB", "big.value", cmap.TypeBinary, make([]byte, cmap.MaxValueBytes+1), ipc.CSErrInvalid},
		{"u32 of 3 bytes", "bad.len", cmap.TypeUint32, []byte{1, 2, 3}, ipc.CSErrInvalid},
		{"unknown type", "bad.type", 99, []byte{1}, ipc.CSErrInvalid},
		{"string with a NUL inside", "bad.str", cmap.TypeString, []byte("a\x00b"), ipc.CSErrInvalid},
		{"string without NUL (libcmap)", "ok.str", cmap.TypeString, []byte("hello"), ipc.CSOk},
		{"empty string without NUL", "ok.empty", cmap.TypeString, nil, ipc.CSOk},
		{"read-only checked first", "ro.key", cmap.TypeBinary, make([]byte, cmap.MaxValueBytes+1), ipc.CSErrAccess},
	} {
		if cs := set(tc.key, tc.typ, tc.data); cs != tc.want {
			t.Errorf("%s: %v, want %v", tc.what, cs, tc.want)
		}
	}
	for _, k := range []string{"big.value", "bad.len", "bad.type", "bad.str"} {
		if _, err := e.m.Get(k); err == nil {
			t.Errorf("refused value stored under %s", k)
		}
	}
	if v, err := e.m.Get("ok.empty"); err != nil || !v.Equal(cmap.String("")) {
		t.Errorf("empty libcmap string stored as %v %v", v, err)
	}
	if v, err := e.m.Get("ok.str"); err != nil || !v.Equal(cmap.String("hello")) {
		t.Errorf("libcmap string stored as %v %v", v, err)
	}
	if v, err := c.Get(ctx, "ok.str"); err != nil || v.String() != "hello" {
		t.Errorf("libcmap string read back as %q %v", v, err)
	}

	// A key name filling its 256 bytes cannot be a C string.
	b := encode(t, cmap.DeleteRequest{Key: "abc"})
	copy(b[ipc.RequestHeaderBytes+8:], strings.Repeat("z", 256))
	b[ipc.RequestHeaderBytes] = 0 // length 256 = 0x100
	b[ipc.RequestHeaderBytes+1] = 1
	if cs, _ := cmap.DecodeStatusResponse(call(t, raw, b), cmap.ResDelete); cs != ipc.CSErrInvalid {
		t.Errorf("unterminated name: %v", cs)
	}
}

func TestAdjust(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.dial(t, false)
	ctx := testCtx(t)
	e.m.Set("adj.u8", cmap.Uint8(255))
	e.m.Set("adj.i64", cmap.Int64(0))
	if err := c.Inc(ctx, "adj.u8"); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.m.Get("adj.u8"); v.Uint8() != 0 {
		t.Errorf("u8 255+1 = %v, want the C wrap to 0", v)
	}
	for range 3 {
		if err := c.Dec(ctx, "adj.i64"); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := e.m.Get("adj.i64"); v.Int64() != -3 {
		t.Errorf("i64 = %v, want -3", v)
	}
	raw := e.raw(t)
	res := call(t, raw, encode(t, cmap.AdjustIntRequest{Key: "adj.i64", Step: 1000}))
	if cs, err := cmap.DecodeStatusResponse(res, cmap.ResAdjustInt); err != nil || cs != ipc.CSOk {
		t.Fatalf("adjust by 1000: %v %v", cs, err)
	}
	if v, _ := e.m.Get("adj.i64"); v.Int64() != 997 {
		t.Errorf("i64 = %v, want 997", v)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.dial(t, false)
	ctx := testCtx(t)
	e.m.Set("del.a", cmap.Uint8(1))
	if err := c.Delete(ctx, "del.a"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Get("del.a"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("deleted key still there: %v", err)
	}
}
