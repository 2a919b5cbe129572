package votequorum

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc"
)

// The offsets below are those gcc gives 3.1.7's ipc_votequorum.h structs on amd64
// (printed with offsetof from the real headers): request headers are 16 bytes and
// response headers 24; char name[255] fields are unaligned, so qdevice_update's new name
// starts at 271 and the int after a name at 272; struct mar_votequorum_ring_id is {u32
// nodeid; u64 seq} (16 bytes, seq at 8); the notifications' lists are 8-byte aligned.

func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

func checkHeader(t *testing.T, b []byte, id int32, size int) {
	t.Helper()
	if len(b) != size || int32(u32(b, 0)) != id || int(u32(b, 8)) != size {
		t.Fatalf("%d bytes, id %d, size %d; want id %d, %d bytes", len(b), int32(u32(b, 0)), u32(b, 8), id, size)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// cstr reads the NUL-terminated string at off.
func cstr(b []byte, off int) string {
	s := b[off:]
	return string(s[:bytes.IndexByte(s, 0)])
}

func TestRequestLayouts(t *testing.T) {
	checkHeader(t, EncodeHeaderRequest(ReqTrackStop), 4, 16)
	for id, b := range map[int32][]byte{
		ReqGetInfo:     GetInfoRequest{NodeID: 7}.Encode(),
		ReqSetExpected: SetExpectedRequest{ExpectedVotes: 7}.Encode(),
	} {
		checkHeader(t, b, id, 24)
		if u32(b, 16) != 7 || u32(b, 20) != 0 {
			t.Errorf("request %d: %x", id, b[16:])
		}
	}
	b := SetVotesRequest{NodeID: 3, Votes: 2}.Encode()
	checkHeader(t, b, 2, 24)
	if u32(b, 16) != 2 || u32(b, 20) != 3 {
		t.Errorf("setvotes: %x", b[16:])
	}
	b = TrackStartRequest{Context: 0x0102030405060708, Flags: TrackChanges}.Encode()
	checkHeader(t, b, 3, 32)
	if u64(b, 16) != 0x0102030405060708 || u32(b, 24) != 2 || u32(b, 28) != 0 {
		t.Errorf("trackstart: %x", b[16:])
	}
	for id, b := range map[int32][]byte{
		ReqQdeviceRegister:   must(QdeviceRegisterRequest{Name: "dev"}.Encode()),
		ReqQdeviceUnregister: must(QdeviceUnregisterRequest{Name: "dev"}.Encode()),
	} {
		checkHeader(t, b, id, 272)
		if cstr(b, 16) != "dev" || bytes.Count(b[19:], []byte{0}) != 272-19 {
			t.Errorf("request %d: %x", id, b[16:32])
		}
	}
	b = must(QdeviceUpdateRequest{OldName: "old", NewName: "new"}.Encode())
	checkHeader(t, b, 7, 528)
	if cstr(b, 16) != "old" || cstr(b, 271) != "new" || u32(b, 524) != 0 {
		t.Errorf("update: %q %q", cstr(b, 16), cstr(b, 271))
	}
	b = must(QdevicePollRequest{Name: "dev", CastVote: true, RingID: RingID{NodeID: 4, Seq: 0x1234567890}}.Encode())
	checkHeader(t, b, 8, 296)
	if cstr(b, 16) != "dev" || u32(b, 272) != 1 || u32(b, 276) != 0 || u32(b, 280) != 4 || u32(b, 284) != 0 || u64(b, 288) != 0x1234567890 {
		t.Errorf("poll: %x", b[264:])
	}
	b = must(QdeviceMasterWinsRequest{Name: "dev", Allow: true}.Encode())
	checkHeader(t, b, 9, 280)
	if cstr(b, 16) != "dev" || u32(b, 272) != 1 || u32(b, 276) != 0 {
		t.Errorf("master wins: %x", b[264:])
	}
}

func TestResponseLayouts(t *testing.T) {
	b := EncodeStatusResponse(ipc.CSErrNotExist)
	checkHeader(t, b, 0, 24)
	if u32(b, 16) != uint32(ipc.CSErrNotExist) {
		t.Errorf("status: %x", b)
	}
	info := Info{NodeID: 1, State: NodeStateMember, Votes: 2, ExpectedVotes: 3, HighestExpected: 4, TotalVotes: 5, Quorum: 6, Flags: InfoQuorate | InfoQdeviceRegistered, QdeviceVotes: 7, QdeviceName: "qd"}
	b = must(GetInfoResponse{Error: ipc.CSOk, Info: info}.Encode())
	checkHeader(t, b, 1, 320)
	for i, want := range []uint32{1, 1, 2, 3, 4, 5, 6, 66, 7} {
		if got := u32(b, 24+4*i); got != want {
			t.Errorf("getinfo field %d at %d = %d, want %d", i, 24+4*i, got, want)
		}
	}
	if cstr(b, 60) != "qd" || bytes.Count(b[62:], []byte{0}) != 320-62 {
		t.Errorf("getinfo name: %x", b[60:])
	}
}

func TestNotificationLayouts(t *testing.T) {
	b := Quorum{Context: 9, Quorate: true, Nodes: []Node{{1, NodeStateMember}, {0, 0}, {3, NodeStateDead}}}.Encode()
	checkHeader(t, b, 3, 48+24)
	if u32(b, 24) != 1 || u64(b, 32) != 9 || u32(b, 40) != 3 || u32(b, 48) != 1 || u32(b, 52) != 1 || u32(b, 56) != 0 || u32(b, 64) != 3 || u32(b, 68) != 2 {
		t.Errorf("quorum: %x", b[24:])
	}
	b = Nodelist{Context: 9, RingID: RingID{NodeID: 2, Seq: 77}, Members: []uint32{2, 5}}.Encode()
	checkHeader(t, b, 5, 56+8)
	if u64(b, 24) != 9 || u32(b, 32) != 2 || u64(b, 40) != 77 || u32(b, 48) != 2 || u32(b, 56) != 2 || u32(b, 60) != 5 {
		t.Errorf("nodelist: %x", b[24:])
	}
	b = ExpectedVotes{Context: 9, ExpectedVotes: 3}.Encode()
	checkHeader(t, b, 4, 40)
	if u64(b, 24) != 9 || u32(b, 32) != 3 {
		t.Errorf("expected votes: %x", b[24:])
	}
}

// TestDecodeDaemonBytes decodes messages captured from corosync 3.1.7 (one node, ring
// 1.5, tracking context 7), whose padding holds stack garbage the decoders must ignore.
func TestDecodeDaemonBytes(t *testing.T) {
	hexb := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nl, err := DecodeNodelist(hexb("05000000415600003c0000006c7f00000100000041560000070000000000000001000000000000000500000000000000010000000000000001000000"))
	if err != nil || !reflect.DeepEqual(nl, Nodelist{Context: 7, RingID: RingID{1, 5}, Members: []uint32{1}}) {
		t.Errorf("nodelist: %+v, %v", nl, err)
	}
	q, err := DecodeQuorum(hexb("0300000000000000380000000000000001000000000000000100000000000000070000000000000001000000000000000100000001000000"))
	if err != nil || !reflect.DeepEqual(q, Quorum{Context: 7, Quorate: true, Nodes: []Node{{1, NodeStateMember}}}) {
		t.Errorf("quorum: %+v, %v", q, err)
	}
	// An error answer to GETINFO: the body is stack garbage.
	bad := make([]byte, 320)
	copy(bad, hexb("010000000000000040010000000000000c000000fc7f0000000000000000000000000000000000003984fbbd6c7f00000100000002000000e5c41ebe6c7f0000"))
	bad[200] = 'x'
	gi, err := DecodeGetInfoResponse(bad)
	if err != nil || gi != (GetInfoResponse{Error: ipc.CSErrNotExist}) {
		t.Errorf("getinfo error: %+v, %v", gi, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	q := Quorum{Nodes: []Node{{1, 1}}}.Encode()
	binary.LittleEndian.PutUint32(q[40:], 2)
	if _, err := DecodeQuorum(q); !errors.Is(err, ErrMalformed) {
		t.Errorf("quorum with a lying count: %v", err)
	}
	binary.LittleEndian.PutUint32(q[40:], 0xffffffff)
	if _, err := DecodeQuorum(q); !errors.Is(err, ErrMalformed) {
		t.Errorf("quorum with a huge count: %v", err)
	}
	nl := Nodelist{Members: []uint32{1}}.Encode()
	binary.LittleEndian.PutUint32(nl[48:], 2)
	if _, err := DecodeNodelist(nl); !errors.Is(err, ErrMalformed) {
		t.Errorf("nodelist with a lying count: %v", err)
	}
	unterminated := must(QdeviceRegisterRequest{Name: "x"}.Encode())
	for i := 16; i < 16+QdeviceMaxNameLen; i++ {
		unterminated[i] = 'x'
	}
	if _, err := DecodeQdeviceRegisterRequest(unterminated); !errors.Is(err, ErrMalformed) {
		t.Errorf("name without NUL: %v", err)
	}
	if _, err := DecodeQdevicePollRequest(must(QdeviceMasterWinsRequest{Name: "x"}.Encode())); !errors.Is(err, ErrMalformed) {
		t.Errorf("wrong request id: %v", err)
	}
	short := GetInfoRequest{}.Encode()[:20]
	binary.LittleEndian.PutUint32(short[8:], 20)
	if _, err := DecodeGetInfoRequest(short); !errors.Is(err, ErrMalformed) {
		t.Errorf("short getinfo: %v", err)
	}
	gi := must(GetInfoResponse{Error: ipc.CSOk}.Encode())
	binary.LittleEndian.PutUint32(gi[8:], 300)
	if _, err := DecodeGetInfoResponse(gi); !errors.Is(err, ErrMalformed) {
		t.Errorf("header size mismatch: %v", err)
	}
	if _, err := DecodeExpectedVotes(EncodeStatusResponse(ipc.CSOk)); !errors.Is(err, ErrMalformed) {
		t.Errorf("wrong response id: %v", err)
	}
	if _, err := decodeEvent(EncodeStatusResponse(ipc.CSOk)); !errors.Is(err, ErrMalformed) {
		t.Errorf("status as event: %v", err)
	}
}

func TestEncodeRejects(t *testing.T) {
	long := strings.Repeat("n", QdeviceMaxNameLen)
	if _, err := (QdeviceRegisterRequest{Name: long}).Encode(); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("255-byte name: %v", err)
	}
	if _, err := (QdeviceUpdateRequest{OldName: "a", NewName: "b\x00c"}).Encode(); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("name with NUL: %v", err)
	}
	if b, err := (QdevicePollRequest{Name: long[:254]}).Encode(); err != nil || cstr(b, 16) != long[:254] {
		t.Errorf("254-byte name: %v", err)
	}
}

func TestStrings(t *testing.T) {
	if s := (InfoTwoNode | InfoQuorate | InfoQdeviceRegistered | 1<<12).String(); s != "2Node Quorate Qdevice 0x1000" {
		t.Errorf("flags: %q", s)
	}
	if s := NodeStateLeaving.String() + NodeState(9).String(); s != "LeavingNodeState(9)" {
		t.Errorf("states: %q", s)
	}
}
