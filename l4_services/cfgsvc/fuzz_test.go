package cfgsvc

import (
	"net/netip"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

type fakeHost struct {
	shutdowns, kills, reloads int
	cryptoLoaded              bool
	phases                    []CryptoPhase
}

func (h *fakeHost) Links() []Link                            { return []Link{{0, netip.MustParseAddr("10.0.0.1")}} }
func (h *fakeHost) Nodes() []uint32                          { return []uint32{1, 2} }
func (h *fakeHost) NodeStatus(uint32) (cfg.NodeStatus, bool) { return cfg.NodeStatus{}, true }
func (h *fakeHost) NodeAddrs(uint32) ([]netip.Addr, bool)    { return nil, false }
func (h *fakeHost) Reload() (ipc.CS, bool)                   { h.reloads++; return ipc.CSOk, h.cryptoLoaded }
func (h *fakeHost) CryptoPhase(p CryptoPhase)                { h.phases = append(h.phases, p) }
func (h *fakeHost) ReopenLogs() error                        { return nil }
func (h *fakeHost) Shutdown()                                { h.shutdowns++ }
func (h *fakeHost) Killed()                                  { h.kills++ }

// FuzzDeliver feeds arbitrary ordered messages to the engine: no panic, and only a
// well-formed kill naming this node kills it.
func FuzzDeliver(f *testing.F) {
	f.Add(uint16(execKillNode), []byte{1, 0, 0, 0, 'r'}, uint32(2))
	f.Add(uint16(execKillNode), []byte{1, 0}, uint32(2))
	f.Add(uint16(execShutdown), []byte{}, uint32(1))
	f.Add(uint16(execReload), []byte{1, 2, 3, 4, 5, 6, 7, 8}, uint32(1))
	f.Add(uint16(execCryptoReconfig), []byte{1, 0, 0, 0}, uint32(1))
	f.Add(uint16(execCryptoReconfig), []byte{2, 0, 0, 0}, uint32(2))
	f.Add(uint16(execCryptoReconfig), []byte{9, 0, 0, 0}, uint32(1))
	f.Fuzz(func(t *testing.T, id uint16, msg []byte, sender uint32) {
		h := &fakeHost{}
		s := New(Config{NodeID: 1, Map: icmap.New(), Host: h})
		s.Bind(&sentLog{})
		s.Deliver(evs.NodeID(sender), id, msg)
		if len(h.phases) > 0 && (id != execCryptoReconfig || sender != 1) {
			t.Fatalf("crypto phase %v applied for message %d from %d", h.phases, id, sender)
		}
		if h.kills > 0 && (id != execKillNode || len(msg) < 4 || msg[0] != 1 || msg[1]|msg[2]|msg[3] != 0) {
			t.Fatalf("killed by message %d %x", id, msg)
		}
		if h.shutdowns > 0 && (id != execShutdown || sender != 1) {
			t.Fatalf("shut down by message %d from %d", id, sender)
		}
	})
}
