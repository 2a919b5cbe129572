package quorum

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"

	"github.com/corosync-go/corosync/ipc"
)

// The offsets below are those gcc gives 3.1.7's ipc_quorum.h structs on amd64 (printed
// with offsetof from the real headers): request headers are 16 bytes and response headers
// 24; mar_quorum_ring_id_t is {u32 nodeid aligned 8; u64 seq aligned 8} (16 bytes); the
// notifications' lists start 4 bytes before the end of their struct (44, 52, 60), and
// the daemon sizes them sizeof + 4 per id.

func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

func checkHeader(t *testing.T, b []byte, id int32, size int) {
	t.Helper()
	if len(b) != size || int32(u32(b, 0)) != id || int(u32(b, 8)) != size {
		t.Fatalf("%d bytes, id %d, size %d; want id %d, %d bytes", len(b), int32(u32(b, 0)), u32(b, 8), id, size)
	}
}

func TestRequestLayouts(t *testing.T) {
	for _, id := range []int32{ReqGetQuorate, ReqTrackStop, ReqGetType} {
		b := EncodeHeaderRequest(id)
		checkHeader(t, b, id, 16)
		if err := DecodeHeaderRequest(b, id); err != nil {
			t.Error(err)
		}
	}
	b := TrackStartRequest{Flags: TrackChanges | TrackCurrent}.Encode()
	checkHeader(t, b, 1, 24)
	if u32(b, 16) != 3 || u32(b, 20) != 0 {
		t.Errorf("track start: %x", b[16:])
	}
	b = ModelGetTypeRequest{Model: ModelV1}.Encode()
	checkHeader(t, b, 4, 24)
	if u32(b, 16) != 1 || u32(b, 20) != 0 {
		t.Errorf("model gettype: %x", b[16:])
	}
}

func TestResponseLayouts(t *testing.T) {
	b := EncodeStatusResponse(ResTrackStart, ipc.CSErrExist)
	checkHeader(t, b, 1, 24)
	if u32(b, 16) != uint32(ipc.CSErrExist) {
		t.Errorf("status: %x", b)
	}
	b = GetQuorateResponse{Error: ipc.CSOk, Quorate: true}.Encode()
	checkHeader(t, b, 0, 32)
	if u32(b, 16) != 1 || u32(b, 24) != 1 {
		t.Errorf("getquorate: %x", b)
	}
	b = GetTypeResponse{Error: ipc.CSOk, Type: TypeSet}.Encode()
	checkHeader(t, b, 4, 32)
	if u32(b, 24) != 1 {
		t.Errorf("gettype: %x", b)
	}
	b = ModelGetTypeResponse{Error: ipc.CSErrInvalid, Type: TypeSet}.Encode()
	checkHeader(t, b, 5, 32)
	if u32(b, 16) != 7 || u32(b, 24) != 1 {
		t.Errorf("model gettype: %x", b)
	}
}

func TestNotificationLayouts(t *testing.T) {
	b := NotificationV0{Quorate: true, RingSeq: 0x1122334455, Members: []uint32{1, 2}}.Encode()
	checkHeader(t, b, 3, 48+8)
	if u32(b, 24) != 1 || u64(b, 32) != 0x1122334455 || u32(b, 40) != 2 || u32(b, 44) != 1 || u32(b, 48) != 2 || u32(b, 52) != 0 {
		t.Errorf("v0 notification: %x", b[24:])
	}
	b = Quorum{Quorate: true, RingID: RingID{NodeID: 7, Seq: 0x99}, Members: []uint32{7, 9}}.Encode()
	checkHeader(t, b, 6, 56+8)
	if u32(b, 24) != 1 || u32(b, 32) != 7 || u64(b, 40) != 0x99 || u32(b, 48) != 2 || u32(b, 52) != 7 || u32(b, 56) != 9 {
		t.Errorf("v1 quorum notification: %x", b[24:])
	}
	b = Nodelist{RingID: RingID{NodeID: 3, Seq: 12}, Members: []uint32{3, 4}, Joined: []uint32{4}, Left: []uint32{5, 6}}.Encode()
	checkHeader(t, b, 7, 64+20)
	if u32(b, 24) != 3 || u64(b, 32) != 12 || u32(b, 40) != 2 || u32(b, 48) != 1 || u32(b, 56) != 2 {
		t.Errorf("v1 nodelist counts: %x", b[24:60])
	}
	var ids []uint32
	for off := 60; off < 80; off += 4 {
		ids = append(ids, u32(b, off))
	}
	if !reflect.DeepEqual(ids, []uint32{3, 4, 4, 5, 6}) || u32(b, 80) != 0 {
		t.Errorf("v1 nodelist ids: %v", ids)
	}
}

// TestDecodeDaemonBytes decodes messages captured from corosync 3.1.7 (one node, ring
// 1.5), whose padding holds stack garbage the decoders must ignore.
func TestDecodeDaemonBytes(t *testing.T) {
	hex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nl, err := DecodeNodelist(hex("0700000000000000440000000000000001000000000000000100000000000000050000000000000001000000000000000000000000000000000000000100000000000000"))
	if err != nil || !reflect.DeepEqual(nl, Nodelist{RingID: RingID{1, 5}, Members: []uint32{1}}) {
		t.Errorf("nodelist: %+v, %v", nl, err)
	}
	q, err := DecodeQuorum(hex("06000000000000003c000000000000000100000000000000010000005e55000001000000000000000500000000000000010000000100000001000000"))
	if err != nil || !reflect.DeepEqual(q, Quorum{Quorate: true, RingID: RingID{1, 5}, Members: []uint32{1}}) {
		t.Errorf("quorum: %+v, %v", q, err)
	}
	mt, err := DecodeModelGetTypeResponse(hex("050000005f550000200000005e55000007000000bb7f00000100000000000000"))
	if err != nil || mt != (ModelGetTypeResponse{Error: ipc.CSErrInvalid, Type: TypeSet}) {
		t.Errorf("model gettype: %+v, %v", mt, err)
	}
	gq, err := DecodeGetQuorateResponse(hex("00000000fe7f0000200000006486479701000000000000000100000000000000"))
	if err != nil || gq != (GetQuorateResponse{Error: ipc.CSOk, Quorate: true}) {
		t.Errorf("getquorate: %+v, %v", gq, err)
	}
}

func TestRoundTrips(t *testing.T) {
	for _, c := range []struct {
		msg    []byte
		decode func([]byte) (any, error)
		want   any
	}{
		{TrackStartRequest{Flags: TrackChangesOnly}.Encode(), func(b []byte) (any, error) { return DecodeTrackStartRequest(b) }, TrackStartRequest{Flags: TrackChangesOnly}},
		{ModelGetTypeRequest{Model: ModelV0}.Encode(), func(b []byte) (any, error) { return DecodeModelGetTypeRequest(b) }, ModelGetTypeRequest{Model: ModelV0}},
		{GetTypeResponse{Error: ipc.CSOk, Type: TypeFree}.Encode(), func(b []byte) (any, error) { return DecodeGetTypeResponse(b) }, GetTypeResponse{Error: ipc.CSOk, Type: TypeFree}},
		{NotificationV0{RingSeq: 4}.Encode(), func(b []byte) (any, error) { return DecodeNotificationV0(b) }, NotificationV0{RingSeq: 4}},
		{Quorum{Quorate: true, Members: []uint32{1}}.Encode(), func(b []byte) (any, error) { return DecodeQuorum(b) }, Quorum{Quorate: true, Members: []uint32{1}}},
		{Nodelist{Left: []uint32{2}}.Encode(), func(b []byte) (any, error) { return DecodeNodelist(b) }, Nodelist{Left: []uint32{2}}},
	} {
		got, err := c.decode(c.msg)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("decoded %+v, %v; want %+v", got, err, c.want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good := Nodelist{RingID: RingID{1, 2}, Members: []uint32{1, 2}, Joined: []uint32{2}}.Encode()
	lying := bytes.Clone(good)
	binary.LittleEndian.PutUint32(lying[56:], 2) // two left ids that are not there
	if _, err := DecodeNodelist(lying); !errors.Is(err, ErrMalformed) {
		t.Errorf("nodelist with a lying count: %v", err)
	}
	huge := bytes.Clone(good)
	binary.LittleEndian.PutUint32(huge[40:], 0xffffffff)
	binary.LittleEndian.PutUint32(huge[48:], 0xffffffff)
	if _, err := DecodeNodelist(huge); !errors.Is(err, ErrMalformed) {
		t.Errorf("nodelist with huge counts: %v", err)
	}
	q := Quorum{Members: []uint32{1}}.Encode()
	binary.LittleEndian.PutUint32(q[48:], 3)
	if _, err := DecodeQuorum(q); !errors.Is(err, ErrMalformed) {
		t.Errorf("quorum with a lying count: %v", err)
	}
	short := NotificationV0{}.Encode()[:44]
	binary.LittleEndian.PutUint32(short[8:], 44)
	if _, err := DecodeNotificationV0(short); !errors.Is(err, ErrMalformed) {
		t.Errorf("short v0 notification: %v", err)
	}
	sized := GetQuorateResponse{}.Encode()
	binary.LittleEndian.PutUint32(sized[8:], 40)
	if _, err := DecodeGetQuorateResponse(sized); !errors.Is(err, ErrMalformed) {
		t.Errorf("header size mismatch: %v", err)
	}
	if _, err := DecodeGetTypeResponse(GetQuorateResponse{}.Encode()); !errors.Is(err, ErrMalformed) {
		t.Errorf("wrong id: %v", err)
	}
	if _, err := DecodeTrackStartRequest(EncodeHeaderRequest(ReqTrackStart)); !errors.Is(err, ErrMalformed) {
		t.Errorf("short track start: %v", err)
	}
	if err := DecodeHeaderRequest(EncodeHeaderRequest(ReqGetType), ReqGetQuorate); !errors.Is(err, ErrMalformed) {
		t.Errorf("wrong request id: %v", err)
	}
	if _, err := decodeEvent([]byte{1, 2}); !errors.Is(err, ErrMalformed) {
		t.Errorf("tiny event: %v", err)
	}
}

func TestDecodeEvent(t *testing.T) {
	ev, err := decodeEvent(NotificationV0{Quorate: true, RingSeq: 8, Members: []uint32{1}}.Encode())
	if err != nil || !reflect.DeepEqual(ev, Quorum{Quorate: true, RingID: RingID{Seq: 8}, Members: []uint32{1}}) {
		t.Errorf("v0 event: %+v, %v", ev, err)
	}
	if _, err := decodeEvent(EncodeStatusResponse(ResTrackStart, ipc.CSOk)); !errors.Is(err, ErrMalformed) {
		t.Errorf("non-event id: %v", err)
	}
}
