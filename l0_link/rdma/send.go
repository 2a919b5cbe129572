package rdma

import (
	"errors"
	"fmt"
	"net/netip"

	link "github.com/corosync-go/corosync/l0_link"
)

// ErrSendQueueFull means every send slot is still waiting for the device to report it
// finished. Send stops there rather than block; msgs past those it handled were not
// attempted and may be sent again later.
var ErrSendQueueFull = errors.New("rdma: send queue full")

// Send implements link.Link. Each payload is copied into a send slot behind a frame
// header, so msgs may be reused at once. A datagram that is too big or has no known
// queue pair is counted in TxErrors and skipped; a send the device later reports failed
// is counted in TxErrors too (it was already counted in TxPackets).
func (l *Link) Send(msgs []link.Message) (int, error) {
	l.txMu.Lock()
	defer l.txMu.Unlock()
	if l.closed.Load() {
		return 0, link.ErrClosed
	}
	l.reapSends()
	sent := 0
	var firstErr error
	refuse := func(err error) {
		l.stats.TxErrors.Add(1)
		if firstErr == nil {
			firstErr = err
		}
	}
	defer func() {
		if sent > 0 {
			l.stats.TxBatches.Add(1)
		}
	}()
	for i, m := range msgs {
		if limit := l.MaxPayloadBytes(); len(m.Buf) > limit {
			refuse(fmt.Errorf("rdma: %d-byte datagram to %s exceeds the %d-byte limit", len(m.Buf), m.Addr, limit))
			continue
		}
		ah, qpn, err := l.route(m.Addr.Addr())
		if err != nil {
			refuse(err)
			continue
		}
		slot, ok := l.takeSendSlot()
		if !ok {
			full := fmt.Errorf("%w: %d sends outstanding, %d datagrams not sent", ErrSendQueueFull, len(l.sendBusy), len(msgs)-i)
			if firstErr != nil {
				return sent, errors.Join(firstErr, full)
			}
			return sent, full
		}
		off := (l.cfg.RecvSlots + slot) * l.slotBytes
		n := encodeFrame(l.mem[off:off+l.mtuBytes], l.cfg.Local.Port(), m.Buf)
		err = l.qp.PostSend(SendRequest{
			ID:        uint64(slot),
			Segment:   Segment{Region: l.mr, Offset: off, Length: n},
			AH:        ah,
			RemoteQPN: qpn, RemoteQKey: l.cfg.QKey,
		})
		if err != nil {
			l.freeSend = append(l.freeSend, slot)
			refuse(err)
			continue
		}
		l.sendBusy[slot] = true
		sent++
		l.stats.TxPackets.Add(1)
		l.stats.TxBytes.Add(uint64(len(m.Buf)))
	}
	return sent, firstErr
}

// route finds the address handle and queue pair number for a peer. Handles are made on
// first use and kept until Close; there is one per peer GID, and peers are bounded by
// the peer table.
func (l *Link) route(addr netip.Addr) (AddressHandle, uint32, error) {
	if !addr.IsValid() {
		return nil, 0, errors.New("rdma: invalid destination address")
	}
	key := peerKey(addr)
	qpn, ok := l.peerQPN(key)
	if !ok {
		return nil, 0, fmt.Errorf("rdma: no queue pair number known for %s; add it to the peer table", key)
	}
	gid := GIDFromAddr(key)
	ah := l.ahs[gid]
	if ah == nil {
		var err error
		ah, err = l.pd.CreateAH(AHConfig{Port: l.cfg.Port, DGID: gid, SGIDIndex: l.gidIndex, HopLimit: l.cfg.HopLimit})
		if err != nil {
			return nil, 0, err
		}
		l.ahs[gid] = ah
	}
	return ah, qpn, nil
}

// takeSendSlot returns a free send slot, collecting finished sends first if none is.
func (l *Link) takeSendSlot() (int, bool) {
	if len(l.freeSend) == 0 {
		l.reapSends()
		if len(l.freeSend) == 0 {
			return 0, false
		}
	}
	slot := l.freeSend[len(l.freeSend)-1]
	l.freeSend = l.freeSend[:len(l.freeSend)-1]
	return slot, true
}

// reapSends frees the slots of finished sends and counts the failed ones. txMu is held.
func (l *Link) reapSends() {
	for {
		n, err := l.sendCQ.Poll(l.txWC)
		if err != nil {
			l.stats.TxErrors.Add(1)
			return
		}
		for _, wc := range l.txWC[:n] {
			// An ID that is not a busy slot would be a backend bug; freeing it twice
			// would hand one slot to two sends, so it is ignored.
			if wc.ID >= uint64(len(l.sendBusy)) || !l.sendBusy[wc.ID] {
				continue
			}
			l.sendBusy[wc.ID] = false
			l.freeSend = append(l.freeSend, int(wc.ID))
			if wc.Status != WCSuccess {
				l.stats.TxErrors.Add(1)
			}
		}
		if n < len(l.txWC) {
			return
		}
	}
}
