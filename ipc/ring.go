package ipc

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// libqb ring buffer in shared memory (ringbuffer.c, 2.0.6): a header file and a data file.
const (
	ringHeaderBytes   = 8252 // struct qb_ringbuffer_shared_s (8248) + 4 bytes of user data
	ringOffWritePt    = 0
	ringOffReadPt     = 4
	ringOffWordSize   = 8
	ringOffHdrPath    = 12
	ringOffDataPath   = 4108
	ringOffRefCount   = 8204
	ringOffSem        = 8208 // glibc sem_t: u64 {value, nwaiters}, then int private
	ringOffSemPrivate = 8216
	ringOffUserData   = 8240 // request ring: the flow-control word

	semShared = 128 // sem_t.private of a process-shared semaphore
	futexWait = 0   // FUTEX_WAIT, shared: the waker is another process
	futexWake = 1   // FUTEX_WAKE, without FUTEX_PRIVATE_FLAG: the waiter is another process

	chunkCommitted = 0xA1A1A1A1
	chunkAllocated = 0xA110CED0
	chunkConsumed  = 0xD0D0D0D0
	// chunkMarginBytes is libqb's per-chunk overhead bound: two header words and one
	// word of alignment.
	chunkMarginBytes = 12
	pageBytes        = 4096
)

var (
	errRingFull  = errors.New("ipc: ring full")
	errRingBad   = errors.New("ipc: ring chunk is not committed or overruns the ring")
	errRingFault = errors.New("ipc: shared memory fault (the client truncated a file?)")
)

// ring is one libqb ring, created by the server. The client maps the same files; every
// access to them tolerates the client truncating them (a fault becomes errRingFault).
type ring struct {
	hdrPath, dataPath string
	hdr               []byte
	data              []byte
	words             uint32
}

// ringDataBytes is libqb's data file size for a maximum message size.
func ringDataBytes(maxMessageBytes uint32) int {
	n := int(maxMessageBytes) + chunkMarginBytes + 1
	return (n + pageBytes - 1) / pageBytes * pageBytes
}

// createRing creates name-header and name-data, owned by the client.
func (s *Server) createRing(name string, maxMessageBytes uint32, creds Creds) (*ring, error) {
	r := &ring{hdrPath: name + "-header", dataPath: name + "-data"}
	dataBytes := ringDataBytes(maxMessageBytes)
	r.words = uint32(dataBytes / 4)
	mapFile := func(path string, size int) ([]byte, error) {
		f, err := s.createOwned(path, size, creds)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	}
	var err error
	if r.hdr, err = mapFile(r.hdrPath, ringHeaderBytes); err != nil {
		r.release()
		return nil, err
	}
	if r.data, err = mapFile(r.dataPath, dataBytes); err != nil {
		r.release()
		return nil, err
	}
	r.u32(ringOffWordSize).Store(r.words)
	copy(r.hdr[ringOffHdrPath:ringOffHdrPath+pathMax-1], r.hdrPath)
	copy(r.hdr[ringOffDataPath:ringOffDataPath+pathMax-1], r.dataPath)
	r.u32(ringOffRefCount).Store(1)
	*(*int32)(unsafe.Pointer(&r.hdr[ringOffSemPrivate])) = semShared
	return r, nil
}

// release unmaps and removes the ring's files.
func (r *ring) release() {
	if r.hdr != nil {
		unix.Munmap(r.hdr)
		r.hdr = nil
	}
	if r.data != nil {
		unix.Munmap(r.data)
		r.data = nil
	}
	os.Remove(r.hdrPath)
	os.Remove(r.dataPath)
}

func (r *ring) u32(off int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&r.hdr[off])) }
func (r *ring) sem() *atomic.Uint64        { return (*atomic.Uint64)(unsafe.Pointer(&r.hdr[ringOffSem])) }
func (r *ring) word(i uint32) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&r.data[4*(i%r.words)]))
}

// semPost is glibc's sem_post on a process-shared semaphore: add one to the value and,
// if anyone waits, wake one waiter with a shared (not private) futex.
func (r *ring) semPost() {
	v := r.sem().Add(1)
	if v>>32 != 0 {
		// Raw: a wake never sleeps (see l0_link/udp's recvmmsg for why it matters).
		unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&r.hdr[ringOffSem])), futexWake, 1, 0, 0, 0)
	}
}

// semTryWait takes one token if there is one.
func (r *ring) semTryWait() bool {
	s := r.sem()
	for {
		v := s.Load()
		if uint32(v) == 0 {
			return false
		}
		if s.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// guardedTryWait is semTryWait on a mapping the client may have truncated.
func (r *ring) guardedTryWait(err *error) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer guard(err)
	return r.semTryWait()
}

// guard turns a fault on the shared mapping into errRingFault in *err.
func guard(err *error) {
	if recover() != nil {
		*err = errRingFault
	}
}

// write appends one message as a committed chunk and posts the semaphore.
func (r *ring) write(msg []byte) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer guard(&err)
	n := r.words
	w, rd := r.u32(ringOffWritePt).Load(), r.u32(ringOffReadPt).Load()
	if w >= n || rd >= n {
		return errRingBad
	}
	var free uint32
	switch {
	case w > rd:
		free = rd - w + n - 1
	case w < rd:
		free = rd - w - 1
	default:
		if uint32(r.sem().Load()) > 0 {
			free = 0
		} else {
			free = n
		}
	}
	if uint64(free)*4 < uint64(len(msg))+chunkMarginBytes {
		return errRingFull
	}
	r.word(w).Store(0)
	r.word(w + 1).Store(chunkAllocated)
	r.copyIn(w+2, msg)
	r.word(w).Store(uint32(len(msg)))
	r.u32(ringOffWritePt).Store((w + 2 + (uint32(len(msg))+3)/4) % n)
	r.word(w + 1).Store(chunkCommitted)
	r.semPost()
	return nil
}

// read takes the oldest committed chunk into buf (the caller holds a semaphore token).
func (r *ring) read(buf []byte) (msg []byte, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer guard(&err)
	n := r.words
	rd := r.u32(ringOffReadPt).Load()
	if rd >= n || r.word(rd+1).Load() != chunkCommitted {
		return nil, errRingBad
	}
	size := r.word(rd).Load()
	if uint64(size)+chunkMarginBytes > uint64(n)*4 || int(size) > len(buf) {
		return nil, errRingBad
	}
	msg = buf[:size]
	r.copyOut(rd+2, msg)
	r.word(rd).Store(0)
	r.word(rd + 1).Store(chunkConsumed)
	r.u32(ringOffReadPt).Store((rd + 2 + (size+3)/4) % n)
	return msg, nil
}

// copyIn writes b at word index i, wrapping at the end of the data file.
func (r *ring) copyIn(i uint32, b []byte) {
	off := int(i%r.words) * 4
	k := copy(r.data[off:], b)
	copy(r.data, b[k:])
}

func (r *ring) copyOut(i uint32, b []byte) {
	off := int(i%r.words) * 4
	k := copy(b, r.data[off:])
	copy(b[k:], r.data)
}

// setUserWord stores the flow-control word (request ring).
func (r *ring) setUserWord(v int32) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer guard(&err)
	r.u32(ringOffUserData).Store(uint32(v))
	return nil
}

// openRing maps a ring the server created (the client side). It joins the ring by
// incrementing ref_count, as libqb's clients do; the server and clients check it.
func openRing(name string) (*ring, error) {
	r := &ring{hdrPath: name + "-header"}
	hdr, err := mapExisting(r.hdrPath, ringHeaderBytes)
	if err != nil {
		return nil, err
	}
	r.hdr = hdr
	r.words = r.u32(ringOffWordSize).Load()
	r.dataPath = cString(hdr[ringOffDataPath : ringOffDataPath+pathMax])
	if r.words == 0 || r.words > (64<<20)/4 || !strings.HasPrefix(r.dataPath, "/") {
		unix.Munmap(hdr)
		return nil, errors.New("ipc: malformed ring header")
	}
	if r.data, err = mapExisting(r.dataPath, int(r.words)*4); err != nil {
		unix.Munmap(hdr)
		return nil, err
	}
	r.u32(ringOffRefCount).Add(1)
	return r, nil
}

func mapExisting(path string, size int) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < int64(size) {
		return nil, fmt.Errorf("ipc: %s is %d bytes, want %d", path, st.Size(), size)
	}
	return unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

// detach leaves a ring opened with openRing (no unlink: the server owns the files).
func (r *ring) detach() {
	if r.hdr != nil {
		r.u32(ringOffRefCount).Add(^uint32(0))
		unix.Munmap(r.hdr)
		r.hdr = nil
	}
	if r.data != nil {
		unix.Munmap(r.data)
		r.data = nil
	}
}

// semWait takes a token, spinning for spin first (a futex sleep and wake-up cost tens of
// microseconds here) and then sleeping on the futex in slices of at most slice, asking
// stop between slices. It registers as a waiter the way glibc does, so the other side's
// sem_post wakes it.
func (r *ring) semWait(spin, slice time.Duration, stop func() bool) bool {
	for end := time.Now().Add(spin); ; {
		if r.semTryWait() {
			return true
		}
		if time.Now().After(end) {
			break
		}
	}
	s := r.sem()
	s.Add(1 << 32) // one more waiter
	defer s.Add(^uint64(1<<32 - 1))
	addr := uintptr(unsafe.Pointer(&r.hdr[ringOffSem]))
	ts := unix.NsecToTimespec(int64(slice))
	for {
		v := s.Load()
		if uint32(v) > 0 {
			if s.CompareAndSwap(v, v-1) {
				return true
			}
			continue
		}
		if stop() {
			return false
		}
		// FUTEX_WAIT (shared) on the value word while it is 0; spurious wake-ups and
		// timeouts just loop.
		unix.Syscall6(unix.SYS_FUTEX, addr, futexWait, 0, uintptr(unsafe.Pointer(&ts)), 0, 0)
	}
}
