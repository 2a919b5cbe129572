package rdma

import (
	"fmt"
	"time"
)

// Verbs is the part of libibverbs the link uses. SystemVerbs is the real one; FakeFabric
// simulates a fabric in memory. Objects are released with Close, children before parents
// (address handles and queue pairs before their protection domain), as verbs requires.
type Verbs interface {
	// OpenDevice opens the RDMA device with the kernel name name (ibv_open_device).
	OpenDevice(name string) (Context, error)
}

// Context is an open device (struct ibv_context).
type Context interface {
	// QueryPort describes one port of the device (ibv_query_port).
	QueryPort(port uint8) (PortInfo, error)
	// QueryGID reads one entry of a port's GID table (ibv_query_gid plus its sysfs type).
	QueryGID(port uint8, index int) (GIDEntry, error)
	// AllocPD allocates a protection domain (ibv_alloc_pd).
	AllocPD() (ProtectionDomain, error)
	// CreateCQ creates a completion queue with room for entries completions
	// (ibv_create_cq, with a completion channel so that Wait can sleep).
	CreateCQ(entries int) (CompletionQueue, error)
	// Close closes the device (ibv_close_device).
	Close() error
}

// PortInfo is what the link needs from struct ibv_port_attr.
type PortInfo struct {
	// Active is true when the port's state is IBV_PORT_ACTIVE.
	Active bool
	// ActiveMTUBytes is the path MTU in bytes: the largest UD message the port carries.
	ActiveMTUBytes int
	// GIDTableLen is the number of entries in the port's GID table.
	GIDTableLen int
}

// GIDEntry is one entry of a port's GID table.
type GIDEntry struct {
	// GID is the entry's value.
	GID GID
	// Type is the entry's type as sysfs spells it ("IB/RoCE v1" or "RoCE v2"), or "" when
	// unknown. The same address appears once per type; RoCE v2 is the routable one.
	Type string
}

// GIDTypeRoCEv2 is the sysfs name of a RoCE v2 GID entry.
const GIDTypeRoCEv2 = "RoCE v2"

// ProtectionDomain groups the memory and queue pairs that may be used together
// (struct ibv_pd).
type ProtectionDomain interface {
	// AllocMemory allocates bytes of memory and registers it for local writes
	// (ibv_reg_mr). The backend owns the memory because libibverbs keeps its address:
	// Go heap memory may not be retained by C.
	AllocMemory(bytes int) (MemoryRegion, error)
	// CreateUDQP creates an unreliable-datagram queue pair in the RESET state
	// (ibv_create_qp with IBV_QPT_UD).
	CreateUDQP(cfg QPConfig) (QueuePair, error)
	// CreateAH creates an address handle naming a remote port (ibv_create_ah).
	CreateAH(cfg AHConfig) (AddressHandle, error)
	// Close deallocates the domain (ibv_dealloc_pd); it fails while children remain.
	Close() error
}

// MemoryRegion is registered memory (struct ibv_mr plus the memory itself).
type MemoryRegion interface {
	// Bytes is the memory. It stays valid until Close.
	Bytes() []byte
	// Close deregisters and frees the memory (ibv_dereg_mr).
	Close() error
}

// QPConfig sizes a queue pair.
type QPConfig struct {
	// SendCQ and RecvCQ receive the completions of the two work queues.
	SendCQ, RecvCQ CompletionQueue
	// SendWRs and RecvWRs bound the work requests outstanding on each queue.
	SendWRs, RecvWRs int
}

// QueuePair is a UD queue pair (struct ibv_qp). It moves RESET → INIT → RTR → RTS.
type QueuePair interface {
	// QPN is the queue pair number peers send to.
	QPN() uint32
	// ModifyToInit moves RESET → INIT: the port, the partition key index and the QKey
	// that incoming datagrams must carry (ibv_modify_qp with
	// IBV_QP_STATE|IBV_QP_PKEY_INDEX|IBV_QP_PORT|IBV_QP_QKEY).
	ModifyToInit(port uint8, pkeyIndex uint16, qkey uint32) error
	// ModifyToRTR moves INIT → ready to receive (IBV_QP_STATE only, for UD).
	ModifyToRTR() error
	// ModifyToRTS moves RTR → ready to send (IBV_QP_STATE|IBV_QP_SQ_PSN).
	ModifyToRTS(sqPSN uint32) error
	// PostSend queues one signaled send (ibv_post_send).
	PostSend(wr SendRequest) error
	// PostRecv queues one receive buffer (ibv_post_recv).
	PostRecv(wr RecvRequest) error
	// Close destroys the queue pair (ibv_destroy_qp).
	Close() error
}

// AHConfig names a remote port for CreateAH. Every handle is global (has a GRH), as RoCE
// requires.
type AHConfig struct {
	// Port is the local port the datagrams leave by.
	Port uint8
	// DGID is the destination GID.
	DGID GID
	// SGIDIndex picks the local GID (and, on RoCE, its type and source IP address).
	SGIDIndex int
	// HopLimit is the IPv6 hop limit / IPv4 TTL; above 1 so that RoCE v2 can be routed.
	HopLimit uint8
}

// AddressHandle is a remote port for sends (struct ibv_ah).
type AddressHandle interface {
	// Close destroys the handle (ibv_destroy_ah).
	Close() error
}

// CompletionQueue reports finished work requests (struct ibv_cq).
type CompletionQueue interface {
	// Poll moves up to len(wc) completions into wc without blocking (ibv_poll_cq).
	Poll(wc []WorkCompletion) (int, error)
	// Wait sleeps until a completion may be ready or timeout passes, whichever is first.
	// A wake-up may be spurious; the caller polls again either way.
	Wait(timeout time.Duration) error
	// Close destroys the queue (ibv_destroy_cq); it fails while a queue pair uses it.
	Close() error
}

// Segment is a byte range of registered memory (struct ibv_sge).
type Segment struct {
	// Region is the registered memory the bytes lie in.
	Region MemoryRegion
	// Offset and Length place the bytes within Region.Bytes().
	Offset, Length int
}

// SendRequest is one UD send (struct ibv_send_wr with wr.ud filled in).
type SendRequest struct {
	// ID comes back in the completion (wr_id).
	ID uint64
	// Segment holds the message.
	Segment Segment
	// AH, RemoteQPN and RemoteQKey address the destination queue pair.
	AH                    AddressHandle
	RemoteQPN, RemoteQKey uint32
}

// RecvRequest is one receive buffer (struct ibv_recv_wr). On UD the first GRHBytes of
// every received buffer hold the global route header, then the message.
type RecvRequest struct {
	// ID comes back in the completion (wr_id).
	ID uint64
	// Segment is where the datagram lands.
	Segment Segment
}

// GRHBytes is the global route header UD receives put before every message.
const GRHBytes = 40

// WorkCompletion is one finished work request (struct ibv_wc).
type WorkCompletion struct {
	// ID is the request's ID.
	ID uint64
	// Status is WCSuccess or why the request failed.
	Status WCStatus
	// ByteLen is, for a receive, the bytes written including the GRH.
	ByteLen int
	// SrcQPN is, for a receive, the sending queue pair.
	SrcQPN uint32
	// HasGRH is, for a receive, whether the first GRHBytes hold a route header.
	HasGRH bool
}

// WCStatus is a completion status; the values are those of enum ibv_wc_status.
type WCStatus int

// Completion statuses the link and the fake fabric use by name.
const (
	WCSuccess          WCStatus = 0
	WCLocalLengthError WCStatus = 1
	WCLocalQPOpError   WCStatus = 2
	WCLocalProtError   WCStatus = 4
	WCFlushError       WCStatus = 5
	WCGeneralError     WCStatus = 21
)

// String names the status as ibv_wc_status_str does.
func (s WCStatus) String() string {
	switch s {
	case WCSuccess:
		return "success"
	case WCLocalLengthError:
		return "local length error"
	case WCLocalQPOpError:
		return "local QP operation error"
	case WCLocalProtError:
		return "local protection error"
	case WCFlushError:
		return "Work Request Flushed Error"
	case WCGeneralError:
		return "general error"
	}
	return fmt.Sprintf("completion status %d", int(s))
}
