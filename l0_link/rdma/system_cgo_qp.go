//go:build rdma && linux && cgo

package rdma

/*
#include <errno.h>
#include <string.h>
#include <infiniband/verbs.h>

// cg_create_ud_qp creates a UD queue pair whose sends all produce completions
// (sq_sig_all), since the link frees a send slot only on its completion.
static struct ibv_qp *cg_create_ud_qp(struct ibv_pd *pd, struct ibv_cq *scq, struct ibv_cq *rcq,
	uint32_t send_wr, uint32_t recv_wr) {
	struct ibv_qp_init_attr a;
	memset(&a, 0, sizeof a);
	a.send_cq = scq;
	a.recv_cq = rcq;
	a.qp_type = IBV_QPT_UD;
	a.sq_sig_all = 1;
	a.cap.max_send_wr = send_wr;
	a.cap.max_recv_wr = recv_wr;
	a.cap.max_send_sge = 1;
	a.cap.max_recv_sge = 1;
	return ibv_create_qp(pd, &a);
}

// The three transitions of a UD queue pair, each with exactly the attributes the verbs
// specification requires for UD (no path or remote QP attributes: those are per send).
static int cg_qp_to_init(struct ibv_qp *qp, uint8_t port, uint16_t pkey_index, uint32_t qkey) {
	struct ibv_qp_attr a;
	memset(&a, 0, sizeof a);
	a.qp_state = IBV_QPS_INIT;
	a.pkey_index = pkey_index;
	a.port_num = port;
	a.qkey = qkey;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY);
}

static int cg_qp_to_rtr(struct ibv_qp *qp) {
	struct ibv_qp_attr a;
	memset(&a, 0, sizeof a);
	a.qp_state = IBV_QPS_RTR;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE);
}

static int cg_qp_to_rts(struct ibv_qp *qp, uint32_t sq_psn) {
	struct ibv_qp_attr a;
	memset(&a, 0, sizeof a);
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = sq_psn;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
}

// cg_post_send posts one signaled UD send; wr.wr.ud is a union member cgo cannot reach.
static int cg_post_send(struct ibv_qp *qp, uint64_t id, uint64_t addr, uint32_t len, uint32_t lkey,
	struct ibv_ah *ah, uint32_t remote_qpn, uint32_t remote_qkey) {
	struct ibv_sge sge = { .addr = addr, .length = len, .lkey = lkey };
	struct ibv_send_wr wr, *bad = NULL;
	memset(&wr, 0, sizeof wr);
	wr.wr_id = id;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.ud.ah = ah;
	wr.wr.ud.remote_qpn = remote_qpn;
	wr.wr.ud.remote_qkey = remote_qkey;
	return ibv_post_send(qp, &wr, &bad);
}

static int cg_post_recv(struct ibv_qp *qp, uint64_t id, uint64_t addr, uint32_t len, uint32_t lkey) {
	struct ibv_sge sge = { .addr = addr, .length = len, .lkey = lkey };
	struct ibv_recv_wr wr, *bad = NULL;
	memset(&wr, 0, sizeof wr);
	wr.wr_id = id;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	return ibv_post_recv(qp, &wr, &bad);
}

// cg_create_ah makes a global address handle: RoCE has no LIDs, only GIDs.
static struct ibv_ah *cg_create_ah(struct ibv_pd *pd, uint8_t port, const uint8_t *dgid,
	uint8_t sgid_index, uint8_t hop_limit) {
	struct ibv_ah_attr a;
	memset(&a, 0, sizeof a);
	a.is_global = 1;
	memcpy(a.grh.dgid.raw, dgid, 16);
	a.grh.sgid_index = sgid_index;
	a.grh.hop_limit = hop_limit;
	a.port_num = port;
	return ibv_create_ah(pd, &a);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"
)

func (p *sysPD) CreateUDQP(cfg QPConfig) (QueuePair, error) {
	scq, ok1 := cfg.SendCQ.(*sysCQ)
	rcq, ok2 := cfg.RecvCQ.(*sysCQ)
	if !ok1 || !ok2 {
		return nil, errors.New("rdma: queue pair needs completion queues of the same backend")
	}
	qp, err := C.cg_create_ud_qp(p.pd, scq.cq, rcq.cq, C.uint32_t(cfg.SendWRs), C.uint32_t(cfg.RecvWRs))
	if qp == nil {
		return nil, fmt.Errorf("rdma: ibv_create_qp(UD, %d send, %d recv): %w", cfg.SendWRs, cfg.RecvWRs, err)
	}
	return &sysQP{qp: qp}, nil
}

func (p *sysPD) CreateAH(cfg AHConfig) (AddressHandle, error) {
	if cfg.SGIDIndex < 0 || cfg.SGIDIndex > 255 {
		return nil, fmt.Errorf("rdma: GID index %d out of range", cfg.SGIDIndex)
	}
	dgid := cfg.DGID
	ah, err := C.cg_create_ah(p.pd, C.uint8_t(cfg.Port), (*C.uint8_t)(unsafe.Pointer(&dgid[0])),
		C.uint8_t(cfg.SGIDIndex), C.uint8_t(cfg.HopLimit))
	if ah == nil {
		return nil, fmt.Errorf("rdma: ibv_create_ah to %s: %w", cfg.DGID, err)
	}
	return &sysAH{ah: ah}, nil
}

type sysQP struct{ qp *C.struct_ibv_qp }

func (q *sysQP) QPN() uint32 { return uint32(q.qp.qp_num) }

func (q *sysQP) ModifyToInit(port uint8, pkeyIndex uint16, qkey uint32) error {
	return qpErr("INIT", C.cg_qp_to_init(q.qp, C.uint8_t(port), C.uint16_t(pkeyIndex), C.uint32_t(qkey)))
}

func (q *sysQP) ModifyToRTR() error { return qpErr("RTR", C.cg_qp_to_rtr(q.qp)) }

func (q *sysQP) ModifyToRTS(sqPSN uint32) error {
	return qpErr("RTS", C.cg_qp_to_rts(q.qp, C.uint32_t(sqPSN)))
}

func qpErr(state string, rc C.int) error {
	if rc != 0 {
		return fmt.Errorf("rdma: ibv_modify_qp to %s: %w", state, syscall.Errno(rc))
	}
	return nil
}

func (q *sysQP) PostSend(wr SendRequest) error {
	addr, length, lkey, err := sysSGE(wr.Segment)
	if err != nil {
		return err
	}
	ah, ok := wr.AH.(*sysAH)
	if !ok || ah.ah == nil {
		return errors.New("rdma: post send: address handle of another backend or closed")
	}
	rc := C.cg_post_send(q.qp, C.uint64_t(wr.ID), addr, length, lkey, ah.ah, C.uint32_t(wr.RemoteQPN), C.uint32_t(wr.RemoteQKey))
	if rc != 0 {
		return fmt.Errorf("rdma: ibv_post_send: %w", syscall.Errno(rc))
	}
	return nil
}

func (q *sysQP) PostRecv(wr RecvRequest) error {
	addr, length, lkey, err := sysSGE(wr.Segment)
	if err != nil {
		return err
	}
	if rc := C.cg_post_recv(q.qp, C.uint64_t(wr.ID), addr, length, lkey); rc != 0 {
		return fmt.Errorf("rdma: ibv_post_recv: %w", syscall.Errno(rc))
	}
	return nil
}

func (q *sysQP) Close() error {
	if q.qp == nil {
		return nil
	}
	if rc := C.ibv_destroy_qp(q.qp); rc != 0 {
		return fmt.Errorf("rdma: ibv_destroy_qp: %w", syscall.Errno(rc))
	}
	q.qp = nil
	return nil
}

// sysSGE turns a Segment into a scatter/gather entry, checking the bounds first: the
// device would otherwise read or write past the region without complaint.
func sysSGE(s Segment) (addr C.uint64_t, length, lkey C.uint32_t, err error) {
	mr, ok := s.Region.(*sysMR)
	if !ok || mr.mr == nil {
		return 0, 0, 0, errors.New("rdma: segment in a memory region of another backend or closed")
	}
	if s.Offset < 0 || s.Length < 0 || s.Offset > len(mr.mem) || s.Length > len(mr.mem)-s.Offset {
		return 0, 0, 0, fmt.Errorf("rdma: segment [%d, +%d) outside the %d-byte region", s.Offset, s.Length, len(mr.mem))
	}
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(mr.mem)), s.Offset)
	return C.uint64_t(uintptr(p)), C.uint32_t(s.Length), mr.mr.lkey, nil
}

type sysAH struct{ ah *C.struct_ibv_ah }

func (a *sysAH) Close() error {
	if a.ah == nil {
		return nil
	}
	if rc := C.ibv_destroy_ah(a.ah); rc != 0 {
		return fmt.Errorf("rdma: ibv_destroy_ah: %w", syscall.Errno(rc))
	}
	a.ah = nil
	return nil
}
