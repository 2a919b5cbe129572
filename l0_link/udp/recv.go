package udp

import (
	"errors"
	"net"
	"net/netip"
	"unsafe"

	link "github.com/corosync-go/corosync/l0_link"
	"golang.org/x/sys/unix"
)

// maxGROSegments is the kernel's UDP_GRO_CNT_MAX: a coalesced datagram holds at most this
// many segments.
const maxGROSegments = 64

// rxState is the preallocated scratch of recvmmsg; only the receiver touches it. Received
// datagrams stay in slab until every segment of the last call has been handed out.
type rxState struct {
	hdrs    []mmsghdr
	iovs    []unix.Iovec
	names   []sockaddr
	ctrl    []byte
	slab    []byte
	pending []link.Message // segments received but not yet returned
	next    int            // index of the first pending segment not yet returned
}

func (r *rxState) init(batch int, gro bool) {
	r.hdrs = make([]mmsghdr, batch)
	r.iovs = make([]unix.Iovec, batch)
	r.names = make([]sockaddr, batch)
	r.ctrl = make([]byte, batch*64)
	r.slab = make([]byte, batch*recvBufBytes)
	segments := batch
	if gro {
		segments *= maxGROSegments
	}
	r.pending = make([]link.Message, 0, segments)
}

// Receive implements link.Link. Returned views stay valid until the next Receive.
func (l *Link) Receive(msgs []link.Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	r := &l.rx
	for r.next >= len(r.pending) {
		if l.closed.Load() {
			return 0, link.ErrClosed
		}
		if err := l.recvBatch(); err != nil {
			return 0, err
		}
	}
	n := copy(msgs, r.pending[r.next:])
	r.next += n
	return n, nil
}

// recvBatch reads up to one batch of datagrams and splits coalesced ones into segments.
func (l *Link) recvBatch() error {
	r := &l.rx
	r.pending = r.pending[:0]
	r.next = 0
	for i := range r.hdrs {
		buf := r.slab[i*recvBufBytes : (i+1)*recvBufBytes]
		r.iovs[i].Base = &buf[0]
		r.iovs[i].SetLen(len(buf))
		h := &r.hdrs[i]
		*h = mmsghdr{}
		h.hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.hdr.Namelen = unix.SizeofSockaddrInet6
		h.hdr.Iov = &r.iovs[i]
		h.hdr.SetIovlen(1)
		c := r.ctrl[i*64 : (i+1)*64]
		h.hdr.Control = &c[0]
		h.hdr.SetControllen(len(c))
	}
	var got int
	var errno error
	err := l.raw.Read(func(fd uintptr) bool {
		// Raw: the socket is non-blocking, so the call never sleeps, and entering it as a
		// blocking syscall would let the runtime hand this thread's processor to another
		// thread whenever the kernel takes a few tens of microseconds (a thread switch
		// each time on a daemon that runs Go code on one processor).
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), 0, 0, 0)
		if e == unix.EAGAIN {
			return false
		}
		if e != 0 {
			errno = e
			return true
		}
		got = int(n)
		return true
	})
	if err != nil {
		if errors.Is(err, net.ErrClosed) || l.closed.Load() {
			return link.ErrClosed
		}
		return err
	}
	if errno != nil {
		// Queued ICMP errors surface here on some kernels; they concern a past send.
		l.stats.RxErrors.Add(1)
		return nil
	}
	l.stats.RxBatches.Add(1)
	for i := 0; i < got; i++ {
		h := &r.hdrs[i]
		size := int(h.n)
		if h.hdr.Flags&unix.MSG_TRUNC != 0 {
			l.stats.RxDropped.Add(1)
			continue
		}
		src, ok := getSockaddr(&r.names[i], h.hdr.Namelen)
		if !ok {
			l.stats.RxDropped.Add(1)
			continue
		}
		data := r.slab[i*recvBufBytes : i*recvBufBytes+size]
		seg := groSegmentBytes(r.ctrl[i*64 : i*64+int(h.hdr.Controllen)])
		r.pending = appendSegments(r.pending, data, seg, src)
	}
	var bytes uint64
	for _, m := range r.pending {
		bytes += uint64(len(m.Buf))
	}
	l.stats.RxBytes.Add(bytes)
	l.stats.RxPackets.Add(uint64(len(r.pending)))
	return nil
}

// appendSegments splits a (possibly GRO-coalesced) datagram into its segments: every
// segment is seg bytes but the last, which may be shorter. seg 0 means not coalesced.
func appendSegments(out []link.Message, data []byte, seg int, src netip.AddrPort) []link.Message {
	if seg <= 0 || seg >= len(data) {
		return append(out, link.Message{Buf: data, Addr: src})
	}
	for len(data) > 0 && len(out) < cap(out) {
		n := min(seg, len(data))
		out = append(out, link.Message{Buf: data[:n:n], Addr: src})
		data = data[n:]
	}
	return out
}
