package executive

import (
	"testing"
	"time"

	evs "github.com/corosync-go/corosync/l3_evs"
)

// FuzzBarrier feeds arbitrary barrier bodies to a synchronising executive: no panic, and
// only a well-formed barrier of the current ring is counted.
func FuzzBarrier(f *testing.F) {
	f.Add(make([]byte, barrierBytes), uint32(1))
	f.Add([]byte{1, 2, 3}, uint32(2))
	f.Fuzz(func(t *testing.T, b []byte, sender uint32) {
		x, err := New(Config{Totem: evs.DefaultTotemConfig(1, time.Second), Send: func([]evs.Packet) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		x.sync = syncState{running: true, ring: evs.RingID{Rep: 1, Seq: 4}, members: []evs.NodeID{1, 2}, barriers: map[int]map[evs.NodeID]bool{}}
		x.barrier(evs.NodeID(sender), b)
		if len(x.sync.barriers) > 0 && len(b) != barrierBytes {
			t.Fatalf("a %d-byte barrier was counted", len(b))
		}
	})
}

// FuzzHandleMessage delivers arbitrary payloads to an engine through the executive's
// routing: short payloads are dropped, others reach the engine with their message id.
func FuzzHandleMessage(f *testing.F) {
	f.Add(uint16(9), []byte{0, 0, 'x'})
	f.Add(uint16(9), []byte{1})
	f.Add(uint16(3), []byte{})
	f.Fuzz(func(t *testing.T, service uint16, payload []byte) {
		e := &testEngine{}
		x, err := New(Config{Totem: evs.DefaultTotemConfig(1, time.Second), Send: func([]evs.Packet) error { return nil }}, e)
		if err != nil {
			t.Fatal(err)
		}
		x.handle(&evs.Event{Kind: evs.EventMessage, Service: service, Sender: 2, Payload: payload})
		if delivered := len(e.messages()); delivered > 0 && (service != 9 || len(payload) < msgHeaderBytes) {
			t.Fatalf("delivered %d messages of service %d, payload %d bytes", delivered, service, len(payload))
		}
	})
}
