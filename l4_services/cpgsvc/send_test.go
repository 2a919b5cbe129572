package cpgsvc

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cpg"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/executive"
)

// fullQueue refuses sends with ErrTryAgain while full is positive, counting down.
type fullQueue struct {
	mu   sync.Mutex
	full int
	sent [][]byte
}

func (f *fullQueue) Send(id uint16, m []byte, g evs.Guarantee) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full > 0 {
		f.full--
		return executive.ErrTryAgain
	}
	f.sent = append(f.sent, append([]byte(nil), m...))
	return nil
}

func (f *fullQueue) SendSync(id uint16, m []byte, g evs.Guarantee) error { return f.Send(id, m, g) }

// TestMcastWaitsForRoom: a multicast that meets a full ring queue waits and goes once
// there is room (it is never dropped), and gives up only when its client goes.
func TestMcastWaitsForRoom(t *testing.T) {
	s := New(Config{NodeID: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	q := &fullQueue{}
	s.Bind(q)
	done := make(chan struct{})
	c := s.connect(&recorder{}, done, 0)
	req, _ := cpg.JoinRequest{Group: "g", PID: 7}.Encode()
	s.request(c, cpg.ReqJoin, req)
	q.mu.Lock()
	q.sent, q.full = nil, 50
	q.mu.Unlock()
	if cs := s.mcast(c, cpg.TypeAgreed, mcastMsg{Msg: []byte("after the wait")}); cs != ipc.CSOk {
		t.Fatalf("mcast after 50 refusals: %v", cs)
	}
	if len(q.sent) != 1 || q.full != 0 {
		t.Fatalf("sent %d messages, %d refusals left; want 1 and 0", len(q.sent), q.full)
	}
	q.mu.Lock()
	q.full = 1 << 30
	q.mu.Unlock()
	go func() { time.Sleep(20 * time.Millisecond); close(done) }()
	if cs := s.mcast(c, cpg.TypeAgreed, mcastMsg{Msg: []byte("never")}); cs != ipc.CSErrLibrary {
		t.Fatalf("mcast whose client went: %v, want CS_ERR_LIBRARY", cs)
	}
}
