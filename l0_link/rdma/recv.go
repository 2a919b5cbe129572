package rdma

import (
	"errors"
	"fmt"
	"net/netip"

	link "github.com/corosync-go/corosync/l0_link"
)

// errFlushed reports receive completions flushed because the queue pair went into the
// error state: the device will deliver nothing more on this link.
var errFlushed = errors.New("rdma: receive queue flushed; the queue pair is in the error state")

// Receive implements link.Link. The returned Bufs are views of receive slots: the slots
// stay lent to the caller, unposted, until the next Receive, which posts them again
// first. One call lends at most half the ring so the device always has buffers while the
// caller works.
func (l *Link) Receive(msgs []link.Message) (int, error) {
	l.rxMu.Lock()
	defer l.rxMu.Unlock()
	if l.closed.Load() {
		return 0, link.ErrClosed
	}
	l.repostLent()
	if len(msgs) == 0 {
		return 0, nil
	}
	want := min(len(msgs), l.maxLent)
	for {
		if l.closed.Load() {
			return 0, link.ErrClosed
		}
		k, err := l.recvCQ.Poll(l.rxWC[:want])
		if err != nil {
			l.stats.RxErrors.Add(1)
			return 0, err
		}
		n, flushed := 0, false
		for _, wc := range l.rxWC[:k] {
			m, ok, flush := l.accept(wc)
			flushed = flushed || flush
			if ok {
				msgs[n] = m
				n++
			}
		}
		if n > 0 {
			l.stats.RxBatches.Add(1)
			return n, nil
		}
		if flushed {
			return 0, errFlushed
		}
		if k > 0 {
			continue // everything polled was dropped; more may be queued
		}
		if err := l.recvCQ.Wait(rxWaitSlice); err != nil {
			l.stats.RxErrors.Add(1)
			return 0, err
		}
	}
}

// accept turns one receive completion into a message, or counts why not and gives the
// slot back to the device. flushed reports a completion of a queue pair in error, whose
// slot is not posted again since it would only be flushed again.
func (l *Link) accept(wc WorkCompletion) (m link.Message, ok, flushed bool) {
	if wc.ID >= uint64(len(l.recvPosted)) || !l.recvPosted[wc.ID] {
		l.stats.RxErrors.Add(1) // not a slot the device owns: a backend bug
		return m, false, false
	}
	slot := int(wc.ID)
	l.recvPosted[slot] = false
	switch wc.Status {
	case WCSuccess:
	case WCFlushError:
		l.stats.RxErrors.Add(1)
		return m, false, true
	default:
		l.stats.RxErrors.Add(1)
		l.repost(slot)
		return m, false, false
	}
	src, port, payload, err := l.parse(slot, wc)
	if err != nil {
		l.stats.RxDropped.Add(1)
		l.repost(slot)
		return m, false, false
	}
	l.learn(src, wc.SrcQPN)
	l.toPost = append(l.toPost, slot)
	l.stats.RxPackets.Add(1)
	l.stats.RxBytes.Add(uint64(len(payload)))
	return link.Message{Buf: payload, Addr: netip.AddrPortFrom(src, port)}, true, false
}

// parse reads the sender's address from the GRH and the frame from behind it.
func (l *Link) parse(slot int, wc WorkCompletion) (netip.Addr, uint16, []byte, error) {
	buf := l.mem[slot*l.slotBytes : (slot+1)*l.slotBytes]
	if !wc.HasGRH || wc.ByteLen < GRHBytes || wc.ByteLen > len(buf) {
		return netip.Addr{}, 0, nil, fmt.Errorf("rdma: %d-byte receive without a usable GRH", wc.ByteLen)
	}
	src, ok := grhSource(buf[:GRHBytes])
	if !ok {
		return netip.Addr{}, 0, nil, errors.New("rdma: GRH has no source address")
	}
	port, payload, err := decodeFrame(buf[GRHBytes:wc.ByteLen])
	return src, port, payload, err
}

// postRecv gives one receive slot to the device.
func (l *Link) postRecv(slot int) error {
	err := l.qp.PostRecv(RecvRequest{
		ID:      uint64(slot),
		Segment: Segment{Region: l.mr, Offset: slot * l.slotBytes, Length: l.slotBytes},
	})
	if err == nil {
		l.recvPosted[slot] = true
	}
	return err
}

// repost gives a slot back to the device at once, or keeps it for the next Receive if
// the device refuses.
func (l *Link) repost(slot int) {
	if err := l.postRecv(slot); err != nil {
		l.stats.RxErrors.Add(1)
		l.toPost = append(l.toPost, slot)
	}
}

// repostLent posts the slots the previous Receive lent out (and any refused before). The
// caller has promised to be done with those views.
func (l *Link) repostLent() {
	pending := l.toPost
	// Filter in place: each step appends at most one slot, never past the one read.
	l.toPost = pending[:0]
	for _, slot := range pending {
		l.repost(slot)
	}
}
