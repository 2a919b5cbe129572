package cmap

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

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func noErr[T any](f func(T) []byte) func(T) ([]byte, error) {
	return func(v T) ([]byte, error) { return f(v), nil }
}

func FuzzDecodeSetRequest(f *testing.F) {
	roundTrip(f, [][]byte{
		must(SetRequest{Key: "totem.token", Value: Uint32(1000)}.Encode()),
		must(SetRequest{Key: "a.b", Value: String("text")}.Encode()),
		must(SetRequest{Key: "a.b", Value: Binary(nil)}.Encode()),
	}, DecodeSetRequest, SetRequest.Encode)
}

func FuzzDecodeDeleteRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(DeleteRequest{Key: "a.b.c"}.Encode())}, DecodeDeleteRequest, DeleteRequest.Encode)
}

func FuzzDecodeGetRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(GetRequest{Key: "a.b.c", ValueLen: 16}.Encode())}, DecodeGetRequest, GetRequest.Encode)
}

func FuzzDecodeAdjustIntRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(AdjustIntRequest{Key: "a.b.c", Step: -1}.Encode())}, DecodeAdjustIntRequest, AdjustIntRequest.Encode)
}

func FuzzDecodeIterInitRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(IterInitRequest{Prefix: "stats."}.Encode()), must(IterInitRequest{}.Encode())},
		DecodeIterInitRequest, IterInitRequest.Encode)
}

func FuzzDecodeIterNextRequest(f *testing.F) {
	roundTrip(f, [][]byte{IterNextRequest{IterHandle: 3}.Encode()}, DecodeIterNextRequest, noErr(IterNextRequest.Encode))
}

func FuzzDecodeIterFinalizeRequest(f *testing.F) {
	roundTrip(f, [][]byte{IterFinalizeRequest{IterHandle: 3}.Encode()}, DecodeIterFinalizeRequest, noErr(IterFinalizeRequest.Encode))
}

func FuzzDecodeTrackAddRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(TrackAddRequest{Key: "a.", TrackType: TrackAdd | TrackPrefix, TrackInstHandle: 1}.Encode())},
		DecodeTrackAddRequest, TrackAddRequest.Encode)
}

func FuzzDecodeTrackDeleteRequest(f *testing.F) {
	roundTrip(f, [][]byte{TrackDeleteRequest{TrackHandle: 9}.Encode()}, DecodeTrackDeleteRequest, noErr(TrackDeleteRequest.Encode))
}

func FuzzDecodeSetCurrentMapRequest(f *testing.F) {
	roundTrip(f, [][]byte{SetCurrentMapRequest{Map: MapStats}.Encode()}, DecodeSetCurrentMapRequest, noErr(SetCurrentMapRequest.Encode))
}

func FuzzDecodeStatusResponse(f *testing.F) {
	type status struct {
		id int32
		cs ipc.CS
	}
	var seeds [][]byte
	for _, id := range []int32{ResSet, ResDelete, ResAdjustInt, ResIterFinalize, ResSetCurrentMap} {
		seeds = append(seeds, EncodeStatusResponse(id, ipc.CSErrNotExist))
	}
	decode := func(msg []byte) (status, error) {
		if len(msg) < 4 {
			return status{}, ErrMalformed
		}
		id := int32(u32(msg, 0))
		cs, err := DecodeStatusResponse(msg, id)
		return status{id, cs}, err
	}
	roundTrip(f, seeds, decode, func(s status) ([]byte, error) { return EncodeStatusResponse(s.id, s.cs), nil })
}

func FuzzDecodeGetResponse(f *testing.F) {
	roundTrip(f, [][]byte{
		GetResponse{Error: ipc.CSOk, Type: TypeString, ValueLen: 4, Data: []byte("abc\x00"), Room: 16}.Encode(),
		GetResponse{Error: ipc.CSOk, Type: TypeUint64, ValueLen: 8}.Encode(),
		GetResponse{Error: ipc.CSErrNotExist}.Encode(),
	}, DecodeGetResponse, noErr(GetResponse.Encode))
}

func FuzzDecodeIterInitResponse(f *testing.F) {
	roundTrip(f, [][]byte{IterInitResponse{Error: ipc.CSOk, IterHandle: 5}.Encode()}, DecodeIterInitResponse, noErr(IterInitResponse.Encode))
}

func FuzzDecodeIterNextResponse(f *testing.F) {
	roundTrip(f, [][]byte{
		must(IterNextResponse{Error: ipc.CSOk, Key: "totem.token", ValueLen: 4, Type: TypeUint32}.Encode()),
		must(IterNextResponse{Error: ipc.CSErrNoSections}.Encode()),
	}, DecodeIterNextResponse, IterNextResponse.Encode)
}

func FuzzDecodeTrackAddResponse(f *testing.F) {
	roundTrip(f, [][]byte{TrackAddResponse{Error: ipc.CSOk, TrackHandle: 5}.Encode()}, DecodeTrackAddResponse, noErr(TrackAddResponse.Encode))
}

func FuzzDecodeTrackDeleteResponse(f *testing.F) {
	roundTrip(f, [][]byte{TrackDeleteResponse{Error: ipc.CSOk, TrackInstHandle: 5}.Encode()}, DecodeTrackDeleteResponse, noErr(TrackDeleteResponse.Encode))
}

func FuzzDecodeNotifyCallback(f *testing.F) {
	roundTrip(f, [][]byte{
		must(NotifyCallback{TrackInstHandle: 1, Event: TrackModify, Key: "a.b", New: Uint32(2), Old: Uint32(1)}.Encode()),
		must(NotifyCallback{TrackInstHandle: 1, Event: TrackDelete, Key: "a.b", Old: String("gone")}.Encode()),
	}, DecodeNotifyCallback, NotifyCallback.Encode)
}
