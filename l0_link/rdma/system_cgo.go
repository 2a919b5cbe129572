//go:build rdma && linux && cgo

package rdma

/*
#cgo LDFLAGS: -libverbs
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <infiniband/verbs.h>

// cg_open opens the device called name, or returns NULL with *err set.
static struct ibv_context *cg_open(const char *name, int *err) {
	int n = 0;
	struct ibv_device **list = ibv_get_device_list(&n);
	if (list == NULL) {
		*err = errno;
		return NULL;
	}
	struct ibv_context *ctx = NULL;
	*err = ENODEV;
	for (int i = 0; i < n; i++) {
		if (strcmp(ibv_get_device_name(list[i]), name) == 0) {
			ctx = ibv_open_device(list[i]);
			*err = ctx == NULL ? errno : 0;
			break;
		}
	}
	ibv_free_device_list(list);
	return ctx;
}

// cg_query_port exists because ibv_query_port is a macro, which cgo cannot call.
static int cg_query_port(struct ibv_context *ctx, uint8_t port, int *state, int *mtu, int *gids) {
	struct ibv_port_attr a;
	memset(&a, 0, sizeof a);
	int rc = ibv_query_port(ctx, port, &a);
	if (rc != 0)
		return rc;
	*state = a.state;
	*mtu = a.active_mtu;
	*gids = a.gid_tbl_len;
	return 0;
}

// cg_query_gid copies the GID out because union ibv_gid is opaque to cgo.
static int cg_query_gid(struct ibv_context *ctx, uint8_t port, int index, uint8_t *out) {
	union ibv_gid gid;
	if (ibv_query_gid(ctx, port, index, &gid) != 0)
		return errno != 0 ? errno : EINVAL;
	memcpy(out, gid.raw, 16);
	return 0;
}

// cg_reg_mr exists because ibv_reg_mr is a macro. The link only ever lets the device
// write into its memory locally (receives); nothing is exposed to remote access.
static struct ibv_mr *cg_reg_mr(struct ibv_pd *pd, void *addr, size_t len) {
	return ibv_reg_mr(pd, addr, len, IBV_ACCESS_LOCAL_WRITE);
}

// cg_create_cq creates a queue bound to a completion channel and arms it, so the first
// completion raises an event on the channel.
static struct ibv_cq *cg_create_cq(struct ibv_context *ctx, int entries, struct ibv_comp_channel *ch, int *err) {
	struct ibv_cq *cq = ibv_create_cq(ctx, entries, NULL, ch, 0);
	if (cq == NULL) {
		*err = errno;
		return NULL;
	}
	*err = ibv_req_notify_cq(cq, 0);
	if (*err != 0) {
		ibv_destroy_cq(cq);
		return NULL;
	}
	return cq;
}

// cg_cq_event consumes one completion event, if any, and re-arms the queue so that the
// next completion raises another. Every event is acknowledged at once, which
// ibv_destroy_cq relies on. Returns 0 or an errno.
static int cg_cq_event(struct ibv_comp_channel *ch) {
	struct ibv_cq *cq;
	void *cq_ctx;
	if (ibv_get_cq_event(ch, &cq, &cq_ctx) != 0)
		return errno == EAGAIN ? 0 : errno;
	ibv_ack_cq_events(cq, 1);
	return ibv_req_notify_cq(cq, 0);
}

// cg_wc is the part of struct ibv_wc the link reads, flattened for Go.
struct cg_wc {
	uint64_t wr_id;
	uint32_t status;
	uint32_t byte_len;
	uint32_t src_qp;
	uint32_t grh;
};

// cg_poll_cq polls up to n completions into out; ibv_poll_cq is inline, and struct
// ibv_wc has unions cgo cannot name. Returns the count, or a negative value on error.
static int cg_poll_cq(struct ibv_cq *cq, struct cg_wc *out, int n) {
	struct ibv_wc wc[16];
	int total = 0;
	while (total < n) {
		int want = n - total;
		if (want > 16)
			want = 16;
		int got = ibv_poll_cq(cq, want, wc);
		if (got < 0)
			return total > 0 ? total : got;
		for (int i = 0; i < got; i++) {
			struct cg_wc *o = &out[total + i];
			o->wr_id = wc[i].wr_id;
			o->status = wc[i].status;
			o->byte_len = wc[i].byte_len;
			o->src_qp = wc[i].src_qp;
			o->grh = (wc[i].wc_flags & IBV_WC_GRH) != 0;
		}
		total += got;
		if (got < want)
			break;
	}
	return total;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/Mellanox/rdmamap"
	"golang.org/x/sys/unix"
)

// SystemVerbs returns the libibverbs backend.
func SystemVerbs() (Verbs, error) { return systemVerbs{}, nil }

type systemVerbs struct{}

func (systemVerbs) OpenDevice(name string) (Context, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var cerr C.int
	ctx := C.cg_open(cname, &cerr)
	if ctx == nil {
		return nil, fmt.Errorf("rdma: open %s: %w", name, syscall.Errno(cerr))
	}
	return &sysContext{ctx: ctx, name: name}, nil
}

// sysContext is an open ibv_context. name finds the device's sysfs directory.
type sysContext struct {
	ctx  *C.struct_ibv_context
	name string
}

func (c *sysContext) QueryPort(port uint8) (PortInfo, error) {
	var state, mtu, gids C.int
	if rc := C.cg_query_port(c.ctx, C.uint8_t(port), &state, &mtu, &gids); rc != 0 {
		return PortInfo{}, fmt.Errorf("rdma: %s port %d: ibv_query_port: %w", c.name, port, syscall.Errno(rc))
	}
	return PortInfo{
		Active: state == C.IBV_PORT_ACTIVE,
		// enum ibv_mtu counts from IBV_MTU_256 = 1 in powers of two.
		ActiveMTUBytes: 128 << int(mtu),
		GIDTableLen:    int(gids),
	}, nil
}

func (c *sysContext) QueryGID(port uint8, index int) (GIDEntry, error) {
	var e GIDEntry
	if rc := C.cg_query_gid(c.ctx, C.uint8_t(port), C.int(index), (*C.uint8_t)(unsafe.Pointer(&e.GID[0]))); rc != 0 {
		return GIDEntry{}, fmt.Errorf("rdma: %s port %d: ibv_query_gid %d: %w", c.name, port, index, syscall.Errno(rc))
	}
	// libibverbs has no portable call for the type on old releases; sysfs always has it.
	path := filepath.Join(rdmamap.RdmaClassDir, c.name, rdmamap.RdmaPortsdir, strconv.Itoa(int(port)),
		rdmamap.RdmaGidAttrDir, "types", strconv.Itoa(index))
	if b, err := os.ReadFile(path); err == nil {
		e.Type = strings.TrimSpace(string(b))
	}
	return e, nil
}

func (c *sysContext) AllocPD() (ProtectionDomain, error) {
	pd, err := C.ibv_alloc_pd(c.ctx)
	if pd == nil {
		return nil, fmt.Errorf("rdma: %s: ibv_alloc_pd: %w", c.name, err)
	}
	return &sysPD{pd: pd}, nil
}

func (c *sysContext) CreateCQ(entries int) (CompletionQueue, error) {
	ch, err := C.ibv_create_comp_channel(c.ctx)
	if ch == nil {
		return nil, fmt.Errorf("rdma: %s: ibv_create_comp_channel: %w", c.name, err)
	}
	// Non-blocking, so that Wait can poll(2) the channel with a timeout and then take the
	// event without ever sleeping inside libibverbs.
	if err := unix.SetNonblock(int(ch.fd), true); err != nil {
		C.ibv_destroy_comp_channel(ch)
		return nil, fmt.Errorf("rdma: %s: completion channel: %w", c.name, err)
	}
	var cerr C.int
	cq := C.cg_create_cq(c.ctx, C.int(entries), ch, &cerr)
	if cq == nil {
		C.ibv_destroy_comp_channel(ch)
		return nil, fmt.Errorf("rdma: %s: ibv_create_cq(%d): %w", c.name, entries, syscall.Errno(cerr))
	}
	return &sysCQ{cq: cq, ch: ch}, nil
}

func (c *sysContext) Close() error {
	if c.ctx == nil {
		return nil
	}
	rc, err := C.ibv_close_device(c.ctx)
	c.ctx = nil
	if rc != 0 {
		return fmt.Errorf("rdma: %s: ibv_close_device: %w", c.name, err)
	}
	return nil
}

type sysPD struct{ pd *C.struct_ibv_pd }

func (p *sysPD) AllocMemory(bytes int) (MemoryRegion, error) {
	if bytes <= 0 {
		return nil, errors.New("rdma: memory region must not be empty")
	}
	// mmap rather than make: the device keeps the address, and the Go heap is not to be
	// retained by C. Page alignment is also what registration likes best.
	mem, err := unix.Mmap(-1, 0, bytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("rdma: mmap %d bytes: %w", bytes, err)
	}
	mr, err := C.cg_reg_mr(p.pd, unsafe.Pointer(&mem[0]), C.size_t(len(mem)))
	if mr == nil {
		_ = unix.Munmap(mem)
		return nil, fmt.Errorf("rdma: ibv_reg_mr %d bytes: %w", bytes, err)
	}
	return &sysMR{mr: mr, mem: mem}, nil
}

func (p *sysPD) Close() error {
	if p.pd == nil {
		return nil
	}
	rc := C.ibv_dealloc_pd(p.pd)
	p.pd = nil
	if rc != 0 {
		return fmt.Errorf("rdma: ibv_dealloc_pd: %w", syscall.Errno(rc))
	}
	return nil
}

type sysMR struct {
	mr  *C.struct_ibv_mr
	mem []byte
}

func (m *sysMR) Bytes() []byte { return m.mem }

func (m *sysMR) Close() error {
	if m.mr == nil {
		return nil
	}
	rc := C.ibv_dereg_mr(m.mr)
	m.mr = nil
	if rc != 0 {
		// Still registered: unmapping would let the device write into reused memory.
		return fmt.Errorf("rdma: ibv_dereg_mr: %w", syscall.Errno(rc))
	}
	err := unix.Munmap(m.mem)
	m.mem = nil
	return err
}

// sysCQ is a completion queue and its channel. scratch is reused by Poll, which one
// goroutine at a time calls.
type sysCQ struct {
	cq      *C.struct_ibv_cq
	ch      *C.struct_ibv_comp_channel
	scratch []C.struct_cg_wc
}

func (q *sysCQ) Poll(wc []WorkCompletion) (int, error) {
	if len(wc) == 0 {
		return 0, nil
	}
	if len(q.scratch) < len(wc) {
		q.scratch = make([]C.struct_cg_wc, len(wc))
	}
	n := int(C.cg_poll_cq(q.cq, &q.scratch[0], C.int(len(wc))))
	if n < 0 {
		return 0, errors.New("rdma: ibv_poll_cq failed")
	}
	for i, s := range q.scratch[:n] {
		wc[i] = WorkCompletion{
			ID:      uint64(s.wr_id),
			Status:  WCStatus(s.status),
			ByteLen: int(s.byte_len),
			SrcQPN:  uint32(s.src_qp),
			HasGRH:  s.grh != 0,
		}
	}
	return n, nil
}

func (q *sysCQ) Wait(timeout time.Duration) error {
	ms := int((timeout + time.Millisecond - 1) / time.Millisecond)
	fds := []unix.PollFd{{Fd: int32(q.ch.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, ms)
	if err == unix.EINTR || n == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rdma: poll completion channel: %w", err)
	}
	if rc := C.cg_cq_event(q.ch); rc != 0 {
		return fmt.Errorf("rdma: completion event: %w", syscall.Errno(rc))
	}
	return nil
}

func (q *sysCQ) Close() error {
	if q.cq == nil {
		return nil
	}
	if rc := C.ibv_destroy_cq(q.cq); rc != 0 {
		return fmt.Errorf("rdma: ibv_destroy_cq: %w", syscall.Errno(rc))
	}
	q.cq = nil
	if rc, err := C.ibv_destroy_comp_channel(q.ch); rc != 0 {
		return fmt.Errorf("rdma: ibv_destroy_comp_channel: %w", err)
	}
	q.ch = nil
	return nil
}
