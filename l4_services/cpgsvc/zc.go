package cpgsvc

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cpg"
)

// Zero-copy (corosync 3.1.7's cpg_zcb_*): libcpg creates a file, asks the daemon to map it
// (ZC_ALLOC), writes an MCAST request into it and asks the daemon to send what the mapping
// holds (ZC_EXECUTE). The daemon writes a "server address" into the file's header so the
// client can name the mapping later; ours is a handle, not a pointer.
const (
	// zcHeaderBytes is struct coroipcs_zc_header: int map_size, u64 server_address @8.
	zcHeaderBytes = 16
	// zcMapBytesMax bounds one mapping: libcpg refuses messages over IPC_REQUEST_SIZE.
	zcMapBytesMax = 4 << 20
	// zcMapsMax bounds the mappings one connection may hold.
	zcMapsMax = 64
	// zcFilePrefix is the name libcpg gives the file (mkstemp of corosync_zerocopy-XXXXXX).
	zcFilePrefix = "corosync_zerocopy-"
)

type zcMap struct {
	mem []byte
}

// zcDirs are where libcpg creates the file: /dev/shm, else LOCALSTATEDIR/run (only with
// the default ShmDir, so a test's ShmDir is the only place it touches).
func (s *Service) zcDirs() []string {
	if s.cfg.ShmDir != "/dev/shm" {
		return []string{s.cfg.ShmDir}
	}
	return []string{s.cfg.ShmDir, "/var/run", "/run"}
}

// zcAlloc is corosync's message_handler_req_lib_cpg_zc_alloc. Unlike corosync (which opens
// and unlinks any path a client names, as root), the file must be libcpg's, in its
// directory, and owned by the client.
func (s *Service) zcAlloc(c *client, req cpg.ZCAllocRequest) ipc.CS {
	s.log.Debug("path: " + req.Path)
	if req.MapSize < zcHeaderBytes+cpg.McastRequestBytes || req.MapSize > zcMapBytesMax {
		return ipc.CSErrInvalid
	}
	dir, base := filepath.Split(filepath.Clean(req.Path))
	okDir := false
	for _, d := range s.zcDirs() {
		if filepath.Clean(dir) == filepath.Clean(d) {
			okDir = true
		}
	}
	if !okDir || !strings.HasPrefix(base, zcFilePrefix) {
		s.log.Warn("zero-copy file refused: not libcpg's", "path", req.Path)
		return ipc.CSErrAccess
	}
	s.mu.Lock()
	n := len(c.zc)
	s.mu.Unlock()
	if n >= zcMapsMax {
		return ipc.CSErrNoMemory
	}
	f, err := os.OpenFile(req.Path, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if err != nil {
		return ipc.CSErrNotExist
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != c.uid {
		s.log.Warn("zero-copy file refused: not a regular file of the client", "path", req.Path)
		return ipc.CSErrAccess
	}
	os.Remove(req.Path) // corosync unlinks it at once: only the two mappings keep it
	if err := f.Truncate(int64(req.MapSize)); err != nil {
		return ipc.CSErrLibrary
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(req.MapSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return ipc.CSErrNoMemory
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextZC++
	h := s.nextZC
	if c.zc == nil {
		c.zc = map[uint64]*zcMap{}
	}
	c.zc[h] = &zcMap{mem: mem}
	if !guard(func() { binary.LittleEndian.PutUint64(mem[8:], h) }) {
		unix.Munmap(mem)
		delete(c.zc, h)
		return ipc.CSErrLibrary
	}
	return ipc.CSOk
}

// guard runs f on client-writable memory: a client that truncates its file makes the
// access fault, which must end the request, not the daemon.
func guard(f func()) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	f()
	return true
}

// zcFree is corosync's message_handler_req_lib_cpg_zc_free.
func (s *Service) zcFree(c *client, h uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.Debug(" free'ing")
	if m := c.zc[h]; m != nil {
		unix.Munmap(m.mem)
		delete(c.zc, h)
	}
}

// zcFreeAll unmaps every mapping of a connection that ends (s.mu held).
func (s *Service) zcFreeAll(c *client) {
	for h, m := range c.zc {
		unix.Munmap(m.mem)
		delete(c.zc, h)
	}
}

// zcExecute is corosync's message_handler_req_lib_cpg_zc_execute: multicast the MCAST
// request the mapping holds after its header.
func (s *Service) zcExecute(c *client, h uint64) ipc.CS {
	// c.zc changes only on this connection's requests and at its disconnect, which come
	// one after another, so the copy of up to 4 MiB of client memory needs no lock.
	s.mu.Lock()
	m := c.zc[h]
	s.mu.Unlock()
	var g cpg.Guarantee
	var msg []byte
	ok := m != nil && guard(func() {
		b := m.mem[zcHeaderBytes:]
		g = cpg.Guarantee(binary.LittleEndian.Uint32(b[24:]))
		n := uint64(binary.LittleEndian.Uint32(b[32:]))
		if n > uint64(len(b)-cpg.McastRequestBytes) {
			return
		}
		msg = append([]byte{}, b[cpg.McastRequestBytes:cpg.McastRequestBytes+int(n)]...)
	})
	if s.debug() {
		s.log.Debug(fmt.Sprintf("got ZC mcast request on conn=%d", c.id))
	}
	if m == nil || !ok || msg == nil {
		return ipc.CSErrInvalid
	}
	return s.mcast(c, g, mcastMsg{Msg: msg})
}
