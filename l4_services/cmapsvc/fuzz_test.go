package cmapsvc

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// resID is the answer id a request id gets.
func resID(id int32) int32 {
	switch {
	case id == cmap.ReqSetCurrentMap:
		return cmap.ResSetCurrentMap
	case id >= cmap.ReqSet && id < cmap.ReqSetCurrentMap:
		return id // the answers are numbered as the requests
	}
	return 0
}

// checkAnswer checks a response header: its size is its length and its id the one the
// request expects.
func checkAnswer(id int32, res []byte) error {
	if len(res) < ipc.ResponseHeaderBytes {
		return fmt.Errorf("answer of %d bytes", len(res))
	}
	if got := int32(binary.LittleEndian.Uint32(res)); got != resID(id) {
		return fmt.Errorf("answer id %d to request %d, want %d", got, id, resID(id))
	}
	if size := int(binary.LittleEndian.Uint32(res[8:])); size != len(res) {
		return fmt.Errorf("answer says %d bytes, has %d", size, len(res))
	}
	return nil
}

// withHeader puts a request header with a true size in front of body.
func withHeader(id int32, body []byte) []byte {
	msg := make([]byte, ipc.RequestHeaderBytes+len(body))
	binary.LittleEndian.PutUint32(msg, uint32(id))
	binary.LittleEndian.PutUint32(msg[8:], uint32(len(msg)))
	copy(msg[ipc.RequestHeaderBytes:], body)
	return msg
}

// seedRequests are valid requests of every type, whose bodies seed the fuzzer.
func seedRequests(t testing.TB) [][]byte {
	return [][]byte{
		encode(t, cmap.SetRequest{Key: "fz.key", Value: cmap.String("v")}),
		encode(t, cmap.SetRequest{Key: "fz.u32", Value: cmap.Uint32(5)}),
		encode(t, cmap.DeleteRequest{Key: "fz.key"}),
		encode(t, cmap.GetRequest{Key: "fz.key", ValueLen: 16}),
		encode(t, cmap.GetRequest{Key: "fz.key"}),
		encode(t, cmap.AdjustIntRequest{Key: "fz.u32", Step: -1}),
		encode(t, cmap.IterInitRequest{Prefix: "fz."}),
		cmap.IterNextRequest{IterHandle: 1}.Encode(),
		cmap.IterFinalizeRequest{IterHandle: 1}.Encode(),
		encode(t, cmap.TrackAddRequest{Key: "fz.", TrackType: all | cmap.TrackPrefix, TrackInstHandle: 9}),
		cmap.TrackDeleteRequest{TrackHandle: 2}.Encode(),
		cmap.SetCurrentMapRequest{Map: cmap.MapStats}.Encode(),
	}
}

// countingSink checks and counts the events a connection gets.
type countingSink struct {
	t      *testing.T
	events int
}

func (s *countingSink) Event(msg []byte) error {
	if _, err := cmap.DecodeNotifyCallback(msg); err != nil {
		s.t.Errorf("event does not decode: %v", err)
	}
	s.events++
	return nil
}

// FuzzHandle feeds arbitrary bodies under every request id to the handler of a
// connection holding an iterator (handle 1) and a tracker (handle 2), on either map.
func FuzzHandle(f *testing.F) {
	for _, req := range seedRequests(f) {
		id := int32(binary.LittleEndian.Uint32(req))
		f.Add(id, req[ipc.RequestHeaderBytes:], false)
		f.Add(id, req[ipc.RequestHeaderBytes:], true)
	}
	f.Add(int32(10), []byte{1}, false)
	f.Add(int32(-1), []byte{}, false)
	f.Fuzz(func(t *testing.T, id int32, body []byte, stats bool) {
		m := icmap.New()
		m.Set("fz.key", cmap.String("value"))
		m.Set("fz.u32", cmap.Uint32(7))
		m.Set("fz.ro", cmap.Uint8(1))
		m.SetReadOnly("fz.ro", false, true)
		src := newFakeStats(map[string]icmap.Value{"stats.a.b": cmap.Uint64(1), "stats.schedmiss.0.delay": cmap.Float(1)})
		s := New(Config{Map: m, Stats: src, Log: quietLog(), StatsPoll: time.Hour})
		defer s.Close()
		sink := &countingSink{t: t}
		st := s.newConnState(sink, ipc.DefaultMaxMessageBytes)
		if stats {
			st.mapID = cmap.MapStats
		}
		for _, req := range [][]byte{
			encode(t, cmap.IterInitRequest{Prefix: ""}),
			encode(t, cmap.TrackAddRequest{Key: "", TrackType: all | cmap.TrackPrefix, TrackInstHandle: 1}),
		} {
			if err := checkAnswer(int32(binary.LittleEndian.Uint32(req)), s.handle(st, int32(binary.LittleEndian.Uint32(req)), req)); err != nil {
				t.Fatal(err)
			}
		}
		res := s.handle(st, id, withHeader(id, body))
		if err := checkAnswer(id, res); err != nil {
			t.Fatalf("request %d body %x: %v", id, body, err)
		}
		s.release(st)
		if s.openIters.Load() != 0 || s.openTracks.Load() != 0 {
			t.Fatalf("left %d iterators, %d trackers", s.openIters.Load(), s.openTracks.Load())
		}
	})
}

// TestGarbageBodies sends malformed bodies of every request id through the real server:
// each gets exactly one well-formed answer and the connection stays usable.
func TestGarbageBodies(t *testing.T) {
	e := newEnv(t, Config{Stats: sampleStats()})
	e.m.Set("g.key", cmap.Uint32(3))
	raw := e.raw(t)
	rng := rand.New(rand.NewSource(1))
	bodies := [][]byte{nil, {0}, make([]byte, 7), make([]byte, 263)}
	for _, n := range []int{8, 100, 280, 300, 5000} {
		b := make([]byte, n)
		rng.Read(b)
		bodies = append(bodies, b)
	}
	for _, req := range seedRequests(t) { // valid requests cut short
		body := req[ipc.RequestHeaderBytes:]
		bodies = append(bodies, body[:len(body)/2], body[:len(body)-1])
	}
	sent := 0
	for id := int32(-2); id <= 12; id++ {
		for _, body := range bodies {
			res := call(t, raw, withHeader(id, body))
			if err := checkAnswer(id, res); err != nil {
				t.Fatalf("request %d with %d bytes: %v", id, len(body), err)
			}
			sent++
		}
	}
	// One answer each: the next request gets its own answer.
	r, err := cmap.DecodeGetResponse(call(t, raw, encode(t, cmap.GetRequest{Key: "g.key", ValueLen: 4})))
	if err != nil || r.Error != ipc.CSOk || !r.Value().Equal(cmap.Uint32(3)) {
		t.Errorf("after %d malformed requests: %+v %v", sent, r, err)
	}
}
