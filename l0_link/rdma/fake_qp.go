package rdma

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// Queue pair states, in the order a UD queue pair passes through them.
const (
	qpReset = iota
	qpInit
	qpRTR
	qpRTS
)

type fakeQP struct {
	pd               *fakePD
	qpn              uint32
	sendCQ, recvCQ   *fakeCQ
	sendWRs, recvWRs int
	state            int
	port             uint8
	qkey             uint32
	recvQueue        []RecvRequest
	sendsOutstanding int
	closed           bool
}

type fakeAH struct {
	pd     *fakePD
	cfg    AHConfig
	closed bool
}

func (a *fakeAH) Close() error {
	f := a.pd.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	a.pd.children--
	f.live--
	return nil
}

func (p *fakePD) CreateUDQP(cfg QPConfig) (QueuePair, error) {
	scq, ok1 := cfg.SendCQ.(*fakeCQ)
	rcq, ok2 := cfg.RecvCQ.(*fakeCQ)
	if !ok1 || !ok2 || cfg.SendWRs <= 0 || cfg.RecvWRs <= 0 {
		return nil, fmt.Errorf("rdma: fake QP: bad configuration: %w", syscall.EINVAL)
	}
	f := p.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.closed || scq.closed || rcq.closed {
		return nil, errFakeClosed
	}
	qp := &fakeQP{pd: p, qpn: f.nextQPN, sendCQ: scq, recvCQ: rcq, sendWRs: cfg.SendWRs, recvWRs: cfg.RecvWRs}
	f.nextQPN++
	p.ctx.dev.qps[qp.qpn] = qp
	scq.users++
	rcq.users++
	p.children++
	f.live++
	return qp, nil
}

func (q *fakeQP) QPN() uint32 { return q.qpn }

// modify moves the queue pair from state from to state to, refusing any other
// transition as ibv_modify_qp would.
func (q *fakeQP) modify(from, to int, apply func()) error {
	f := q.pd.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if q.closed {
		return errFakeClosed
	}
	if q.state != from {
		return fmt.Errorf("rdma: fake QP %#x: transition %d→%d from state %d: %w", q.qpn, from, to, q.state, syscall.EINVAL)
	}
	if apply != nil {
		apply()
	}
	q.state = to
	return nil
}

func (q *fakeQP) ModifyToInit(port uint8, _ uint16, qkey uint32) error {
	if port != 1 {
		return fmt.Errorf("rdma: fake QP: no port %d: %w", port, syscall.EINVAL)
	}
	return q.modify(qpReset, qpInit, func() { q.port, q.qkey = port, qkey })
}

func (q *fakeQP) ModifyToRTR() error { return q.modify(qpInit, qpRTR, nil) }

func (q *fakeQP) ModifyToRTS(uint32) error { return q.modify(qpRTR, qpRTS, nil) }

// segmentBytes resolves a segment to memory of this queue pair's domain.
func (q *fakeQP) segmentBytes(s Segment) ([]byte, error) {
	mr, ok := s.Region.(*fakeMR)
	if !ok || mr.closed {
		return nil, errors.New("rdma: fake segment: not a live fake memory region")
	}
	if mr.pd != q.pd {
		return nil, errors.New("rdma: fake segment: memory region of another protection domain")
	}
	if s.Offset < 0 || s.Length < 0 || s.Offset > len(mr.buf) || s.Length > len(mr.buf)-s.Offset {
		return nil, fmt.Errorf("rdma: fake segment [%d, +%d) outside the %d-byte region", s.Offset, s.Length, len(mr.buf))
	}
	return mr.buf[s.Offset : s.Offset+s.Length], nil
}

func (q *fakeQP) PostRecv(wr RecvRequest) error {
	f := q.pd.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if q.closed {
		return errFakeClosed
	}
	if q.state == qpReset {
		return fmt.Errorf("rdma: fake QP %#x: post receive in RESET: %w", q.qpn, syscall.EINVAL)
	}
	if len(q.recvQueue) >= q.recvWRs {
		return fmt.Errorf("rdma: fake QP %#x: receive queue full: %w", q.qpn, syscall.ENOMEM)
	}
	if _, err := q.segmentBytes(wr.Segment); err != nil {
		return err
	}
	q.recvQueue = append(q.recvQueue, wr)
	return nil
}

// PostSend delivers at once: the fake has no wire, so a datagram either lands in a posted
// buffer now or is dropped now. The send completion follows either way, as UD reports
// only that the message left, not that it arrived.
func (q *fakeQP) PostSend(wr SendRequest) error {
	f := q.pd.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if q.closed {
		return errFakeClosed
	}
	if q.state != qpRTS {
		return fmt.Errorf("rdma: fake QP %#x: post send before RTS: %w", q.qpn, syscall.EINVAL)
	}
	if q.sendsOutstanding >= q.sendWRs {
		return fmt.Errorf("rdma: fake QP %#x: send queue full: %w", q.qpn, syscall.ENOMEM)
	}
	data, err := q.segmentBytes(wr.Segment)
	if err != nil {
		return err
	}
	ah, ok := wr.AH.(*fakeAH)
	if !ok || ah.closed || ah.pd != q.pd {
		return errors.New("rdma: fake send: address handle not live in this protection domain")
	}
	dev := q.pd.ctx.dev
	status := WCSuccess
	switch {
	case dev.failSends > 0:
		dev.failSends--
		status = dev.failStatus
	case len(data) > dev.mtuBytes:
		status = WCLocalLengthError
	default:
		f.deliver(q, ah.cfg, wr, data)
	}
	q.sendsOutstanding++
	c := fakeCompletion{wc: WorkCompletion{ID: wr.ID, Status: status, ByteLen: len(data)}, cq: q.sendCQ, sendQP: q}
	if dev.holdSends {
		dev.held = append(dev.held, c)
	} else {
		q.sendCQ.push(c)
	}
	return nil
}

// deliver hands data from src to the queue pair the send addresses; the lock is held.
func (f *FakeFabric) deliver(src *fakeQP, ah AHConfig, wr SendRequest, data []byte) {
	var dst *fakeQP
	for _, d := range f.devices {
		if d.addrGID() == ah.DGID {
			dst = d.qps[wr.RemoteQPN]
			break
		}
	}
	if dst == nil || dst.state < qpRTR || dst.qkey != wr.RemoteQKey {
		f.drops.NoDestination++
		return
	}
	if len(dst.recvQueue) == 0 {
		f.drops.NoRecvBuffer++
		return
	}
	rr := dst.recvQueue[0]
	dst.recvQueue = dst.recvQueue[1:]
	buf, err := dst.segmentBytes(rr.Segment)
	wc := WorkCompletion{ID: rr.ID, SrcQPN: src.qpn}
	if err != nil || len(buf) < GRHBytes+len(data) {
		// Hardware consumes the buffer and reports the overflow on the receiver.
		wc.Status = WCLocalLengthError
	} else {
		sgid := src.pd.ctx.dev.gids[ah.SGIDIndex]
		writeFakeGRH(buf[:GRHBytes], sgid, ah.DGID, ah.HopLimit, len(data))
		copy(buf[GRHBytes:], data)
		wc.ByteLen, wc.HasGRH = GRHBytes+len(data), true
	}
	dst.recvCQ.push(fakeCompletion{wc: wc, cq: dst.recvCQ})
}

// writeFakeGRH writes the route header a RoCE NIC puts before a UD message: for a RoCE v2
// source with an IPv4 address, 20 zero bytes and an IPv4 header; otherwise an IPv6-format
// GRH with the two GIDs. Lengths cover only the message; real headers also count the UDP,
// BTH and DETH bytes, which no receiver here reads.
func writeFakeGRH(grh []byte, src GIDEntry, dgid GID, hopLimit uint8, n int) {
	clear(grh)
	if src.Type == GIDTypeRoCEv2 && src.GID.Addr().Is4() {
		ip := grh[20:40]
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:4], uint16(20+n))
		ip[8] = hopLimit
		ip[9] = 17 // UDP, which carries RoCE v2
		s, d := src.GID.Addr().As4(), dgid.Addr().As4()
		copy(ip[12:16], s[:])
		copy(ip[16:20], d[:])
		binary.BigEndian.PutUint16(ip[10:12], ^ipv4HeaderSum(ip))
		return
	}
	grh[0] = 6 << 4
	binary.BigEndian.PutUint16(grh[4:6], uint16(n))
	grh[6] = 0x1b // IB's "next header" for a GRH-routed packet
	grh[7] = hopLimit
	copy(grh[8:24], src.GID[:])
	copy(grh[24:40], dgid[:])
}

func (q *fakeQP) Close() error {
	f := q.pd.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	q.recvQueue = nil
	delete(q.pd.ctx.dev.qps, q.qpn)
	q.sendCQ.users--
	q.recvCQ.users--
	q.pd.children--
	f.live--
	return nil
}
