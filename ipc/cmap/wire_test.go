package cmap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/mar"
)

// The offsets below are those gcc gives 3.1.7's ipc_cmap.h structs on amd64 (printed with
// offsetof from the real headers): mar_name_t is {u16 length aligned 8; value[256] aligned
// 8}, 264 bytes; mar_size_t and mar_uint64_t are aligned 8; value[] follows aligned 8.

func u16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

func checkReqHeader(t *testing.T, b []byte, id int32, size int) {
	t.Helper()
	if len(b) != size || int32(u32(b, 0)) != id || int(u32(b, 8)) != size {
		t.Fatalf("header: %d bytes, id %d, size %d; want id %d, %d bytes", len(b), int32(u32(b, 0)), u32(b, 8), id, size)
	}
}

func checkResHeader(t *testing.T, b []byte, id int32, size int, cs ipc.CS) {
	t.Helper()
	if len(b) != size || int32(u32(b, 0)) != id || int(u32(b, 8)) != size || ipc.CS(u32(b, 16)) != cs {
		t.Fatalf("header: %d bytes, id %d, size %d, error %d; want id %d, %d bytes, %v",
			len(b), int32(u32(b, 0)), u32(b, 8), u32(b, 16), id, size, cs)
	}
}

func checkName(t *testing.T, b []byte, off int, want string) {
	t.Helper()
	if int(u16(b, off)) != len(want) || string(b[off+8:off+8+len(want)]) != want || !allZero(b[off+8+len(want):off+264]) {
		t.Fatalf("name at %d: length %d, value %q", off, u16(b, off), b[off+8:off+8+len(want)])
	}
}

func allZero(b []byte) bool { return bytes.Count(b, []byte{0}) == len(b) }

func TestRequestLayouts(t *testing.T) {
	b, err := SetRequest{Key: "abc", Value: Uint32(0x01020304)}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	checkReqHeader(t, b, 0, 300)
	checkName(t, b, 16, "abc")
	if u64(b, 280) != 4 || b[288] != 6 || u32(b, 296) != 0x01020304 {
		t.Errorf("set: value_len %d type %d value %x", u64(b, 280), b[288], b[296:])
	}
	b, _ = SetRequest{Key: "k.s", Value: String("hi")}.Encode()
	if u64(b, 280) != 3 || b[288] != 11 || string(b[296:]) != "hi\x00" {
		t.Errorf("string set carries %d bytes %q", u64(b, 280), b[296:])
	}

	b, _ = DeleteRequest{Key: "totem.token"}.Encode()
	checkReqHeader(t, b, 1, 280)
	checkName(t, b, 16, "totem.token")

	b, _ = GetRequest{Key: "a.b", ValueLen: 256}.Encode()
	checkReqHeader(t, b, 2, 288)
	checkName(t, b, 16, "a.b")
	if u64(b, 280) != 256 {
		t.Errorf("get: value_len %d", u64(b, 280))
	}

	b, _ = AdjustIntRequest{Key: "a.b", Step: -1}.Encode()
	checkReqHeader(t, b, 3, 288)
	if int32(u32(b, 280)) != -1 || !allZero(b[284:]) {
		t.Errorf("adjust: step %x", b[280:])
	}

	b, _ = IterInitRequest{Prefix: "nodelist."}.Encode()
	checkReqHeader(t, b, 4, 280)
	checkName(t, b, 16, "nodelist.")

	for id, b := range map[int32][]byte{
		5: IterNextRequest{IterHandle: 0x1122334455667788}.Encode(),
		6: IterFinalizeRequest{IterHandle: 0x1122334455667788}.Encode(),
		8: TrackDeleteRequest{TrackHandle: 0x1122334455667788}.Encode(),
	} {
		checkReqHeader(t, b, id, 24)
		if u64(b, 16) != 0x1122334455667788 {
			t.Errorf("request %d: handle %x", id, u64(b, 16))
		}
	}

	b, _ = TrackAddRequest{Key: "x.y", TrackType: TrackAdd | TrackPrefix, TrackInstHandle: 42}.Encode()
	checkReqHeader(t, b, 7, 296)
	checkName(t, b, 16, "x.y")
	if u32(b, 280) != 12 || u64(b, 288) != 42 {
		t.Errorf("track add: type %d inst %d", u32(b, 280), u64(b, 288))
	}

	b = SetCurrentMapRequest{Map: MapStats}.Encode()
	checkReqHeader(t, b, 9, 24)
	if u32(b, 16) != 1 {
		t.Errorf("set current map: %d", u32(b, 16))
	}
}

func TestResponseLayouts(t *testing.T) {
	for _, id := range []int32{ResSet, ResDelete, ResAdjustInt, ResIterFinalize, ResSetCurrentMap} {
		checkResHeader(t, EncodeStatusResponse(id, ipc.CSErrAccess), id, 24, ipc.CSErrAccess)
	}

	b := GetResponse{Error: ipc.CSOk, Type: TypeString, ValueLen: 4, Data: []byte("abc\x00"), Room: 256}.Encode()
	checkResHeader(t, b, 2, 296, ipc.CSOk)
	if u64(b, 24) != 4 || b[32] != 11 || string(b[40:44]) != "abc\x00" || !allZero(b[44:]) {
		t.Errorf("get: value_len %d type %d value %q", u64(b, 24), b[32], b[40:48])
	}

	b = IterInitResponse{Error: ipc.CSOk, IterHandle: 7}.Encode()
	checkResHeader(t, b, 4, 32, ipc.CSOk)
	if u64(b, 24) != 7 {
		t.Error("iter init handle")
	}
	b = TrackAddResponse{Error: ipc.CSOk, TrackHandle: 9}.Encode()
	checkResHeader(t, b, 7, 32, ipc.CSOk)
	if u64(b, 24) != 9 {
		t.Error("track add handle")
	}
	b = TrackDeleteResponse{Error: ipc.CSOk, TrackInstHandle: 11}.Encode()
	checkResHeader(t, b, 8, 32, ipc.CSOk)
	if u64(b, 24) != 11 {
		t.Error("track delete cookie")
	}

	b, _ = IterNextResponse{Error: ipc.CSOk, Key: "totem.token", ValueLen: 4, Type: TypeUint32}.Encode()
	checkResHeader(t, b, 5, 304, ipc.CSOk)
	checkName(t, b, 24, "totem.token")
	if u64(b, 288) != 4 || b[296] != 6 {
		t.Errorf("iter next: value_len %d type %d", u64(b, 288), b[296])
	}

	b, _ = NotifyCallback{TrackInstHandle: 5, Event: TrackModify, Key: "a.b", New: Uint16(2), Old: String("x")}.Encode()
	checkResHeader(t, b, 9, 336+2+2, ipc.CSOk)
	checkName(t, b, 32, "a.b")
	if u64(b, 24) != 5 || u32(b, 296) != 2 || b[304] != 4 || b[312] != 11 || u64(b, 320) != 2 || u64(b, 328) != 2 ||
		u16(b, 336) != 2 || string(b[338:]) != "x\x00" {
		t.Errorf("notify: %x", b[296:])
	}
}

// TestDecodeHandBuilt decodes messages laid out by hand at the C offsets (as the daemon
// sends them), not by this package's encoders.
func TestDecodeHandBuilt(t *testing.T) {
	put := func(b []byte, off int, v any) {
		switch v := v.(type) {
		case uint8:
			b[off] = v
		case uint16:
			binary.LittleEndian.PutUint16(b[off:], v)
		case uint32:
			binary.LittleEndian.PutUint32(b[off:], v)
		case uint64:
			binary.LittleEndian.PutUint64(b[off:], v)
		case string:
			copy(b[off:], v)
		}
	}
	// A notification as exec/cmap.c's cmap_notify_fn sends it.
	b := make([]byte, 336+4+8)
	ipc.PutResponseHeader(b, 9, ipc.CSOk)
	put(b, 24, uint64(77))
	put(b, 32, uint16(7))
	put(b, 40, "a.b.c.d")
	put(b, 296, uint32(2))
	put(b, 304, uint8(6))
	put(b, 312, uint8(8))
	put(b, 320, uint64(4))
	put(b, 328, uint64(8))
	put(b, 336, uint32(10))
	put(b, 340, uint64(9))
	n, err := DecodeNotifyCallback(b)
	if err != nil {
		t.Fatal(err)
	}
	want := NotifyCallback{TrackInstHandle: 77, Event: TrackModify, Key: "a.b.c.d", New: Uint32(10), Old: Uint64(9)}
	if !reflect.DeepEqual(n, want) {
		t.Errorf("got %+v, want %+v", n, want)
	}
	// A GET answer with more room than the value (the daemon sizes it by the request).
	b = make([]byte, 40+16)
	ipc.PutResponseHeader(b, 2, ipc.CSOk)
	put(b, 24, uint64(2))
	put(b, 32, uint8(4))
	put(b, 40, uint16(513))
	g, err := DecodeGetResponse(b)
	if err != nil || !g.Value().Equal(Uint16(513)) || g.Room != 16 {
		t.Errorf("get response: %+v, %v", g, err)
	}
	// The answer to a length query: no room, only the length and type.
	b = make([]byte, 40)
	ipc.PutResponseHeader(b, 2, ipc.CSOk)
	put(b, 24, uint64(11))
	put(b, 32, uint8(11))
	g, err = DecodeGetResponse(b)
	if err != nil || g.ValueLen != 11 || g.Type != TypeString || g.Data != nil {
		t.Errorf("length query answer: %+v, %v", g, err)
	}
	// An iteration step.
	b = make([]byte, 304)
	ipc.PutResponseHeader(b, 5, ipc.CSOk)
	put(b, 24, uint16(11))
	put(b, 32, "totem.token")
	put(b, 288, uint64(4))
	put(b, 296, uint8(6))
	it, err := DecodeIterNextResponse(b)
	if err != nil || it != (IterNextResponse{Error: ipc.CSOk, Key: "totem.token", ValueLen: 4, Type: TypeUint32}) {
		t.Errorf("iter next: %+v, %v", it, err)
	}
	// A name is a C string: a NUL ends it before its length.
	b = make([]byte, 280)
	ipc.PutRequestHeader(b, 1)
	put(b, 16, uint16(9))
	put(b, 24, "abc\x00defgh")
	d, err := DecodeDeleteRequest(b)
	if err != nil || d.Key != "abc" {
		t.Errorf("delete: %+v, %v", d, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	valid, _ := SetRequest{Key: "abc", Value: Binary([]byte("12345678"))}.Encode()
	cases := map[string][]byte{}
	short := bytes.Clone(valid[:200])
	binary.LittleEndian.PutUint32(short[8:], 200)
	cases["short"] = short
	b := bytes.Clone(valid)
	binary.LittleEndian.PutUint64(b[280:], 9) // one byte more than follows
	cases["value_len past the end"] = b
	b = bytes.Clone(valid)
	binary.LittleEndian.PutUint64(b[280:], 1<<63)
	cases["huge value_len"] = b
	b = bytes.Clone(valid)
	binary.LittleEndian.PutUint16(b[16:], 257)
	cases["name length 257"] = b
	b = bytes.Clone(valid)
	binary.LittleEndian.PutUint16(b[16:], 256)
	copy(b[24:280], strings.Repeat("a", 256))
	cases["name without NUL"] = b
	b = bytes.Clone(valid)
	binary.LittleEndian.PutUint32(b[0:], 2)
	cases["wrong id"] = b
	b = bytes.Clone(valid)
	binary.LittleEndian.PutUint32(b[8:], 100)
	cases["wrong size"] = b
	for name, msg := range cases {
		if _, err := DecodeSetRequest(msg); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := DecodeSetRequest(short); !errors.Is(err, mar.ErrShort) {
		t.Errorf("short: %v does not wrap mar.ErrShort", err)
	}

	n, _ := NotifyCallback{Key: "a.b.c", New: Uint32(1), Old: Uint32(2)}.Encode()
	binary.LittleEndian.PutUint64(n[328:], ^uint64(0)-2) // new_len + old_len overflows
	if _, err := DecodeNotifyCallback(n); !errors.Is(err, ErrMalformed) {
		t.Errorf("overflowing value lengths: %v", err)
	}
	g := GetResponse{Error: ipc.CSOk, Type: TypeBinary, ValueLen: 3, Data: []byte("abc"), Room: 3}.Encode()
	binary.LittleEndian.PutUint64(g[24:], 4)
	if _, err := DecodeGetResponse(g); !errors.Is(err, ErrMalformed) {
		t.Errorf("value longer than its room: %v", err)
	}
	if _, err := DecodeStatusResponse(make([]byte, 10), ResSet); !errors.Is(err, ErrMalformed) {
		t.Errorf("10-byte response: %v", err)
	}
	if _, err := DecodeStatusResponse(EncodeStatusResponse(ResDelete, ipc.CSOk), ResSet); !errors.Is(err, ErrMalformed) {
		t.Errorf("response of another id: %v", err)
	}
}

func TestEncodeRefusesLongKeys(t *testing.T) {
	long := strings.Repeat("k", KeyNameMax+1)
	if _, err := (SetRequest{Key: long, Value: Uint8(1)}).Encode(); !errors.Is(err, ErrKeyTooLong) || !errors.Is(err, ipc.CSErrNameTooLong) {
		t.Errorf("set: %v", err)
	}
	if _, err := (NotifyCallback{Key: long}).Encode(); !errors.Is(err, ErrKeyTooLong) {
		t.Errorf("notify: %v", err)
	}
	if b, err := (GetRequest{Key: long[:KeyNameMax]}).Encode(); err != nil || u16(b, 16) != KeyNameMax || b[24+KeyNameMax] != 0 {
		t.Errorf("a 255-byte key: %v", err)
	}
}
