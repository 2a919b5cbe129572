package cfgsvc

import (
	"encoding/binary"
	"slices"
	"testing"

	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// sentLog records the engine's multicasts.
type sentLog struct{ msgs []sentMsg }

type sentMsg struct {
	id  uint16
	msg []byte
	g   evs.Guarantee
}

func (l *sentLog) Send(id uint16, msg []byte, g evs.Guarantee) error {
	l.msgs = append(l.msgs, sentMsg{id, slices.Clone(msg), g})
	return nil
}

// TestCryptoPhasesFollowTheReload: a reload that loaded new crypto sends a safe activate
// phase; this node applies only its own phase messages, and its activate is followed by a
// safe cleanup, after which nothing more is sent.
func TestCryptoPhasesFollowTheReload(t *testing.T) {
	for _, loaded := range []bool{false, true} {
		h := &fakeHost{cryptoLoaded: loaded}
		s := New(Config{NodeID: 1, Map: icmap.New(), Host: h})
		sent := &sentLog{}
		s.Bind(sent)
		s.Deliver(2, execReload, make([]byte, 8)) // another node's reload
		if !loaded {
			if len(sent.msgs) != 0 {
				t.Fatalf("no crypto change, yet sent %+v", sent.msgs)
			}
			continue
		}
		if len(sent.msgs) != 1 || sent.msgs[0].id != execCryptoReconfig || sent.msgs[0].g != evs.Safe ||
			binary.LittleEndian.Uint32(sent.msgs[0].msg) != uint32(CryptoActivate) {
			t.Fatalf("after a reload with new crypto: sent %+v, want one safe activate", sent.msgs)
		}
		// Node 2's activate is node 2's business.
		s.Deliver(2, execCryptoReconfig, sent.msgs[0].msg)
		if len(h.phases) != 0 {
			t.Fatalf("applied node 2's phase: %v", h.phases)
		}
		s.Deliver(1, execCryptoReconfig, sent.msgs[0].msg)
		if !slices.Equal(h.phases, []CryptoPhase{CryptoActivate}) || len(sent.msgs) != 2 ||
			binary.LittleEndian.Uint32(sent.msgs[1].msg) != uint32(CryptoCleanup) || sent.msgs[1].g != evs.Safe {
			t.Fatalf("own activate: phases %v, sent %+v", h.phases, sent.msgs)
		}
		s.Deliver(1, execCryptoReconfig, sent.msgs[1].msg)
		if !slices.Equal(h.phases, []CryptoPhase{CryptoActivate, CryptoCleanup}) || len(sent.msgs) != 2 {
			t.Fatalf("own cleanup: phases %v, sent %+v", h.phases, sent.msgs)
		}
	}
}
