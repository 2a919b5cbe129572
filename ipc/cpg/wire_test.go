package cpg

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

// The offsets below are those gcc gives 3.1.7's ipc_cpg.h structs on amd64 (printed with
// offsetof from the v3.1.7 headers): mar_cpg_name_t is 136 bytes (length @0, value @8),
// mar_cpg_address_t 24 (nodeid @0, pid @8, reason @16).

func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

func checkReqHeader(t *testing.T, b []byte, id int32, size int) {
	t.Helper()
	if len(b) != size || int32(u32(b, 0)) != id || int(u32(b, 8)) != size {
		t.Errorf("request header: id %d size %d (%d bytes), want id %d size %d", int32(u32(b, 0)), u32(b, 8), len(b), id, size)
	}
}

func checkNameAt(t *testing.T, b []byte, off int, name string) {
	t.Helper()
	if int(u32(b, off)) != len(name) || string(b[off+8:off+8+len(name)]) != name {
		t.Errorf("name at %d: length %d value %q, want %q", off, u32(b, off), b[off+8:off+8+len(name)], name)
	}
	if rest := b[off+8+len(name) : off+136]; !bytes.Equal(rest, make([]byte, len(rest))) {
		t.Errorf("name at %d not zero-padded", off)
	}
}

func mustEnc(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestEncodeOffsets(t *testing.T) {
	b := mustEnc(JoinRequest{Group: "grp", PID: 1234, Flags: DeliverInitialTotemConf}.Encode())
	checkReqHeader(t, b, 0, 168)
	checkNameAt(t, b, 16, "grp")
	if u32(b, 152) != 1234 || u32(b, 160) != 1 {
		t.Errorf("join: pid %d flags %d", u32(b, 152), u32(b, 160))
	}
	b = mustEnc(LeaveRequest{Group: "grp", PID: 99}.Encode())
	checkReqHeader(t, b, 1, 160)
	checkNameAt(t, b, 16, "grp")
	if u32(b, 152) != 99 {
		t.Errorf("leave pid %d", u32(b, 152))
	}
	b = McastRequest{Guarantee: TypeAgreed, Msg: []byte("hello")}.Encode()
	checkReqHeader(t, b, 2, 45)
	if u64(b, 16) != 0 || u32(b, 24) != 2 || u32(b, 32) != 5 || string(b[40:]) != "hello" {
		t.Errorf("mcast % x", b)
	}
	b = PartialMcastRequest{Guarantee: TypeAgreed, MsgLen: 10, Type: PartialContinued, Frag: []byte("abc")}.Encode()
	checkReqHeader(t, b, 12, 59)
	if u32(b, 24) != 2 || u32(b, 32) != 10 || u32(b, 40) != 3 || u32(b, 48) != 2 || string(b[56:]) != "abc" {
		t.Errorf("partial mcast % x", b)
	}
	b = mustEnc(MembershipRequest{Group: "grp"}.Encode())
	checkReqHeader(t, b, 3, 152)
	checkNameAt(t, b, 16, "grp")
	checkReqHeader(t, EncodeHeaderRequest(ReqLocalGet), 4, 16)
	checkReqHeader(t, EncodeHeaderRequest(ReqFinalize), 8, 16)
	b = mustEnc(IterationInitializeRequest{Group: "grp", Type: IterationOneGroup}.Encode())
	checkReqHeader(t, b, 5, 160)
	checkNameAt(t, b, 16, "grp")
	if u32(b, 152) != 2 {
		t.Errorf("iteration type %d", u32(b, 152))
	}
	b = IterationNextRequest{Handle: 1 << 40}.Encode()
	checkReqHeader(t, b, 6, 24)
	if u64(b, 16) != 1<<40 {
		t.Error("iteration next handle")
	}
	b = IterationFinalizeRequest{Handle: 7}.Encode()
	checkReqHeader(t, b, 7, 24)
	if u64(b, 16) != 7 {
		t.Error("iteration finalize handle")
	}
	b = mustEnc(ZCAllocRequest{MapSize: 4096, Path: "/dev/shm/corosync_zerocopy-abc"}.Encode())
	checkReqHeader(t, b, 9, 152)
	if u64(b, 16) != 4096 || string(b[24:54]) != "/dev/shm/corosync_zerocopy-abc" || b[54] != 0 {
		t.Errorf("zc alloc % x", b[16:60])
	}
	b = ZCFreeRequest{MapSize: 4096, ServerAddress: 0xdead}.Encode()
	checkReqHeader(t, b, 10, 32)
	if u64(b, 16) != 4096 || u64(b, 24) != 0xdead {
		t.Error("zc free")
	}
	b = ZCExecuteRequest{ServerAddress: 0xbeef}.Encode()
	checkReqHeader(t, b, 11, 24)
	if u64(b, 16) != 0xbeef {
		t.Error("zc execute")
	}

	b = EncodeStatusResponse(ResPartialSend, ipc.CSErrInterrupt)
	checkHeader(t, b, 18, 24, ipc.CSErrInterrupt)
	b = mustEnc(MembershipResponse{Error: ipc.CSOk, Members: []Address{{1, 10, 0}, {2, 20, 0}}}.Encode())
	checkHeader(t, b, 3, 9248, ipc.CSOk)
	if u32(b, 24) != 2 || u32(b, 32) != 1 || u32(b, 40) != 10 || u32(b, 56) != 2 || u32(b, 64) != 20 {
		t.Errorf("membership % x", b[24:80])
	}
	b = LocalGetResponse{Error: ipc.CSOk, NodeID: 3}.Encode()
	checkHeader(t, b, 7, 32, ipc.CSOk)
	if u32(b, 24) != 3 {
		t.Error("local nodeid")
	}
	b = IterationInitializeResponse{Error: ipc.CSOk, Handle: 1 << 33}.Encode()
	checkHeader(t, b, 9, 32, ipc.CSOk)
	if u64(b, 24) != 1<<33 {
		t.Error("iteration handle")
	}
	b = mustEnc(IterationNextResponse{Error: ipc.CSOk, Entry: IterationEntry{"grp", 4, 44}}.Encode())
	checkHeader(t, b, 10, 168, ipc.CSOk)
	checkNameAt(t, b, 24, "grp")
	if u32(b, 160) != 4 || u32(b, 164) != 44 {
		t.Error("iteration entry")
	}

	b = mustEnc(Deliver{Group: "grp", NodeID: 2, PID: 77, Msg: []byte("xyz")}.Encode())
	checkHeader(t, b, 5, 187, ipc.CSOk)
	checkNameAt(t, b, 24, "grp")
	if u32(b, 160) != 3 || u32(b, 168) != 2 || u32(b, 176) != 77 || string(b[184:]) != "xyz" {
		t.Errorf("deliver % x", b[160:])
	}
	b = mustEnc(PartialDeliver{Group: "grp", MsgLen: 9, NodeID: 2, PID: 77, Type: PartialLast, Frag: []byte("xyz")}.Encode())
	checkHeader(t, b, 17, 203, ipc.CSOk)
	if u32(b, 160) != 9 || u32(b, 168) != 3 || u32(b, 176) != 2 || u32(b, 184) != 77 || u32(b, 192) != 3 || string(b[200:]) != "xyz" {
		t.Errorf("partial deliver % x", b[160:])
	}
	b = mustEnc(ConfChg{Group: "grp", Members: []Address{{1, 10, 0}}, Left: []Address{{1, 11, ReasonProcDown}},
		Joined: []Address{{2, 12, ReasonJoin}, {2, 13, ReasonJoin}}}.Encode())
	checkHeader(t, b, 4, 184+4*24, ipc.CSOk)
	checkNameAt(t, b, 24, "grp")
	if u32(b, 160) != 1 || u32(b, 168) != 2 || u32(b, 176) != 1 {
		t.Errorf("confchg counts %d %d %d", u32(b, 160), u32(b, 168), u32(b, 176))
	}
	// Lists: members, left, joined.
	if u32(b, 192) != 10 || u32(b, 216) != 11 || u32(b, 224) != 5 || u32(b, 240) != 12 || u32(b, 264) != 13 || u32(b, 272) != 1 {
		t.Errorf("confchg lists % x", b[184:])
	}
	b = TotemConfChg{RingID: RingID{NodeID: 1, Seq: 1 << 36}, Members: []uint32{1, 2}}.Encode()
	checkHeader(t, b, 13, 48+8, ipc.CSOk)
	if u32(b, 24) != 1 || u64(b, 32) != 1<<36 || u32(b, 40) != 2 || u32(b, 44) != 1 || u32(b, 48) != 2 {
		t.Errorf("totem confchg % x", b[24:])
	}
	b = FlowControl{State: FlowControlEnabled}.Encode()
	checkHeader(t, b, 8, 32, ipc.CSOk)
	if u32(b, 24) != 1 {
		t.Error("flow control state")
	}
}

// TestDecodeHandBuilt decodes messages as the daemon lays them out, uninitialised fields
// included.
func TestDecodeHandBuilt(t *testing.T) {
	junk := func(b []byte) {
		for i := range b {
			b[i] = 0xa5
		}
	}
	// A delivery: 3.1.7 does not set its header's error field.
	b := make([]byte, 184+2)
	junk(b)
	ipc.PutResponseHeader(b, 5, 0x1643f880)
	binary.LittleEndian.PutUint32(b[24:], 3)
	copy(b[32:], "grp")
	binary.LittleEndian.PutUint32(b[160:], 2)
	binary.LittleEndian.PutUint32(b[168:], 1)
	binary.LittleEndian.PutUint32(b[176:], 42)
	copy(b[184:], "hi")
	d, err := DecodeDeliver(b)
	if err != nil || !reflect.DeepEqual(d, Deliver{Group: "grp", NodeID: 1, PID: 42, Msg: []byte("hi")}) {
		t.Errorf("deliver: %+v, %v", d, err)
	}
	// A membership answer: one member, reasons and unused slots uninitialised.
	b = make([]byte, 9248)
	junk(b)
	ipc.PutResponseHeader(b, 3, ipc.CSOk)
	binary.LittleEndian.PutUint32(b[24:], 1)
	binary.LittleEndian.PutUint32(b[32:], 1)
	binary.LittleEndian.PutUint32(b[40:], 42)
	m, err := DecodeMembershipResponse(b)
	if err != nil || len(m.Members) != 1 || m.Members[0].NodeID != 1 || m.Members[0].PID != 42 {
		t.Errorf("membership: %+v, %v", m, err)
	}
	// The end of an iteration: the entry is uninitialised, even its name's length.
	b = make([]byte, 168)
	junk(b)
	ipc.PutResponseHeader(b, 10, ipc.CSErrNoSections)
	it, err := DecodeIterationNextResponse(b)
	if err != nil || it != (IterationNextResponse{Error: ipc.CSErrNoSections}) {
		t.Errorf("iteration end: %+v, %v", it, err)
	}
	// A totem confchg as sent: 48 + 4n, the last 4 bytes unused; 44 + 4n is refused.
	for _, size := range []int{52, 48} {
		b = make([]byte, size)
		junk(b)
		ipc.PutResponseHeader(b, 13, ipc.CSOk)
		binary.LittleEndian.PutUint32(b[24:], 1)
		binary.LittleEndian.PutUint64(b[32:], 9)
		binary.LittleEndian.PutUint32(b[40:], 1)
		binary.LittleEndian.PutUint32(b[44:], 1)
		tc, err := DecodeTotemConfChg(b)
		if size == 48 {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("trimmed totem confchg: %+v, %v", tc, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(tc, TotemConfChg{RingID: RingID{1, 9}, Members: []uint32{1}}) {
			t.Errorf("totem confchg of %d bytes: %+v, %v", size, tc, err)
		}
	}
	// Bytes after a name's length are ignored (libcpg copies the caller's whole struct).
	b = mustEnc(JoinRequest{Group: "abc", PID: 1}.Encode())
	copy(b[27:152], strings.Repeat("z", 125))
	j, err := DecodeJoinRequest(b)
	if err != nil || j.Group != "abc" {
		t.Errorf("join with junk after the name: %+v, %v", j, err)
	}
	// MCAST's 24-byte header: the error word libcpg leaves uninitialised is ignored.
	b = McastRequest{Guarantee: TypeAgreed, Msg: []byte("m")}.Encode()
	binary.LittleEndian.PutUint64(b[16:], 0xdeadbeefdeadbeef)
	mc, err := DecodeMcastRequest(b)
	if err != nil || string(mc.Msg) != "m" || mc.Guarantee != TypeAgreed {
		t.Errorf("mcast: %+v, %v", mc, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	set32 := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	deliver := mustEnc(Deliver{Group: "g", Msg: []byte("abc")}.Encode())
	partial := mustEnc(PartialDeliver{Group: "g", MsgLen: 5, Type: PartialFirst, Frag: []byte("abc")}.Encode())
	confchg := mustEnc(ConfChg{Group: "g", Members: []Address{{1, 2, 0}}}.Encode())
	totem := TotemConfChg{Members: []uint32{1}}.Encode()
	mcast := McastRequest{Msg: []byte("abc")}.Encode()
	pmcast := PartialMcastRequest{MsgLen: 5, Type: PartialFirst, Frag: []byte("abc")}.Encode()
	join := mustEnc(JoinRequest{Group: "g"}.Encode())
	membership := mustEnc(MembershipResponse{Members: []Address{{1, 2, 0}}}.Encode())
	cases := []struct {
		name   string
		msg    []byte
		decode func([]byte) error
	}{
		{"deliver msglen too long", set32(deliver, 160, 4), errOf(DecodeDeliver)},
		{"deliver msglen too short", set32(deliver, 160, 2), errOf(DecodeDeliver)},
		{"deliver wrong id", set32(deliver, 0, 4), errOf(DecodeDeliver)},
		{"deliver wrong size", set32(deliver, 8, 100), errOf(DecodeDeliver)},
		{"deliver name length 129", set32(deliver, 24, 129), errOf(DecodeDeliver)},
		{"deliver short", set32(deliver[:100], 8, 100), errOf(DecodeDeliver)},
		{"partial fraglen over msglen", set32(partial, 160, 2), errOf(DecodePartialDeliver)},
		{"partial fraglen mismatch", set32(partial, 168, 4), errOf(DecodePartialDeliver)},
		{"partial type 0", set32(partial, 192, 0), errOf(DecodePartialDeliver)},
		{"partial type 4", set32(partial, 192, 4), errOf(DecodePartialDeliver)},
		{"confchg count past the end", set32(confchg, 168, 1), errOf(DecodeConfChg)},
		{"confchg huge count", set32(confchg, 176, 0xffffffff), errOf(DecodeConfChg)},
		{"confchg count short of the end", set32(confchg, 160, 0), errOf(DecodeConfChg)},
		{"totem count past the end", set32(totem, 40, 2), errOf(DecodeTotemConfChg)},
		{"totem huge count", set32(totem, 40, 0xffffffff), errOf(DecodeTotemConfChg)},
		{"mcast msglen mismatch", set32(mcast, 32, 4), errOf(DecodeMcastRequest)},
		{"partial mcast fraglen over msglen", set32(pmcast, 32, 2), errOf(DecodePartialMcastRequest)},
		{"partial mcast bad type", set32(pmcast, 48, 9), errOf(DecodePartialMcastRequest)},
		{"join wrong id", set32(join, 0, 1), errOf(DecodeJoinRequest)},
		{"join short", set32(join[:160], 8, 160), errOf(DecodeJoinRequest)},
		{"membership count over 384", set32(membership, 24, 385), errOf(DecodeMembershipResponse)},
		{"membership count past a short message", set32(set32(membership[:56], 8, 56), 24, 2), errOf(DecodeMembershipResponse)},
		{"status with a body", set32(append(EncodeStatusResponse(ResJoin, ipc.CSOk), 0, 0, 0, 0), 8, 28),
			func(b []byte) error { _, err := DecodeStatusResponse(b, ResJoin); return err }},
	}
	for _, c := range cases {
		if err := c.decode(c.msg); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", c.name, err)
		}
	}
	err := errOf(DecodeJoinRequest)(set32(join, 16, 129))
	if !errors.Is(err, ErrNameTooLong) || !errors.Is(err, ipc.CSErrNameTooLong) || !errors.Is(err, ErrMalformed) {
		t.Errorf("join with a 129-byte name: %v", err)
	}
	if err := errOf(DecodeJoinRequest)(set32(join[:100], 8, 100)); !errors.Is(err, mar.ErrShort) {
		t.Errorf("short join: %v, want mar.ErrShort", err)
	}
	if _, err := (JoinRequest{Group: strings.Repeat("x", 129)}).Encode(); !errors.Is(err, ipc.CSErrNameTooLong) {
		t.Errorf("encoding a 129-byte name: %v", err)
	}
	if _, err := (MembershipResponse{Members: make([]Address, 385)}).Encode(); err == nil {
		t.Error("encoded 385 members")
	}
	if _, err := (ZCAllocRequest{Path: strings.Repeat("p", 128)}).Encode(); err == nil {
		t.Error("encoded a 128-byte zero-copy path")
	}
}

func errOf[T any](f func([]byte) (T, error)) func([]byte) error {
	return func(b []byte) error { _, err := f(b); return err }
}

func TestAssembler(t *testing.T) {
	asm := assembler{}
	frag := func(pid uint32, typ PartialType, msgLen uint32, data string) (Deliver, bool) {
		return asm.add(PartialDeliver{Group: "g", NodeID: 1, PID: pid, MsgLen: msgLen, Type: typ, Frag: []byte(data)})
	}
	// Two senders interleaved.
	if _, ok := frag(1, PartialFirst, 6, "ab"); ok {
		t.Fatal("delivered after the first fragment")
	}
	frag(2, PartialFirst, 3, "x")
	frag(1, PartialContinued, 6, "cd")
	if d, ok := frag(2, PartialLast, 3, "yz"); !ok || string(d.Msg) != "xyz" || d.PID != 2 {
		t.Fatalf("sender 2: %+v %v", d, ok)
	}
	if d, ok := frag(1, PartialLast, 6, "ef"); !ok || string(d.Msg) != "abcdef" || d.PID != 1 || d.Group != "g" {
		t.Fatalf("sender 1: %+v %v", d, ok)
	}
	// A continuation without its start is ignored, as libcpg does.
	if _, ok := frag(3, PartialLast, 2, "zz"); ok {
		t.Error("delivered a message without its first fragment")
	}
	// A new first fragment restarts the sender's message.
	frag(4, PartialFirst, 4, "aa")
	frag(4, PartialFirst, 4, "bb")
	if d, ok := frag(4, PartialLast, 4, "cc"); !ok || string(d.Msg) != "bbcc" {
		t.Errorf("restarted message: %+v %v", d, ok)
	}
	// Fragments past the announced length, or short of it, are dropped.
	frag(5, PartialFirst, 3, "ab")
	if _, ok := frag(5, PartialLast, 3, "cd"); ok {
		t.Error("delivered an overlong message")
	}
	frag(6, PartialFirst, 5, "ab")
	if _, ok := frag(6, PartialLast, 5, "c"); ok {
		t.Error("delivered a short message")
	}
	// A sender that leaves mid-message loses its assembly.
	frag(7, PartialFirst, 4, "ab")
	asm.forget([]Address{{NodeID: 1, PID: 7, Reason: ReasonProcDown}})
	if _, ok := frag(7, PartialLast, 4, "cd"); ok {
		t.Error("delivered the message of a process that left")
	}
	if len(asm) != 0 {
		t.Errorf("assemblies left over: %d", len(asm))
	}
}

func TestDecodeEvent(t *testing.T) {
	asm := assembler{}
	b := mustEnc(Deliver{Group: "g", NodeID: 1, PID: 2, Msg: []byte("abc")}.Encode())
	ev := decodeEvent(b, asm)
	copy(b[184:], "XXX") // the client's event buffer is reused
	if d, ok := ev.(Deliver); !ok || string(d.Msg) != "abc" {
		t.Errorf("deliver: %#v", ev)
	}
	if ev := decodeEvent(mustEnc(Deliver{Group: "g"}.Encode()), asm); ev.(Deliver).Msg == nil {
		t.Error("an empty message is delivered as nil")
	}
	for _, b := range [][]byte{nil, {1, 2}, EncodeStatusResponse(ResJoin, ipc.CSOk), b[:100]} {
		if ev := decodeEvent(b, asm); ev != nil {
			t.Errorf("decoded %x into %#v", b, ev)
		}
	}
	if ev := decodeEvent(FlowControl{State: FlowControlEnabled}.Encode(), asm); ev != (FlowControl{State: FlowControlEnabled}) {
		t.Errorf("flow control: %#v", ev)
	}
}
