package votequorum

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	evs "github.com/corosync-go/corosync/l3_evs"
)

// countingSender counts the nodeinfo messages the engine sends.
type countingSender struct {
	mu        sync.Mutex
	nodeInfos int
}

func (s *countingSender) SendSync(id uint16, msg []byte, g evs.Guarantee) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == execNodeInfo {
		s.nodeInfos++
	}
	return nil
}

func (s *countingSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodeInfos
}

// TestReloadRereadsOnce: quorum.* changes made while a reload is under way are ignored,
// as corosync ignores them, and the reload's end re-reads the configuration once (one
// nodeinfo for this node and one for the quorum device), however many keys it wrote.
func TestReloadRereadsOnce(t *testing.T) {
	m := conf(t, 3, 1, nil)
	e := New(Config{NodeID: 1, Map: m, StateDir: t.TempDir(), Log: quiet})
	send := &countingSender{}
	e.Bind(send)
	if err := e.Init(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	settle := func() { time.Sleep(100 * time.Millisecond) }
	settle()
	base := send.count()

	m.Set("config.totemconfig_reload_in_progress", cmap.Uint8(1))
	m.Set("quorum.two_node", cmap.Uint8(1))
	m.Set("quorum.expected_votes", cmap.Uint32(3))
	settle()
	if got := send.count() - base; got != 0 {
		t.Fatalf("%d nodeinfos sent during the reload, want none", got)
	}
	m.Set("config.reload_status", cmap.Int32(1)) // CS_OK
	m.Set("config.totemconfig_reload_in_progress", cmap.Uint8(0))
	settle()
	if got := send.count() - base; got != 2 {
		t.Fatalf("%d nodeinfos after the reload, want 2 (one re-read)", got)
	}

	// A whole reload in one burst, a key written during it included: still one re-read.
	m.Set("config.totemconfig_reload_in_progress", cmap.Uint8(1))
	m.Set("quorum.expected_votes", cmap.Uint32(4))
	m.Set("config.totemconfig_reload_in_progress", cmap.Uint8(0))
	settle()
	if got := send.count() - base; got != 4 {
		t.Fatalf("%d nodeinfos after a second reload, want 4", got)
	}

	// Outside a reload, a change re-reads the configuration.
	m.Set("quorum.expected_votes", cmap.Uint32(3))
	settle()
	if got := send.count() - base; got != 6 {
		t.Fatalf("%d nodeinfos after a change, want 6", got)
	}
}
