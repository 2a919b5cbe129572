package cpgsvc

import (
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cpg"
	evs "github.com/corosync-go/corosync/l3_evs"
)

type captureSender struct {
	mu   sync.Mutex
	msgs [][]byte
	g    []evs.Guarantee
}

func (c *captureSender) Send(id uint16, m []byte, g evs.Guarantee) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id == execMcast {
		c.msgs = append(c.msgs, append([]byte(nil), m...))
		c.g = append(c.g, g)
	}
	return nil
}

func (c *captureSender) SendSync(uint16, []byte, evs.Guarantee) error { return nil }

// TestZeroCopy maps a file as libcpg's cpg_zcb_alloc creates it, multicasts what the client
// wrote into it, survives the client truncating it, and refuses files that are not libcpg's.
func TestZeroCopy(t *testing.T) {
	dir := t.TempDir()
	s := New(Config{NodeID: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ShmDir: dir})
	send := &captureSender{}
	s.Bind(send)
	c := s.connect(&recorder{}, nil, uint32(os.Geteuid()))
	c.state, c.group, c.pid = stateJoinCompleted, "g", 9

	path := filepath.Join(dir, "corosync_zerocopy-abc123")
	const size = zcHeaderBytes + cpg.McastRequestBytes + 100
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if cs := s.zcAlloc(c, cpg.ZCAllocRequest{MapSize: size, Path: path}); cs != ipc.CSOk {
		t.Fatalf("alloc: %v", cs)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("the file was not unlinked")
	}
	h := binary.LittleEndian.Uint64(mem[8:])
	copy(mem[zcHeaderBytes:], cpg.McastRequest{Guarantee: cpg.TypeSafe, Msg: []byte("zero-copy!")}.Encode())
	if cs := s.zcExecute(c, h); cs != ipc.CSOk {
		t.Fatalf("execute: %v", cs)
	}
	m, err := decodeMcast(send.msgs[0], false)
	if err != nil || string(m.Msg) != "zero-copy!" || m.PID != 9 || m.Group != "g" || send.g[0] != evs.Safe {
		t.Fatalf("sent %+v %v (guarantee %v)", m, err, send.g[0])
	}
	// A length beyond the mapping is refused, and so is an unknown handle.
	binary.LittleEndian.PutUint32(mem[zcHeaderBytes+32:], 1000)
	if cs := s.zcExecute(c, h); cs != ipc.CSErrInvalid {
		t.Errorf("oversized execute: %v", cs)
	}
	if cs := s.zcExecute(c, h+1); cs != ipc.CSErrInvalid {
		t.Errorf("unknown handle: %v", cs)
	}
	// The client truncates the file: the daemon's access faults and the request fails
	// (the length is a valid one again, so only the fault can refuse it).
	binary.LittleEndian.PutUint32(mem[zcHeaderBytes+32:], 10)
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if cs := s.zcExecute(c, h); cs != ipc.CSErrInvalid {
		t.Errorf("execute on a truncated file: %v", cs)
	}
	s.zcFree(c, h)
	if len(c.zc) != 0 {
		t.Error("free left the mapping")
	}

	// Not libcpg's file: refused and left alone.
	other := filepath.Join(dir, "precious")
	os.WriteFile(other, make([]byte, size), 0o600)
	if cs := s.zcAlloc(c, cpg.ZCAllocRequest{MapSize: size, Path: other}); cs != ipc.CSErrAccess {
		t.Errorf("foreign name: %v", cs)
	}
	if cs := s.zcAlloc(c, cpg.ZCAllocRequest{MapSize: size, Path: "/etc/corosync_zerocopy-x"}); cs != ipc.CSErrAccess {
		t.Errorf("foreign directory: %v", cs)
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("a refused file was removed")
	}
	s.disconnect(c)
}
