package votequorum

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

func FuzzDecodeHeaderRequest(f *testing.F) {
	roundTrip(f, [][]byte{EncodeHeaderRequest(ReqTrackStop)}, func(msg []byte) (int32, error) {
		id := int32(-1)
		if len(msg) >= 4 {
			id = int32(u32(msg, 0))
		}
		return id, DecodeHeaderRequest(msg, id)
	}, noErr(EncodeHeaderRequest))
}

func FuzzDecodeGetInfoRequest(f *testing.F) {
	roundTrip(f, [][]byte{GetInfoRequest{NodeID: 1}.Encode()}, DecodeGetInfoRequest, noErr(GetInfoRequest.Encode))
}

func FuzzDecodeSetExpectedRequest(f *testing.F) {
	roundTrip(f, [][]byte{SetExpectedRequest{ExpectedVotes: 3}.Encode()}, DecodeSetExpectedRequest, noErr(SetExpectedRequest.Encode))
}

func FuzzDecodeSetVotesRequest(f *testing.F) {
	roundTrip(f, [][]byte{SetVotesRequest{NodeID: 1, Votes: 2}.Encode()}, DecodeSetVotesRequest, noErr(SetVotesRequest.Encode))
}

func FuzzDecodeTrackStartRequest(f *testing.F) {
	roundTrip(f, [][]byte{TrackStartRequest{Context: 42, Flags: TrackChanges}.Encode()}, DecodeTrackStartRequest, noErr(TrackStartRequest.Encode))
}

func FuzzDecodeQdeviceRegisterRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(QdeviceRegisterRequest{Name: "qdevice"}.Encode())}, DecodeQdeviceRegisterRequest, QdeviceRegisterRequest.Encode)
}

func FuzzDecodeQdeviceUnregisterRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(QdeviceUnregisterRequest{Name: "qdevice"}.Encode())}, DecodeQdeviceUnregisterRequest, QdeviceUnregisterRequest.Encode)
}

func FuzzDecodeQdeviceUpdateRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(QdeviceUpdateRequest{OldName: "a", NewName: "b"}.Encode())}, DecodeQdeviceUpdateRequest, QdeviceUpdateRequest.Encode)
}

func FuzzDecodeQdevicePollRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(QdevicePollRequest{Name: "qd", CastVote: true, RingID: RingID{1, 5}}.Encode())}, DecodeQdevicePollRequest, QdevicePollRequest.Encode)
}

func FuzzDecodeQdeviceMasterWinsRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(QdeviceMasterWinsRequest{Name: "qd", Allow: true}.Encode())}, DecodeQdeviceMasterWinsRequest, QdeviceMasterWinsRequest.Encode)
}

func FuzzDecodeStatusResponse(f *testing.F) {
	roundTrip(f, [][]byte{EncodeStatusResponse(ipc.CSOk), EncodeStatusResponse(ipc.CSErrExist)}, DecodeStatusResponse, noErr(EncodeStatusResponse))
}

func FuzzDecodeGetInfoResponse(f *testing.F) {
	info := Info{NodeID: 1, State: NodeStateMember, Votes: 1, ExpectedVotes: 1, HighestExpected: 1, TotalVotes: 1, Quorum: 1, Flags: InfoQuorate, QdeviceName: "qd"}
	roundTrip(f, [][]byte{must(GetInfoResponse{Error: ipc.CSOk, Info: info}.Encode()), must(GetInfoResponse{Error: ipc.CSErrNotExist}.Encode())},
		DecodeGetInfoResponse, GetInfoResponse.Encode)
}

func FuzzDecodeQuorum(f *testing.F) {
	roundTrip(f, [][]byte{Quorum{Context: 1, Quorate: true, Nodes: []Node{{1, NodeStateMember}, {0, 0}}}.Encode(), Quorum{}.Encode()},
		DecodeQuorum, noErr(Quorum.Encode))
}

func FuzzDecodeNodelist(f *testing.F) {
	roundTrip(f, [][]byte{Nodelist{Context: 1, RingID: RingID{1, 5}, Members: []uint32{1, 2}}.Encode(), Nodelist{}.Encode()},
		DecodeNodelist, noErr(Nodelist.Encode))
}

func FuzzDecodeExpectedVotes(f *testing.F) {
	roundTrip(f, [][]byte{ExpectedVotes{Context: 1, ExpectedVotes: 2}.Encode()}, DecodeExpectedVotes, noErr(ExpectedVotes.Encode))
}

// FuzzDecodeEvent covers the client's dispatch of any event.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range [][]byte{Quorum{Nodes: []Node{{1, 1}}}.Encode(), Nodelist{Members: []uint32{1}}.Encode(), ExpectedVotes{ExpectedVotes: 1}.Encode()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		ev, err := decodeEvent(msg)
		if err == nil && ev == nil {
			t.Fatal("no event and no error")
		}
	})
}
