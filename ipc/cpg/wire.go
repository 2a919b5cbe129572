package cpg

import (
	"errors"
	"fmt"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/frame"
	"github.com/corosync-go/corosync/ipc/mar"
)

// Request ids (enum req_cpg_types, include/corosync/ipc_cpg.h of corosync 3.1.7). The three
// zero-copy ids were renamed NULL/PAD1/PAD2 after 3.1.7, when zero-copy was removed.
const (
	ReqJoin                int32 = 0
	ReqLeave               int32 = 1
	ReqMcast               int32 = 2
	ReqMembership          int32 = 3
	ReqLocalGet            int32 = 4
	ReqIterationInitialize int32 = 5
	ReqIterationNext       int32 = 6
	ReqIterationFinalize   int32 = 7
	ReqFinalize            int32 = 8
	ReqZCAlloc             int32 = 9
	ReqZCFree              int32 = 10
	ReqZCExecute           int32 = 11
	ReqPartialMcast        int32 = 12
)

// Response and event ids (enum res_cpg_types). FlowControlStateSet has no message in
// 3.1.7; ResZCAlloc and ResZCFree are never sent either (the daemon answers those requests
// with id 0).
const (
	ResJoin                 int32 = 0
	ResLeave                int32 = 1
	ResMcast                int32 = 2
	ResMembership           int32 = 3
	ResConfChgCallback      int32 = 4
	ResDeliverCallback      int32 = 5
	ResFlowControlStateSet  int32 = 6
	ResLocalGet             int32 = 7
	ResFlowControlCallback  int32 = 8
	ResIterationInitialize  int32 = 9
	ResIterationNext        int32 = 10
	ResIterationFinalize    int32 = 11
	ResFinalize             int32 = 12
	ResTotemConfChgCallback int32 = 13
	ResZCAlloc              int32 = 14
	ResZCFree               int32 = 15
	ResZCExecute            int32 = 16
	ResPartialDeliver       int32 = 17
	ResPartialSend          int32 = 18
)

// Limits of corosync 3.1.7.
const (
	// NameMax is the longest group name (CPG_MAX_NAME_LENGTH). Names are byte strings,
	// compared by length and bytes; they need no NUL.
	NameMax = 128
	// MembersMax is the most members libcpg copies out of one list of a confchg event
	// (CPG_MEMBERS_MAX); this package has no such limit.
	MembersMax = 128
	// MembershipMax is the size of the member array of a MEMBERSHIP answer
	// (PROCESSOR_COUNT_MAX): the answer always carries that many slots.
	MembershipMax = 384
	// MaxAtomicMsgSize is the largest message libcpg multicasts in one MCAST request
	// (IPC_REQUEST_SIZE − 1024, cpg_max_atomic_msgsize_get); longer messages travel as
	// PARTIAL_MCAST fragments of at most this size.
	MaxAtomicMsgSize = 1<<20 - 1024
	// ZCPathMax is the size of ZC_ALLOC's file name field (CPG_ZC_PATH_LEN).
	ZCPathMax = 128
)

// Byte sizes of the messages' fixed parts (gcc on amd64, corosync 3.1.7's structs; see
// wire_test.go for the offsets).
const (
	reqHdr = ipc.RequestHeaderBytes  // 16
	resHdr = ipc.ResponseHeaderBytes // 24
	// nameBytes is mar_cpg_name_t: u32 length aligned 8, then value[128] aligned 8.
	nameBytes = 8 + NameMax
	// addressBytes is mar_cpg_address_t: three u32, each aligned 8.
	addressBytes = 24

	// JoinRequestBytes is req_lib_cpg_join: group_name @16, pid @152, flags @160.
	JoinRequestBytes = 168
	// LeaveRequestBytes is req_lib_cpg_leave: group_name @16, pid @152.
	LeaveRequestBytes = 160
	// McastRequestBytes is req_lib_cpg_mcast without its message: its header is a 24-byte
	// response header; guarantee @24, msglen @32, message @40.
	McastRequestBytes = 40
	// PartialMcastRequestBytes is req_lib_cpg_partial_mcast without its fragment:
	// guarantee @24, msglen @32, fraglen @40, type @48, fragment @56.
	PartialMcastRequestBytes = 56
	// MembershipRequestBytes is req_lib_cpg_membership_get: group_name @16.
	MembershipRequestBytes = 152
	// LocalGetRequestBytes is req_lib_cpg_local_get, a bare header.
	LocalGetRequestBytes = 16
	// IterationInitializeRequestBytes is req_lib_cpg_iterationinitialize: group_name @16,
	// iteration_type @152.
	IterationInitializeRequestBytes = 160
	// IterationHandleRequestBytes is req_lib_cpg_iterationnext and iterationfinalize:
	// iteration_handle @16.
	IterationHandleRequestBytes = 24
	// FinalizeRequestBytes is req_lib_cpg_finalize, a bare header.
	FinalizeRequestBytes = 16
	// ZCAllocRequestBytes is mar_req_coroipcc_zc_alloc_t: map_size @16, path_to_file @24.
	ZCAllocRequestBytes = 152
	// ZCFreeRequestBytes is mar_req_coroipcc_zc_free_t: map_size @16, server_address @24.
	ZCFreeRequestBytes = 32
	// ZCExecuteRequestBytes is mar_req_coroipcc_zc_execute_t: server_address @16.
	ZCExecuteRequestBytes = 24

	// StatusResponseBytes is a bare response header: the answer to JOIN, LEAVE,
	// ITERATIONFINALIZE, FINALIZE, PARTIAL_MCAST (PARTIAL_SEND), the zero-copy requests,
	// and the daemon's generic refusals (id 0).
	StatusResponseBytes = 24
	// MembershipResponseBytes is res_lib_cpg_membership_get: member_count @24, then always
	// MembershipMax addresses @32.
	MembershipResponseBytes = 32 + MembershipMax*addressBytes
	// LocalGetResponseBytes is res_lib_cpg_local_get: local_nodeid @24.
	LocalGetResponseBytes = 32
	// IterationInitializeResponseBytes is res_lib_cpg_iterationinitialize:
	// iteration_handle @24.
	IterationInitializeResponseBytes = 32
	// IterationNextResponseBytes is res_lib_cpg_iterationnext: group @24, nodeid @160,
	// pid @164.
	IterationNextResponseBytes = 168
	// DeliverCallbackBytes is res_lib_cpg_deliver_callback without its message:
	// group_name @24, msglen @160, nodeid @168, pid @176, message @184.
	DeliverCallbackBytes = 184
	// PartialDeliverCallbackBytes is res_lib_cpg_partial_deliver_callback without its
	// fragment: msglen @160, fraglen @168, nodeid @176, pid @184, type @192, fragment @200.
	PartialDeliverCallbackBytes = 200
	// ConfChgCallbackBytes is res_lib_cpg_confchg_callback without its lists:
	// member_list_entries @160, joined_list_entries @168, left_list_entries @176, then the
	// addresses @184 in the order members, left, joined.
	ConfChgCallbackBytes = 184
	// TotemConfChgCallbackBytes is sizeof(res_lib_cpg_totem_confchg_callback): ring_id @24,
	// member_list_entries @40 and the u32 member array @44; the daemon sizes the event as
	// 48 + 4n, leaving 4 unused bytes at the end.
	TotemConfChgCallbackBytes = 48
	// FlowControlCallbackBytes is res_lib_cpg_flowcontrol_callback: flow_control_state @24.
	FlowControlCallbackBytes = 32
)

// Errors wrapped by this package's errors.
var (
	// ErrMalformed is wrapped by the errors about a message without its type's layout.
	ErrMalformed = errors.New("cpg: malformed message")
	// ErrNameTooLong is wrapped by the errors about a group name longer than NameMax bytes;
	// they also wrap ipc.CSErrNameTooLong, libcpg's code for it.
	ErrNameTooLong = errors.New("cpg: group name too long")
)

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
}

// checkName applies libcpg's limit (length > CPG_MAX_NAME_LENGTH).
func checkName(name string) error {
	if len(name) > NameMax {
		return fmt.Errorf("%w: %d bytes, at most %d: %w", ErrNameTooLong, len(name), NameMax, ipc.CSErrNameTooLong)
	}
	return nil
}

// putName appends a mar_cpg_name_t; the name must fit (callers check with checkName).
func putName(e *mar.Encoder, s string) {
	e.U32(uint32(len(s)))
	e.Zero(4)
	e.Fixed([]byte(s), NameMax)
}

// name reads a mar_cpg_name_t. Bytes past the length are ignored: libcpg copies all 128
// bytes of the caller's struct, whatever they hold.
func name(d *mar.Decoder) string {
	n := d.U32()
	d.Skip(4)
	v := d.Bytes(NameMax)
	if d.Err() != nil {
		return ""
	}
	if n > NameMax {
		d.Fail(fmt.Errorf("%w: name length %d exceeds %d: %w", ErrNameTooLong, n, NameMax, ipc.CSErrNameTooLong))
		return ""
	}
	return string(v[:n])
}

// Reason says why a process joined or left a group (cpg_reason_t).
type Reason uint32

// The reasons of corosync 3.1.7.
const (
	ReasonUndefined Reason = 0
	ReasonJoin      Reason = 1
	ReasonLeave     Reason = 2
	ReasonNodeDown  Reason = 3
	ReasonNodeUp    Reason = 4
	ReasonProcDown  Reason = 5
)

// String returns corosync's name for the reason.
func (r Reason) String() string {
	switch r {
	case ReasonUndefined:
		return "undefined"
	case ReasonJoin:
		return "join"
	case ReasonLeave:
		return "leave"
	case ReasonNodeDown:
		return "nodedown"
	case ReasonNodeUp:
		return "nodeup"
	case ReasonProcDown:
		return "procdown"
	}
	return fmt.Sprintf("reason(%d)", uint32(r))
}

// Address is one process of a group (mar_cpg_address_t): the node it runs on, its pid, and
// in a confchg's left and joined lists the reason.
type Address struct {
	NodeID uint32
	PID    uint32
	Reason Reason
}

func putAddress(e *mar.Encoder, a Address) {
	e.U32(a.NodeID)
	e.Zero(4)
	e.U32(a.PID)
	e.Zero(4)
	e.U32(uint32(a.Reason))
	e.Zero(4)
}

func address(d *mar.Decoder) Address {
	a := Address{NodeID: d.U32()}
	d.Skip(4)
	a.PID = d.U32()
	d.Skip(4)
	a.Reason = Reason(d.U32())
	d.Skip(4)
	return a
}

// addresses reads n addresses, checking first that the message holds them.
func addresses(d *mar.Decoder, n uint32) []Address {
	if uint64(n)*addressBytes > uint64(d.Remaining()) {
		d.Fail(fmt.Errorf("%w: %d addresses need %d bytes, %d left", mar.ErrShort, n, uint64(n)*addressBytes, d.Remaining()))
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]Address, n)
	for i := range out {
		out[i] = address(d)
	}
	return out
}

// RingID names a totem membership (mar_cpg_ring_id_t: u32 nodeid aligned 8, u64 seq).
type RingID struct {
	NodeID uint32
	Seq    uint64
}

// Guarantee is the delivery guarantee a multicast asks for (cpg_guarantee_t). corosync
// 3.1.7 delivers every message in agreed order whatever it asks.
type Guarantee uint32

// The guarantees.
const (
	TypeUnordered Guarantee = 0
	TypeFIFO      Guarantee = 1
	TypeAgreed    Guarantee = 2
	TypeSafe      Guarantee = 3
)

// PartialType marks a fragment's place in a message (lib_cpg_partial_types).
type PartialType uint32

// The fragment types.
const (
	PartialFirst     PartialType = 1
	PartialContinued PartialType = 2
	PartialLast      PartialType = 3
)

// IterationType selects what an iteration lists (cpg_iteration_type_t).
type IterationType uint32

// The iteration types.
const (
	// IterationNameOnly lists each group once, with node id and pid 0.
	IterationNameOnly IterationType = 1
	// IterationOneGroup lists the members of one group.
	IterationOneGroup IterationType = 2
	// IterationAll lists the members of every group.
	IterationAll IterationType = 3
)

// ModelFlags are the CPG_MODEL_V1 flags; libcpg sends them in every JOIN request.
type ModelFlags uint32

// DeliverInitialTotemConf asks the daemon for a TotemConfChg event after the first confchg
// the connection sees (CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF); without it totem confchg
// events come only when the membership changes.
const DeliverInitialTotemConf ModelFlags = 1

// request starts encoding a request of the given total size (hdr is 16, or 24 for the
// multicasts, whose C structs begin with a response header).
// requestDecoder checks a request's header and minimum length (frame.RequestBody) and
// returns a decoder positioned after a header of hdr bytes.
func requestDecoder(msg []byte, id int32, hdr, min int, what string) (*mar.Decoder, error) {
	d, err := frame.RequestBody(msg, id, hdr, min)
	if err != nil {
		return nil, malformed(what, err)
	}
	return d, nil
}

// responseDecoder checks a response's or event's header and minimum length
// (frame.ResponseBody).
func responseDecoder(msg []byte, id int32, min int, what string) (*mar.Decoder, ipc.CS, error) {
	d, cs, err := frame.ResponseBody(msg, id, min)
	if err != nil {
		return nil, 0, malformed(what, err)
	}
	return d, cs, nil
}

func done(d *mar.Decoder, what string) error {
	if err := d.Err(); err != nil {
		return malformed(what, err)
	}
	return nil
}
