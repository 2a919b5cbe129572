package xdp

import (
	"fmt"
	"net/netip"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
	"golang.org/x/sys/unix"
)

const (
	// rxSpin is how long Receive keeps checking the RX rings before it sleeps in poll(2):
	// long enough to catch the next frame of a burst without a system call and a wake-up.
	rxSpin = 20 * time.Microsecond
	// rxPollMillis bounds one poll(2). Close also wakes it through an eventfd; the bound
	// is a second line of defence, so a pending Receive notices Close in any case.
	rxPollMillis = 100
	// slowSlots is how many slow-path datagrams one Receive can return, and slowSlotBytes
	// their size: reassembled fragments can be as large as IP allows.
	slowSlots     = 8
	slowSlotBytes = 1 << 16
	// slowEvery bounds how many busy Receive calls pass without reading the slow-path
	// socket: reading it costs a system call, which at full rate would be one per batch.
	// When the rings are idle, poll(2) reports the socket and it is read at once.
	slowEvery = 32
)

// rxState is Receive's state; only Receive touches it.
type rxState struct {
	pfds []unix.PollFd // the eventfd, the slow-path socket, then every AF_XDP socket
	next int           // socket read first, rotated for fairness between queues
	// sinceSlow counts Receive calls since the slow-path socket was last read.
	sinceSlow int
	slow      [][]byte // buffers of the slow path, reused every Receive
	// local is the address frames must be sent to: Config.Local without a zone, as
	// parseFrame reports it.
	local netip.AddrPort
}

func (r *rxState) init(l *Link) {
	r.pfds = append(r.pfds,
		unix.PollFd{Fd: int32(l.wakeFD), Events: unix.POLLIN},
		unix.PollFd{Fd: int32(l.slow.fd), Events: unix.POLLIN})
	for _, q := range l.socks {
		r.pfds = append(r.pfds, unix.PollFd{Fd: int32(q.sock.FD()), Events: unix.POLLIN})
	}
	r.local = netip.AddrPortFrom(l.cfg.Local.Addr().WithZone(""), l.cfg.Local.Port())
	r.slow = make([][]byte, slowSlots)
	for i := range r.slow {
		r.slow[i] = make([]byte, slowSlotBytes)
	}
}

// Receive implements link.Link. Frames handed up by the previous call go back to the fill
// rings first; then the RX rings and the slow-path socket are read, spinning briefly and
// then sleeping in poll(2) until something arrives or the link is closed.
func (l *Link) Receive(msgs []link.Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed.Load() {
		return 0, link.ErrClosed
	}
	l.recycle()
	if n := l.readAll(msgs, false); n > 0 {
		return n, nil
	}
	for until := time.Now().Add(rxSpin); time.Now().Before(until); {
		if n := l.readRings(msgs); n > 0 {
			return l.received(msgs, n), nil
		}
	}
	for {
		if l.closed.Load() {
			return 0, link.ErrClosed
		}
		// Nothing has been handed up in this call, so frames taken off the rings (and
		// dropped as malformed) can go back to the kernel before sleeping.
		l.recycle()
		ready, err := unix.Poll(l.rx.pfds, rxPollMillis)
		if err != nil && err != unix.EINTR {
			return 0, err
		}
		if ready == 0 {
			if err := l.socketError(); err != nil {
				return 0, err
			}
		}
		if n := l.readAll(msgs, l.rx.pfds[1].Revents&unix.POLLIN != 0); n > 0 {
			return n, nil
		}
	}
}

// recycle returns the frames taken off the RX rings since the last recycle to the fill
// rings. slavc/xdp counts a frame as free as soon as it is taken off the RX ring, so this
// must not run while the caller may still hold views of them: only at the start of a
// Receive, or later in one that has not handed anything up.
func (l *Link) recycle() {
	for _, q := range l.socks {
		if q.held > 0 {
			q.refill()
		}
	}
}

// readAll reads the slow path first when it is due (it rarely has anything and holds few
// slots), then the rings, and accounts for what it found.
func (l *Link) readAll(msgs []link.Message, slowReady bool) int {
	n := 0
	l.rx.sinceSlow++
	if slowReady || l.rx.sinceSlow >= slowEvery {
		l.rx.sinceSlow = 0
		n = l.readSlow(msgs)
	}
	n += l.readRings(msgs[n:])
	if n == 0 {
		return 0
	}
	return l.received(msgs, n)
}

func (l *Link) received(msgs []link.Message, n int) int {
	var bytes uint64
	for _, m := range msgs[:n] {
		bytes += uint64(len(m.Buf))
	}
	l.stats.RxPackets.Add(uint64(n))
	l.stats.RxBytes.Add(bytes)
	l.stats.RxBatches.Add(1)
	return n
}

// readRings takes frames off the RX rings into msgs, dropping (and counting) those that
// are not well-formed datagrams for our address.
func (l *Link) readRings(msgs []link.Message) int {
	r := &l.rx
	n := 0
	for i := 0; i < len(l.socks) && n < len(msgs); i++ {
		q := l.socks[(r.next+i)%len(l.socks)]
		avail := q.sock.NumReceived()
		if avail == 0 {
			continue
		}
		descs := q.sock.Receive(min(avail, len(msgs)-n))
		q.held += len(descs)
		q.received += uint64(len(descs))
		for _, d := range descs {
			dg, err := parseFrame(q.sock.GetFrame(d))
			if err != nil || dg.dst != r.local {
				l.stats.RxDropped.Add(1)
				continue
			}
			// Cap the view so a caller's append cannot spill into the next frame.
			msgs[n] = link.Message{Buf: dg.payload[:len(dg.payload):len(dg.payload)], Addr: dg.src}
			n++
		}
	}
	r.next++
	return n
}

// readSlow reads what the kernel delivered to the slow-path socket, without blocking.
func (l *Link) readSlow(msgs []link.Message) int {
	n := 0
	for _, buf := range l.rx.slow {
		if n == len(msgs) {
			break
		}
		size, from, truncated, err := l.slow.recv(buf)
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			// An error queued by an earlier send (ICMP), not a datagram.
			l.stats.RxErrors.Add(1)
			continue
		}
		if truncated {
			l.stats.RxDropped.Add(1)
			continue
		}
		msgs[n] = link.Message{Buf: buf[:size:size], Addr: from}
		n++
		l.stats.rxSlow.Add(1)
	}
	return n
}

// socketError reports an error the kernel left on an AF_XDP socket. When the interface
// goes away the kernel unbinds the sockets and sets ENETDOWN on them, but poll then
// reports nothing at all, so Receive asks after every idle poll rather than wait forever.
func (l *Link) socketError() error {
	for _, q := range l.socks {
		if v, err := unix.GetsockoptInt(q.sock.FD(), unix.SOL_SOCKET, unix.SO_ERROR); err == nil && v != 0 {
			return fmt.Errorf("xdp: %s queue %d: %w", l.cfg.Interface, q.queue, unix.Errno(v))
		}
	}
	return nil
}
