package cfg

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

// idOf reads a message's id, or -1 for a message too short to have one.
func idOf(msg []byte) int32 {
	if len(msg) < 4 {
		return -1
	}
	return int32(u32(msg, 0))
}

func FuzzDecodeHeaderRequest(f *testing.F) {
	var seeds [][]byte
	for _, id := range []int32{ReqRingStatusGet, ReqRingReenable, ReqLocalGet, ReqReloadConfig, ReqReopenLogFiles, ReqTrackStop} {
		seeds = append(seeds, EncodeHeaderRequest(id))
	}
	roundTrip(f, seeds, func(msg []byte) (int32, error) { return idOf(msg), DecodeHeaderRequest(msg, idOf(msg)) },
		func(id int32) ([]byte, error) { return EncodeHeaderRequest(id), nil })
}

func FuzzDecodeKillNodeRequest(f *testing.F) {
	roundTrip(f, [][]byte{must(KillNodeRequest{NodeID: 2, Reason: "maintenance"}.Encode())}, DecodeKillNodeRequest, KillNodeRequest.Encode)
}

func FuzzDecodeTryShutdownRequest(f *testing.F) {
	roundTrip(f, [][]byte{TryShutdownRequest{Flags: ShutdownRegardless}.Encode()}, DecodeTryShutdownRequest, noErr(TryShutdownRequest.Encode))
}

func FuzzDecodeReplyToShutdownRequest(f *testing.F) {
	roundTrip(f, [][]byte{ReplyToShutdownRequest{Response: 1}.Encode()}, DecodeReplyToShutdownRequest, noErr(ReplyToShutdownRequest.Encode))
}

func FuzzDecodeGetNodeAddrsRequest(f *testing.F) {
	roundTrip(f, [][]byte{GetNodeAddrsRequest{NodeID: 1}.Encode()}, DecodeGetNodeAddrsRequest, noErr(GetNodeAddrsRequest.Encode))
}

func FuzzDecodeTrackStartRequest(f *testing.F) {
	roundTrip(f, [][]byte{TrackStartRequest{Flags: 1}.Encode()}, DecodeTrackStartRequest, noErr(TrackStartRequest.Encode))
}

func FuzzDecodeNodeStatusGetRequest(f *testing.F) {
	roundTrip(f, [][]byte{NodeStatusGetRequest{NodeID: 1, Version: 1}.Encode()}, DecodeNodeStatusGetRequest, noErr(NodeStatusGetRequest.Encode))
}

func FuzzDecodeStatusResponse(f *testing.F) {
	type status struct {
		id int32
		cs ipc.CS
	}
	var seeds [][]byte
	for _, id := range []int32{ResRingReenable, ResKillNode, ResTryShutdown, ResReplyToShutdown, ResStateTrackStart, ResStateTrackStop, ResReloadConfig, ResReopenLogFiles} {
		seeds = append(seeds, EncodeStatusResponse(id, ipc.CSOk))
	}
	roundTrip(f, seeds, func(msg []byte) (status, error) {
		cs, err := DecodeStatusResponse(msg, idOf(msg))
		return status{idOf(msg), cs}, err
	}, func(s status) ([]byte, error) { return EncodeStatusResponse(s.id, s.cs), nil })
}

func FuzzDecodeRingStatusResponse(f *testing.F) {
	roundTrip(f, [][]byte{
		must(RingStatusResponse{Error: ipc.CSOk, Interfaces: []Interface{{"0 127.0.0.1", "n"}, {"1 10.0.0.1", "n3"}}}.Encode()),
		must(RingStatusResponse{Error: ipc.CSErrNameTooLong}.Encode()),
	}, DecodeRingStatusResponse, RingStatusResponse.Encode)
}

func FuzzDecodeNodeStatusResponse(f *testing.F) {
	st := NodeStatus{NodeID: 1, Reachable: true}
	st.Links[0] = LinkStatus{Enabled: true, Connected: true, MTU: 65535, SrcAddr: "127.0.0.1", DstAddr: "127.0.0.1"}
	roundTrip(f, [][]byte{
		must(NodeStatusResponse{Error: ipc.CSOk, Version: 1, Status: &st}.Encode()),
		must(NodeStatusResponse{Error: csNotFound}.Encode()),
	}, DecodeNodeStatusResponse, NodeStatusResponse.Encode)
}

func FuzzDecodeNodeAddrsResponse(f *testing.F) {
	roundTrip(f, [][]byte{
		NodeAddrsResponse{Error: ipc.CSOk, Family: 2, Addrs: [][AddrBytes]byte{{127, 0, 0, 1}}, Slots: 3}.Encode(),
		NodeAddrsResponse{Error: ipc.CSErrNotExist}.Encode(),
	}, DecodeNodeAddrsResponse, noErr(NodeAddrsResponse.Encode))
}

func FuzzDecodeLocalGetResponse(f *testing.F) {
	roundTrip(f, [][]byte{LocalGetResponse{Error: ipc.CSOk, NodeID: 1}.Encode()}, DecodeLocalGetResponse, noErr(LocalGetResponse.Encode))
}

func FuzzDecodeTestShutdown(f *testing.F) {
	roundTrip(f, [][]byte{TestShutdown{Error: ipc.CSOk, Flags: ShutdownRequest}.Encode()}, DecodeTestShutdown, noErr(TestShutdown.Encode))
}
