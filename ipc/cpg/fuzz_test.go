package cpg

import (
	"reflect"
	"testing"

	"github.com/corosync-go/corosync/ipc"
)

// roundTrip fuzzes a decoder: it must never panic, and whatever it accepts must encode to
// a message that decodes to the same value.
func roundTrip[T any](f *testing.F, seeds [][]byte, decode func([]byte) (T, error), encode func(T) ([]byte, error)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		v, err := decode(msg)
		if err != nil {
			return
		}
		again, err := encode(v)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", v, err)
		}
		w, err := decode(again)
		if err != nil {
			t.Fatalf("re-encoded %+v does not decode: %v", v, err)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("round trip changed %+v into %+v", v, w)
		}
	})
}

func noErr[T any](f func(T) []byte) func(T) ([]byte, error) {
	return func(v T) ([]byte, error) { return f(v), nil }
}

func FuzzDecodeJoinRequest(f *testing.F) {
	roundTrip(f, [][]byte{mustEnc(JoinRequest{Group: "grp", PID: 5, Flags: 1}.Encode())}, DecodeJoinRequest, JoinRequest.Encode)
}

func FuzzDecodeLeaveRequest(f *testing.F) {
	roundTrip(f, [][]byte{mustEnc(LeaveRequest{Group: "grp", PID: 5}.Encode())}, DecodeLeaveRequest, LeaveRequest.Encode)
}

func FuzzDecodeMcastRequest(f *testing.F) {
	roundTrip(f, [][]byte{McastRequest{Guarantee: TypeAgreed, Msg: []byte("hello")}.Encode(), McastRequest{}.Encode()},
		DecodeMcastRequest, noErr(McastRequest.Encode))
}

func FuzzDecodePartialMcastRequest(f *testing.F) {
	roundTrip(f, [][]byte{PartialMcastRequest{Guarantee: TypeAgreed, MsgLen: 9, Type: PartialFirst, Frag: []byte("abc")}.Encode()},
		DecodePartialMcastRequest, noErr(PartialMcastRequest.Encode))
}

func FuzzDecodeMembershipRequest(f *testing.F) {
	roundTrip(f, [][]byte{mustEnc(MembershipRequest{Group: "grp"}.Encode())}, DecodeMembershipRequest, MembershipRequest.Encode)
}

func FuzzDecodeHeaderRequest(f *testing.F) {
	decode := func(b []byte) (int32, error) {
		if len(b) < 4 {
			return 0, ErrMalformed
		}
		id := int32(u32(b, 0))
		return id, DecodeHeaderRequest(b, id)
	}
	roundTrip(f, [][]byte{EncodeHeaderRequest(ReqLocalGet), EncodeHeaderRequest(ReqFinalize)}, decode, noErr(EncodeHeaderRequest))
}

func FuzzDecodeIterationInitializeRequest(f *testing.F) {
	roundTrip(f, [][]byte{
		mustEnc(IterationInitializeRequest{Group: "grp", Type: IterationOneGroup}.Encode()),
		mustEnc(IterationInitializeRequest{Type: IterationAll}.Encode()),
	}, DecodeIterationInitializeRequest, IterationInitializeRequest.Encode)
}

func FuzzDecodeIterationNextRequest(f *testing.F) {
	roundTrip(f, [][]byte{IterationNextRequest{Handle: 3}.Encode()}, DecodeIterationNextRequest, noErr(IterationNextRequest.Encode))
}

func FuzzDecodeIterationFinalizeRequest(f *testing.F) {
	roundTrip(f, [][]byte{IterationFinalizeRequest{Handle: 3}.Encode()}, DecodeIterationFinalizeRequest, noErr(IterationFinalizeRequest.Encode))
}

func FuzzDecodeZCAllocRequest(f *testing.F) {
	roundTrip(f, [][]byte{mustEnc(ZCAllocRequest{MapSize: 4096, Path: "/dev/shm/x"}.Encode())}, DecodeZCAllocRequest, ZCAllocRequest.Encode)
}

func FuzzDecodeZCFreeRequest(f *testing.F) {
	roundTrip(f, [][]byte{ZCFreeRequest{MapSize: 1, ServerAddress: 2}.Encode()}, DecodeZCFreeRequest, noErr(ZCFreeRequest.Encode))
}

func FuzzDecodeZCExecuteRequest(f *testing.F) {
	roundTrip(f, [][]byte{ZCExecuteRequest{ServerAddress: 2}.Encode()}, DecodeZCExecuteRequest, noErr(ZCExecuteRequest.Encode))
}

// statusResponse pairs a status answer with its id, for fuzzing DecodeStatusResponse.
type statusResponse struct {
	id int32
	cs ipc.CS
}

func FuzzDecodeStatusResponse(f *testing.F) {
	decode := func(b []byte) (statusResponse, error) {
		if len(b) < 4 {
			return statusResponse{}, ErrMalformed
		}
		id := int32(u32(b, 0))
		cs, err := DecodeStatusResponse(b, id)
		return statusResponse{id, cs}, err
	}
	encode := func(r statusResponse) ([]byte, error) { return EncodeStatusResponse(r.id, r.cs), nil }
	roundTrip(f, [][]byte{EncodeStatusResponse(ResJoin, ipc.CSOk), EncodeStatusResponse(0, ipc.CSErrTryAgain)}, decode, encode)
}

func FuzzDecodeMembershipResponse(f *testing.F) {
	roundTrip(f, [][]byte{mustEnc(MembershipResponse{Error: ipc.CSOk, Members: []Address{{1, 2, 0}, {1, 3, 0}}}.Encode())},
		DecodeMembershipResponse, MembershipResponse.Encode)
}

func FuzzDecodeLocalGetResponse(f *testing.F) {
	roundTrip(f, [][]byte{LocalGetResponse{Error: ipc.CSOk, NodeID: 1}.Encode()}, DecodeLocalGetResponse, noErr(LocalGetResponse.Encode))
}

func FuzzDecodeIterationInitializeResponse(f *testing.F) {
	roundTrip(f, [][]byte{IterationInitializeResponse{Error: ipc.CSOk, Handle: 1}.Encode()},
		DecodeIterationInitializeResponse, noErr(IterationInitializeResponse.Encode))
}

func FuzzDecodeIterationNextResponse(f *testing.F) {
	roundTrip(f, [][]byte{
		mustEnc(IterationNextResponse{Error: ipc.CSOk, Entry: IterationEntry{"grp", 1, 2}}.Encode()),
		mustEnc(IterationNextResponse{Error: ipc.CSErrNoSections}.Encode()),
	}, DecodeIterationNextResponse, IterationNextResponse.Encode)
}

func FuzzDecodeDeliver(f *testing.F) {
	roundTrip(f, [][]byte{mustEnc(Deliver{Group: "grp", NodeID: 1, PID: 2, Msg: []byte("hi")}.Encode())}, DecodeDeliver, Deliver.Encode)
}

func FuzzDecodePartialDeliver(f *testing.F) {
	roundTrip(f, [][]byte{mustEnc(PartialDeliver{Group: "grp", MsgLen: 5, NodeID: 1, PID: 2, Type: PartialLast, Frag: []byte("hi")}.Encode())},
		DecodePartialDeliver, PartialDeliver.Encode)
}

func FuzzDecodeConfChg(f *testing.F) {
	roundTrip(f, [][]byte{
		mustEnc(ConfChg{Group: "grp", Members: []Address{{1, 2, 0}}, Joined: []Address{{1, 2, ReasonJoin}}}.Encode()),
		mustEnc(ConfChg{Group: "grp", Left: []Address{{1, 3, ReasonProcDown}}}.Encode()),
	}, DecodeConfChg, ConfChg.Encode)
}

func FuzzDecodeTotemConfChg(f *testing.F) {
	roundTrip(f, [][]byte{TotemConfChg{RingID: RingID{1, 4}, Members: []uint32{1, 2}}.Encode()},
		DecodeTotemConfChg, noErr(TotemConfChg.Encode))
}

func FuzzDecodeFlowControl(f *testing.F) {
	roundTrip(f, [][]byte{FlowControl{State: FlowControlEnabled}.Encode()}, DecodeFlowControl, noErr(FlowControl.Encode))
}

// FuzzDecodeEvent feeds the client's event path (decoding and reassembly) with arbitrary
// sequences of events: it must never panic, and never deliver a message longer than the
// length its fragments announced.
func FuzzDecodeEvent(f *testing.F) {
	first := mustEnc(PartialDeliver{Group: "g", MsgLen: 4, NodeID: 1, PID: 2, Type: PartialFirst, Frag: []byte("ab")}.Encode())
	last := mustEnc(PartialDeliver{Group: "g", MsgLen: 4, NodeID: 1, PID: 2, Type: PartialLast, Frag: []byte("cd")}.Encode())
	f.Add(first, last)
	f.Add(mustEnc(Deliver{Group: "g", Msg: []byte("x")}.Encode()), TotemConfChg{Members: []uint32{1}}.Encode())
	f.Fuzz(func(t *testing.T, a, b []byte) {
		asm := assembler{}
		for _, msg := range [][]byte{a, b, a} {
			if d, ok := decodeEvent(msg, asm).(Deliver); ok && u32(msg, 0) == uint32(ResPartialDeliver) && len(d.Msg) != int(u32(msg, 160)) {
				t.Fatalf("reassembled %d bytes of a %d-byte message", len(d.Msg), u32(msg, 160))
			}
		}
	})
}
