package udp

import (
	"errors"
	"fmt"
	"net"
	"unsafe"

	link "github.com/corosync-go/corosync/l0_link"
	"golang.org/x/sys/unix"
)

// sendState is the preallocated scratch of one sendmmsg call; only the sender touches it.
type sendState struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []sockaddr
	// ctrl holds stride bytes of control messages per entry: the source-pinning message
	// (written once, at init) followed by room for a UDP_SEGMENT one.
	ctrl   []byte
	stride int
	pinLen int
	// groupLen[i] is how many messages entry i carries (more than one under GSO).
	groupLen []int
}

// init sizes the scratch for batch entries; pin, when not nil, is a control message every
// datagram carries.
func (s *sendState) init(batch int, pin []byte) {
	s.hdrs = make([]mmsghdr, batch)
	s.iovs = make([]unix.Iovec, batch)
	s.names = make([]sockaddr, batch)
	s.pinLen = len(pin)
	s.stride = s.pinLen + cmsgIntSpace
	s.ctrl = make([]byte, batch*s.stride)
	for i := 0; i < batch; i++ {
		copy(s.ctrl[i*s.stride:], pin)
	}
	s.groupLen = make([]int, batch)
}

// Send implements link.Link.
func (l *Link) Send(msgs []link.Message) (int, error) {
	if l.closed.Load() {
		return 0, link.ErrClosed
	}
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	sent := 0
	var firstErr error
	for len(msgs) > 0 {
		entries := l.fill(msgs)
		n, errno := l.sendmmsg(entries)
		if errno == unix.EBADF || errors.Is(errno, net.ErrClosed) || l.closed.Load() {
			return sent, link.ErrClosed
		}
		done := 0
		for i := 0; i < n; i++ {
			done += l.tx.groupLen[i]
		}
		var bytes uint64
		for _, m := range msgs[:done] {
			bytes += uint64(len(m.Buf))
		}
		l.stats.TxBytes.Add(bytes)
		l.stats.TxPackets.Add(uint64(done))
		l.stats.TxBatches.Add(1)
		sent += done
		msgs = msgs[done:]
		if errno == nil {
			continue // sendmmsg stops early without an error only to be called again
		}
		// The first entry failed. If it was a GSO train the kernel or device refused, remember
		// the peer and resend the train one by one; otherwise count and skip one message.
		if l.tx.groupLen[0] > 1 && (errno == unix.EIO || errno == unix.EINVAL || errno == unix.EMSGSIZE) {
			l.noGSO.Store(msgs[0].Addr, struct{}{})
			continue
		}
		l.stats.TxErrors.Add(1)
		if firstErr == nil {
			firstErr = fmt.Errorf("udp: send %d bytes to %s: %w", len(msgs[0].Buf), msgs[0].Addr, errno)
		}
		msgs = msgs[1:]
	}
	return sent, firstErr
}

// fill lays out up to len(hdrs) entries from msgs, grouping equal-sized datagrams to one
// peer into GSO trains. It returns the number of entries.
func (l *Link) fill(msgs []link.Message) (entries int) {
	used := 0
	s := &l.tx
	gso := l.gso.Load()
	for entries < len(s.hdrs) && used < len(msgs) && used < len(s.iovs) {
		first := msgs[used]
		group := 1
		if gso {
			if _, refused := l.noGSO.Load(first.Addr); !refused {
				group = trainLength(msgs[used:], len(s.iovs)-used)
			}
		}
		for k := 0; k < group; k++ {
			b := msgs[used+k].Buf
			iov := &s.iovs[used+k]
			if len(b) > 0 {
				iov.Base = &b[0]
			} else {
				iov.Base = nil
			}
			iov.SetLen(len(b))
		}
		h := &s.hdrs[entries]
		*h = mmsghdr{}
		namelen := putSockaddr(&s.names[entries], first.Addr, l.v6)
		h.hdr.Name = (*byte)(unsafe.Pointer(&s.names[entries]))
		h.hdr.Namelen = namelen
		h.hdr.Iov = &s.iovs[used]
		h.hdr.SetIovlen(group)
		if n := s.pinLen; group > 1 || n > 0 {
			c := s.ctrl[entries*s.stride : (entries+1)*s.stride]
			if group > 1 {
				n += putSegmentCmsg(c[n:], uint16(len(first.Buf)))
			}
			h.hdr.Control = &c[0]
			h.hdr.SetControllen(n)
		}
		s.groupLen[entries] = group
		entries++
		used += group
	}
	return entries
}

// trainLength returns how many leading messages form one GSO train: same peer, every
// segment the size of the first except a shorter last one, within the kernel's limits.
func trainLength(msgs []link.Message, iovLeft int) int {
	seg := len(msgs[0].Buf)
	if seg == 0 {
		return 1
	}
	limit := min(maxSegments, gsoMaxBytes/seg, iovLeft, len(msgs))
	n := 1
	for n < limit {
		m := msgs[n]
		if m.Addr != msgs[0].Addr || len(m.Buf) > seg || len(m.Buf) == 0 {
			break
		}
		n++
		if len(m.Buf) < seg {
			break // a short segment can only end a train
		}
	}
	return n
}

// sendmmsg sends the first n prepared entries, waiting for buffer space if needed.
func (l *Link) sendmmsg(n int) (int, error) {
	var sent int
	var errno error
	err := l.raw.Write(func(fd uintptr) bool {
		// Raw, as recvmmsg: the socket is non-blocking (EAGAIN waits in the poller).
		r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&l.tx.hdrs[0])), uintptr(n), 0, 0, 0)
		if e == unix.EAGAIN {
			return false
		}
		if e != 0 {
			errno = e
			return true
		}
		sent = int(r)
		return true
	})
	if err != nil {
		return 0, err
	}
	return sent, errno
}

// interfaceIndex resolves an IPv6 zone to an interface index.
func interfaceIndex(zone string) (uint32, error) {
	ifc, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, err
	}
	return uint32(ifc.Index), nil
}
