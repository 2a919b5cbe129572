package xdp

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
	sxdp "github.com/slavc/xdp"
)

const (
	// txStall is how long Send waits for the kernel to complete earlier frames when every
	// TX frame is in flight, and how long it keeps kicking a TX ring the kernel is slow to
	// drain, before giving up on the rest.
	txStall = 100 * time.Millisecond
	// txBackoff is the pause between kicks that made no progress.
	txBackoff = 20 * time.Microsecond
)

var errTxStalled = errors.New("xdp: transmit ring stalled: the kernel completed no frame in time")

// txState is Send's state; only Send touches it, under sendMu.
type txState struct {
	dests    *destinations
	sock     *queueSocket // queue 0's socket, the only one that transmits
	ringSize int
	ipID     uint16
}

func (t *txState) init(l *Link, srcMAC mac) {
	t.dests = newDestinations(l.nl, l.ifindex, srcMAC, &l.cfg)
	t.sock = l.socks[0]
	t.ringSize = l.cfg.TxFrames
}

// Send implements link.Link. Datagrams to a peer whose next-hop MAC the kernel does not
// know yet go through the slow-path UDP socket, which makes the kernel resolve it; the
// rest are built into UMEM frames and put on the TX ring, which is drained before Send
// returns so nothing waits for a later call.
func (l *Link) Send(msgs []link.Message) (int, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed.Load() {
		return 0, link.ErrClosed
	}
	l.sendMu.Lock()
	defer l.sendMu.Unlock()

	t := &l.tx
	q := t.sock
	now := time.Now()
	sent := 0
	var firstErr error
	fail := func(n int, err error) {
		l.stats.TxErrors.Add(uint64(n))
		if firstErr == nil {
			firstErr = err
		}
	}
	// descs[:used] are built frames not yet on the ring, carrying pending payload bytes.
	var descs []sxdp.Desc
	used, pending := 0, 0
	// push puts the built frames on the TX ring and kicks the kernel. If the kick fails
	// (interface down or gone) they count as failed, although the kernel may still send
	// them from the ring once the interface is back.
	push := func() bool {
		if used == 0 {
			return true
		}
		_, err := q.transmit(descs[:used])
		l.stats.TxBatches.Add(1)
		n := used
		descs, used = descs[used:], 0
		if err != nil {
			fail(n, fmt.Errorf("xdp: %w", err))
			pending = 0
			return false
		}
		sent += n
		l.stats.TxPackets.Add(uint64(n))
		l.stats.TxBytes.Add(uint64(pending))
		pending = 0
		return true
	}

	// abandon counts the datagrams not yet tried as failed when the ring stops working.
	abandon := func(err error) {
		fail(len(msgs), err)
		msgs = nil
	}

	for len(msgs) > 0 {
		if used == len(descs) {
			if !push() {
				abandon(firstErr)
				break
			}
			q.sock.Complete(q.sock.NumCompleted())
			descs = q.sock.GetDescs(min(len(msgs), q.sock.NumFreeTxSlots()), false)
			if len(descs) == 0 && !l.waitTxFrames() {
				abandon(errTxStalled)
			}
			continue
		}
		m := msgs[0]
		msgs = msgs[1:]
		to := netip.AddrPortFrom(m.Addr.Addr().Unmap(), m.Addr.Port())
		if err := l.checkDestination(to, len(m.Buf)); err != nil {
			fail(1, err)
			continue
		}
		d := t.dests.get(to, now)
		if !d.fast || d.probe {
			d.probe = false
			// Keep the batch in order: frames built so far go first.
			if !push() {
				fail(1, firstErr)
				abandon(firstErr)
				break
			}
			if err := l.slow.send(m.Buf, to); err != nil {
				fail(1, fmt.Errorf("xdp: send %d bytes to %s through the kernel: %w", len(m.Buf), to, err))
				continue
			}
			sent++
			l.stats.txSlow.Add(1)
			l.stats.TxPackets.Add(1)
			l.stats.TxBytes.Add(uint64(len(m.Buf)))
			l.stats.TxBatches.Add(1)
			continue
		}
		frame := q.sock.GetFrame(descs[used])
		t.ipID++
		descs[used].Len = uint32(buildFrame(frame, &d.flow, m.Buf, t.ipID))
		used++
		pending += len(m.Buf)
	}
	push()
	if !l.drainTx() && firstErr == nil {
		firstErr = errTxStalled
	}
	return sent, firstErr
}

// checkDestination refuses what no frame can carry.
func (l *Link) checkDestination(to netip.AddrPort, size int) error {
	switch {
	case !to.IsValid() || to.Port() == 0:
		return fmt.Errorf("xdp: invalid destination %v", to)
	case to.Addr().Is6() != l.cfg.Local.Addr().Is6():
		return fmt.Errorf("xdp: destination %v is not in the family of %v", to, l.cfg.Local)
	case size > l.maxPayload:
		return fmt.Errorf("xdp: %d-byte datagram to %v exceeds the link's %d bytes", size, to, l.maxPayload)
	}
	return nil
}

// waitTxFrames kicks the kernel and waits until it completes at least one frame, so a
// TX frame is free again. It reports false if none completed within txStall.
func (l *Link) waitTxFrames() bool {
	q := l.tx.sock
	deadline := time.Now().Add(txStall)
	for {
		if !l.kick() {
			return false
		}
		if n := q.sock.NumCompleted(); n > 0 {
			q.sock.Complete(n)
			return true
		}
		if l.closed.Load() || time.Now().After(deadline) {
			return false
		}
		time.Sleep(txBackoff)
	}
}

// drainTx kicks the kernel until it has taken every descriptor off the TX ring. In copy
// mode the kernel sends at most 32 frames per kick (TX_BATCH_SIZE) and only when kicked,
// so frames left on the ring would wait for the next Send. It reports false if the ring
// did not empty within txStall.
func (l *Link) drainTx() bool {
	q := l.tx.sock
	var deadline time.Time
	for last := -1; ; {
		q.sock.Complete(q.sock.NumCompleted())
		left := q.txPending(l.tx.ringSize)
		if left == 0 {
			return true
		}
		if left == last {
			// No progress since the last kick: the device is busy. Back off, but not forever.
			if deadline.IsZero() {
				deadline = time.Now().Add(txStall)
			} else if time.Now().After(deadline) || l.closed.Load() {
				return false
			}
			time.Sleep(txBackoff)
		}
		last = left
		if !l.kick() {
			return false
		}
	}
}

// kick asks the kernel to process the TX ring (one sendto). Kicks count as batches: they
// are the system calls of the transmit path.
func (l *Link) kick() bool {
	l.stats.TxBatches.Add(1)
	_, err := l.tx.sock.transmit(nil)
	return err == nil
}
