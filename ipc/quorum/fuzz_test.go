package quorum

import (
	"reflect"
	"testing"

	"github.com/corosync-go/corosync/ipc"
)

// roundTrip fuzzes a decoder: it must never panic, and whatever it accepts must encode to
// a message that decodes to the same value.
func roundTrip[T any](f *testing.F, seeds [][]byte, decode func([]byte) (T, error), encode func(T) []byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		v, err := decode(msg)
		if err != nil {
			return
		}
		w, err := decode(encode(v))
		if err != nil {
			t.Fatalf("re-encoded %+v does not decode: %v", v, err)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("round trip changed %+v into %+v", v, w)
		}
	})
}

// idOf reads a message's id, or -1 for a message too short to have one.
func idOf(msg []byte) int32 {
	if len(msg) < 4 {
		return -1
	}
	return int32(u32(msg, 0))
}

func FuzzDecodeHeaderRequest(f *testing.F) {
	var seeds [][]byte
	for _, id := range []int32{ReqGetQuorate, ReqTrackStop, ReqGetType} {
		seeds = append(seeds, EncodeHeaderRequest(id))
	}
	roundTrip(f, seeds, func(msg []byte) (int32, error) { return idOf(msg), DecodeHeaderRequest(msg, idOf(msg)) }, EncodeHeaderRequest)
}

func FuzzDecodeTrackStartRequest(f *testing.F) {
	roundTrip(f, [][]byte{TrackStartRequest{Flags: TrackCurrent | TrackChanges}.Encode()}, DecodeTrackStartRequest, TrackStartRequest.Encode)
}

func FuzzDecodeModelGetTypeRequest(f *testing.F) {
	roundTrip(f, [][]byte{ModelGetTypeRequest{Model: ModelV1}.Encode()}, DecodeModelGetTypeRequest, ModelGetTypeRequest.Encode)
}

func FuzzDecodeStatusResponse(f *testing.F) {
	type status struct {
		id int32
		cs ipc.CS
	}
	roundTrip(f, [][]byte{EncodeStatusResponse(ResTrackStart, ipc.CSErrExist), EncodeStatusResponse(ResTrackStop, ipc.CSOk)},
		func(msg []byte) (status, error) {
			cs, err := DecodeStatusResponse(msg, idOf(msg))
			return status{idOf(msg), cs}, err
		}, func(s status) []byte { return EncodeStatusResponse(s.id, s.cs) })
}

func FuzzDecodeGetQuorateResponse(f *testing.F) {
	roundTrip(f, [][]byte{GetQuorateResponse{Error: ipc.CSOk, Quorate: true}.Encode()}, DecodeGetQuorateResponse, GetQuorateResponse.Encode)
}

func FuzzDecodeGetTypeResponse(f *testing.F) {
	roundTrip(f, [][]byte{GetTypeResponse{Error: ipc.CSOk, Type: TypeSet}.Encode()}, DecodeGetTypeResponse, GetTypeResponse.Encode)
}

func FuzzDecodeModelGetTypeResponse(f *testing.F) {
	roundTrip(f, [][]byte{ModelGetTypeResponse{Error: ipc.CSErrInvalid, Type: TypeSet}.Encode()}, DecodeModelGetTypeResponse, ModelGetTypeResponse.Encode)
}

func FuzzDecodeNotificationV0(f *testing.F) {
	roundTrip(f, [][]byte{NotificationV0{Quorate: true, RingSeq: 5, Members: []uint32{1, 2, 3}}.Encode(), NotificationV0{}.Encode()},
		DecodeNotificationV0, NotificationV0.Encode)
}

func FuzzDecodeQuorum(f *testing.F) {
	roundTrip(f, [][]byte{Quorum{Quorate: true, RingID: RingID{1, 5}, Members: []uint32{1, 2}}.Encode(), Quorum{}.Encode()},
		DecodeQuorum, Quorum.Encode)
}

func FuzzDecodeNodelist(f *testing.F) {
	roundTrip(f, [][]byte{Nodelist{RingID: RingID{1, 5}, Members: []uint32{1, 2}, Joined: []uint32{2}, Left: []uint32{3}}.Encode(), Nodelist{}.Encode()},
		DecodeNodelist, Nodelist.Encode)
}

// FuzzDecodeEvent covers the client's dispatch of any event.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range [][]byte{NotificationV0{Members: []uint32{1}}.Encode(), Quorum{Members: []uint32{1}}.Encode(), Nodelist{Members: []uint32{1}}.Encode()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		ev, err := decodeEvent(msg)
		if err == nil && ev == nil {
			t.Fatal("no event and no error")
		}
	})
}
