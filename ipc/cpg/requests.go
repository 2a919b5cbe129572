package cpg

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"

	"github.com/corosync-go/corosync/ipc/mar"
)

// JoinRequest is req_lib_cpg_join: PID joins Group. Flags are the connection's model flags.
type JoinRequest struct {
	Group string
	PID   uint32
	Flags ModelFlags
}

// Encode returns the request's bytes.
func (r JoinRequest) Encode() ([]byte, error) {
	if err := checkName(r.Group); err != nil {
		return nil, err
	}
	e := frame.Request(JoinRequestBytes, reqHdr)
	putName(e, r.Group)
	e.U32(r.PID)
	e.Zero(4)
	e.U32(uint32(r.Flags))
	e.Zero(4)
	return frame.FinishRequest(e, ReqJoin), nil
}

// DecodeJoinRequest decodes a JOIN request. A name longer than NameMax is an error that
// also wraps ipc.CSErrNameTooLong, the daemon's answer to it.
func DecodeJoinRequest(msg []byte) (JoinRequest, error) {
	const what = "join request"
	d, err := requestDecoder(msg, ReqJoin, reqHdr, JoinRequestBytes, what)
	if err != nil {
		return JoinRequest{}, err
	}
	r := JoinRequest{Group: name(d), PID: d.U32()}
	d.Skip(4)
	r.Flags = ModelFlags(d.U32())
	return r, done(d, what)
}

// LeaveRequest is req_lib_cpg_leave. The daemon leaves the group the connection joined,
// whatever Group says; it puts PID in the leave it multicasts.
type LeaveRequest struct {
	Group string
	PID   uint32
}

// Encode returns the request's bytes.
func (r LeaveRequest) Encode() ([]byte, error) {
	if err := checkName(r.Group); err != nil {
		return nil, err
	}
	e := frame.Request(LeaveRequestBytes, reqHdr)
	putName(e, r.Group)
	e.U32(r.PID)
	e.Zero(4)
	return frame.FinishRequest(e, ReqLeave), nil
}

// DecodeLeaveRequest decodes a LEAVE request.
func DecodeLeaveRequest(msg []byte) (LeaveRequest, error) {
	const what = "leave request"
	d, err := requestDecoder(msg, ReqLeave, reqHdr, LeaveRequestBytes, what)
	if err != nil {
		return LeaveRequest{}, err
	}
	r := LeaveRequest{Group: name(d), PID: d.U32()}
	return r, done(d, what)
}

// McastRequest is req_lib_cpg_mcast: multicast Msg to the connection's group. It gets no
// response. Msg is at most MaxAtomicMsgSize bytes when libcpg sends it.
type McastRequest struct {
	Guarantee Guarantee
	Msg       []byte
}

// Encode returns the request's bytes.
func (r McastRequest) Encode() []byte {
	e := frame.Request(McastRequestBytes+len(r.Msg), resHdr)
	e.U32(uint32(r.Guarantee))
	e.Zero(4)
	e.U32(uint32(len(r.Msg)))
	e.Zero(4)
	e.Bytes(r.Msg)
	return frame.FinishRequest(e, ReqMcast)
}

// DecodeMcastRequest decodes an MCAST request; msglen must be what follows the fixed part.
// Msg is a view into msg.
func DecodeMcastRequest(msg []byte) (McastRequest, error) {
	const what = "mcast request"
	d, err := requestDecoder(msg, ReqMcast, resHdr, McastRequestBytes, what)
	if err != nil {
		return McastRequest{}, err
	}
	r := McastRequest{Guarantee: Guarantee(d.U32())}
	d.Skip(4)
	n := d.U32()
	d.Skip(4)
	if uint64(n) != uint64(d.Remaining()) {
		return McastRequest{}, malformed(what, fmt.Errorf("msglen %d, %d bytes follow", n, d.Remaining()))
	}
	r.Msg = d.Bytes(int(n))
	return r, done(d, what)
}

// PartialMcastRequest is req_lib_cpg_partial_mcast: one fragment of a message of MsgLen
// bytes. It is answered with PARTIAL_SEND.
type PartialMcastRequest struct {
	Guarantee Guarantee
	MsgLen    uint32
	Type      PartialType
	Frag      []byte
}

// Encode returns the request's bytes.
func (r PartialMcastRequest) Encode() []byte {
	e := frame.Request(PartialMcastRequestBytes+len(r.Frag), resHdr)
	e.U32(uint32(r.Guarantee))
	e.Zero(4)
	e.U32(r.MsgLen)
	e.Zero(4)
	e.U32(uint32(len(r.Frag)))
	e.Zero(4)
	e.U32(uint32(r.Type))
	e.Zero(4)
	e.Bytes(r.Frag)
	return frame.FinishRequest(e, ReqPartialMcast)
}

// DecodePartialMcastRequest decodes a PARTIAL_MCAST request: fraglen must be what follows
// the fixed part and no more than msglen, and the type one of the three. Frag is a view
// into msg.
func DecodePartialMcastRequest(msg []byte) (PartialMcastRequest, error) {
	const what = "partial mcast request"
	d, err := requestDecoder(msg, ReqPartialMcast, resHdr, PartialMcastRequestBytes, what)
	if err != nil {
		return PartialMcastRequest{}, err
	}
	r := PartialMcastRequest{Guarantee: Guarantee(d.U32())}
	d.Skip(4)
	r.MsgLen = d.U32()
	d.Skip(4)
	n := d.U32()
	d.Skip(4)
	r.Type = PartialType(d.U32())
	d.Skip(4)
	if err := checkFragment(r.Type, r.MsgLen, n, d.Remaining()); err != nil {
		return PartialMcastRequest{}, malformed(what, err)
	}
	r.Frag = d.Bytes(int(n))
	return r, done(d, what)
}

// checkFragment validates a fragment's header fields against the bytes that follow.
func checkFragment(t PartialType, msgLen, fragLen uint32, rest int) error {
	if uint64(fragLen) != uint64(rest) {
		return fmt.Errorf("fraglen %d, %d bytes follow", fragLen, rest)
	}
	if fragLen > msgLen {
		return fmt.Errorf("fraglen %d exceeds msglen %d", fragLen, msgLen)
	}
	if t < PartialFirst || t > PartialLast {
		return fmt.Errorf("fragment type %d", t)
	}
	return nil
}

// MembershipRequest is req_lib_cpg_membership_get: list Group's members.
type MembershipRequest struct {
	Group string
}

// Encode returns the request's bytes.
func (r MembershipRequest) Encode() ([]byte, error) {
	if err := checkName(r.Group); err != nil {
		return nil, err
	}
	e := frame.Request(MembershipRequestBytes, reqHdr)
	putName(e, r.Group)
	return frame.FinishRequest(e, ReqMembership), nil
}

// DecodeMembershipRequest decodes a MEMBERSHIP request.
func DecodeMembershipRequest(msg []byte) (MembershipRequest, error) {
	const what = "membership request"
	d, err := requestDecoder(msg, ReqMembership, reqHdr, MembershipRequestBytes, what)
	if err != nil {
		return MembershipRequest{}, err
	}
	r := MembershipRequest{Group: name(d)}
	return r, done(d, what)
}

// IterationInitializeRequest is req_lib_cpg_iterationinitialize. Group matters only for
// IterationOneGroup (libcpg leaves the field uninitialised otherwise; this package zeroes
// it).
type IterationInitializeRequest struct {
	Group string
	Type  IterationType
}

// Encode returns the request's bytes.
func (r IterationInitializeRequest) Encode() ([]byte, error) {
	if err := checkName(r.Group); err != nil {
		return nil, err
	}
	e := frame.Request(IterationInitializeRequestBytes, reqHdr)
	putName(e, r.Group)
	e.U32(uint32(r.Type))
	e.Zero(4)
	return frame.FinishRequest(e, ReqIterationInitialize), nil
}

// DecodeIterationInitializeRequest decodes an ITERATIONINITIALIZE request. The group name
// is checked only for IterationOneGroup, the one type that reads it.
func DecodeIterationInitializeRequest(msg []byte) (IterationInitializeRequest, error) {
	const what = "iteration initialize request"
	d, err := requestDecoder(msg, ReqIterationInitialize, reqHdr, IterationInitializeRequestBytes, what)
	if err != nil {
		return IterationInitializeRequest{}, err
	}
	d.Skip(nameBytes)
	r := IterationInitializeRequest{Type: IterationType(d.U32())}
	if err := done(d, what); err != nil {
		return IterationInitializeRequest{}, err
	}
	if r.Type == IterationOneGroup {
		g := mar.NewDecoder(msg[reqHdr:])
		r.Group = name(g)
		if err := done(g, what); err != nil {
			return IterationInitializeRequest{}, err
		}
	}
	return r, nil
}

// IterationNextRequest is req_lib_cpg_iterationnext.
type IterationNextRequest struct {
	Handle uint64
}

// Encode returns the request's bytes.
func (r IterationNextRequest) Encode() []byte { return handleRequest(ReqIterationNext, r.Handle) }

// DecodeIterationNextRequest decodes an ITERATIONNEXT request.
func DecodeIterationNextRequest(msg []byte) (IterationNextRequest, error) {
	h, err := decodeHandleRequest(msg, ReqIterationNext, "iteration next request")
	return IterationNextRequest{Handle: h}, err
}

// IterationFinalizeRequest is req_lib_cpg_iterationfinalize.
type IterationFinalizeRequest struct {
	Handle uint64
}

// Encode returns the request's bytes.
func (r IterationFinalizeRequest) Encode() []byte {
	return handleRequest(ReqIterationFinalize, r.Handle)
}

// DecodeIterationFinalizeRequest decodes an ITERATIONFINALIZE request.
func DecodeIterationFinalizeRequest(msg []byte) (IterationFinalizeRequest, error) {
	h, err := decodeHandleRequest(msg, ReqIterationFinalize, "iteration finalize request")
	return IterationFinalizeRequest{Handle: h}, err
}

func handleRequest(id int32, h uint64) []byte {
	e := frame.Request(IterationHandleRequestBytes, reqHdr)
	e.U64(h)
	return frame.FinishRequest(e, id)
}

func decodeHandleRequest(msg []byte, id int32, what string) (uint64, error) {
	d, err := requestDecoder(msg, id, reqHdr, IterationHandleRequestBytes, what)
	if err != nil {
		return 0, err
	}
	h := d.U64()
	return h, done(d, what)
}

// EncodeHeaderRequest returns a request that is a bare header: LOCAL_GET (ReqLocalGet)
// and FINALIZE (ReqFinalize).
func EncodeHeaderRequest(id int32) []byte {
	return frame.FinishRequest(frame.Request(reqHdr, reqHdr), id)
}

// DecodeHeaderRequest checks a bare-header request (LOCAL_GET, FINALIZE) with the given id.
func DecodeHeaderRequest(msg []byte, id int32) error {
	_, err := requestDecoder(msg, id, reqHdr, reqHdr, "request")
	return err
}

// ZCAllocRequest is mar_req_coroipcc_zc_alloc_t: the client has created a file of MapSize
// bytes at Path for the daemon to map (zero-copy, removed after 3.1.7; no Client method).
type ZCAllocRequest struct {
	MapSize uint64
	Path    string
}

// Encode returns the request's bytes; the path must leave room for its NUL.
func (r ZCAllocRequest) Encode() ([]byte, error) {
	if len(r.Path) >= ZCPathMax || bytes.IndexByte([]byte(r.Path), 0) >= 0 {
		return nil, fmt.Errorf("cpg: zero-copy path %q: not a C string of under %d bytes", r.Path, ZCPathMax)
	}
	e := frame.Request(ZCAllocRequestBytes, reqHdr)
	e.U64(r.MapSize)
	e.Fixed([]byte(r.Path), ZCPathMax)
	return frame.FinishRequest(e, ReqZCAlloc), nil
}

// DecodeZCAllocRequest decodes a ZC_ALLOC request; the path is a C string that must end
// within its field.
func DecodeZCAllocRequest(msg []byte) (ZCAllocRequest, error) {
	const what = "zc alloc request"
	d, err := requestDecoder(msg, ReqZCAlloc, reqHdr, ZCAllocRequestBytes, what)
	if err != nil {
		return ZCAllocRequest{}, err
	}
	r := ZCAllocRequest{MapSize: d.U64()}
	p := d.Bytes(ZCPathMax)
	if err := done(d, what); err != nil {
		return ZCAllocRequest{}, err
	}
	i := bytes.IndexByte(p, 0)
	if i < 0 {
		return ZCAllocRequest{}, malformed(what, errors.New("path without NUL"))
	}
	r.Path = string(p[:i])
	return r, nil
}

// ZCFreeRequest is mar_req_coroipcc_zc_free_t.
type ZCFreeRequest struct {
	MapSize       uint64
	ServerAddress uint64
}

// Encode returns the request's bytes.
func (r ZCFreeRequest) Encode() []byte {
	e := frame.Request(ZCFreeRequestBytes, reqHdr)
	e.U64(r.MapSize)
	e.U64(r.ServerAddress)
	return frame.FinishRequest(e, ReqZCFree)
}

// DecodeZCFreeRequest decodes a ZC_FREE request.
func DecodeZCFreeRequest(msg []byte) (ZCFreeRequest, error) {
	const what = "zc free request"
	d, err := requestDecoder(msg, ReqZCFree, reqHdr, ZCFreeRequestBytes, what)
	if err != nil {
		return ZCFreeRequest{}, err
	}
	r := ZCFreeRequest{MapSize: d.U64(), ServerAddress: d.U64()}
	return r, done(d, what)
}

// ZCExecuteRequest is mar_req_coroipcc_zc_execute_t: multicast the MCAST request held in
// the mapped buffer; answered with an MCAST response.
type ZCExecuteRequest struct {
	ServerAddress uint64
}

// Encode returns the request's bytes.
func (r ZCExecuteRequest) Encode() []byte {
	e := frame.Request(ZCExecuteRequestBytes, reqHdr)
	e.U64(r.ServerAddress)
	return frame.FinishRequest(e, ReqZCExecute)
}

// DecodeZCExecuteRequest decodes a ZC_EXECUTE request.
func DecodeZCExecuteRequest(msg []byte) (ZCExecuteRequest, error) {
	const what = "zc execute request"
	d, err := requestDecoder(msg, ReqZCExecute, reqHdr, ZCExecuteRequestBytes, what)
	if err != nil {
		return ZCExecuteRequest{}, err
	}
	r := ZCExecuteRequest{ServerAddress: d.U64()}
	return r, done(d, what)
}
