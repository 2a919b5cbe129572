package cpg

import (
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"

	"github.com/corosync-go/corosync/ipc"
)

// EncodeStatusResponse returns a bare response header: the whole answer to JOIN (ResJoin),
// LEAVE (ResLeave), ITERATIONFINALIZE (ResIterationFinalize), FINALIZE (ResFinalize),
// PARTIAL_MCAST (ResPartialSend), ZC_EXECUTE (ResMcast), and with id 0 the daemon's answer to
// ZC_ALLOC and ZC_FREE and its generic refusals (CS_ERR_TRY_AGAIN when totem has no room,
// CS_ERR_INVALID_PARAM for an unknown request).
func EncodeStatusResponse(id int32, cs ipc.CS) []byte {
	return frame.FinishResponse(frame.Response(StatusResponseBytes), id, cs)
}

// DecodeStatusResponse decodes a bare response with the given id and returns its code.
func DecodeStatusResponse(msg []byte, id int32) (ipc.CS, error) {
	d, cs, err := responseDecoder(msg, id, StatusResponseBytes, "status response")
	if err != nil {
		return 0, err
	}
	if d.Remaining() != 0 {
		return 0, malformed("status response", fmt.Errorf("%d bytes after the header", d.Remaining()))
	}
	return cs, nil
}

// MembershipResponse is res_lib_cpg_membership_get. corosync 3.1.7 leaves the reason of
// each member (and every slot past the count) uninitialised; Reason is whatever the
// message holds.
type MembershipResponse struct {
	Error   ipc.CS
	Members []Address
}

// Encode returns the response's bytes: always MembershipResponseBytes, as the daemon sends
// it (libcpg receives into a buffer of exactly that size). More than MembershipMax members
// is an error.
func (r MembershipResponse) Encode() ([]byte, error) {
	if len(r.Members) > MembershipMax {
		return nil, fmt.Errorf("cpg: %d members do not fit a membership answer (at most %d)", len(r.Members), MembershipMax)
	}
	e := frame.Response(MembershipResponseBytes)
	e.U32(uint32(len(r.Members)))
	e.Zero(4)
	for _, a := range r.Members {
		putAddress(e, a)
	}
	e.Zero(MembershipResponseBytes - len(e.B))
	return frame.FinishResponse(e, ResMembership, r.Error), nil
}

// DecodeMembershipResponse decodes a MEMBERSHIP answer. It accepts a message shorter than
// the daemon's as long as it holds member_count addresses.
func DecodeMembershipResponse(msg []byte) (MembershipResponse, error) {
	const what = "membership response"
	d, cs, err := responseDecoder(msg, ResMembership, 32, what)
	if err != nil {
		return MembershipResponse{}, err
	}
	n := d.U32()
	d.Skip(4)
	if n > MembershipMax {
		return MembershipResponse{}, malformed(what, fmt.Errorf("member_count %d exceeds %d", n, MembershipMax))
	}
	r := MembershipResponse{Error: cs, Members: addresses(d, n)}
	return r, done(d, what)
}

// LocalGetResponse is res_lib_cpg_local_get.
type LocalGetResponse struct {
	Error  ipc.CS
	NodeID uint32
}

// Encode returns the response's bytes.
func (r LocalGetResponse) Encode() []byte {
	e := frame.Response(LocalGetResponseBytes)
	e.U32(r.NodeID)
	e.Zero(4)
	return frame.FinishResponse(e, ResLocalGet, r.Error)
}

// DecodeLocalGetResponse decodes a LOCAL_GET answer.
func DecodeLocalGetResponse(msg []byte) (LocalGetResponse, error) {
	const what = "local get response"
	d, cs, err := responseDecoder(msg, ResLocalGet, LocalGetResponseBytes, what)
	if err != nil {
		return LocalGetResponse{}, err
	}
	r := LocalGetResponse{Error: cs, NodeID: d.U32()}
	return r, done(d, what)
}

// IterationInitializeResponse is res_lib_cpg_iterationinitialize.
type IterationInitializeResponse struct {
	Error  ipc.CS
	Handle uint64
}

// Encode returns the response's bytes.
func (r IterationInitializeResponse) Encode() []byte {
	e := frame.Response(IterationInitializeResponseBytes)
	e.U64(r.Handle)
	return frame.FinishResponse(e, ResIterationInitialize, r.Error)
}

// DecodeIterationInitializeResponse decodes an ITERATIONINITIALIZE answer.
func DecodeIterationInitializeResponse(msg []byte) (IterationInitializeResponse, error) {
	const what = "iteration initialize response"
	d, cs, err := responseDecoder(msg, ResIterationInitialize, IterationInitializeResponseBytes, what)
	if err != nil {
		return IterationInitializeResponse{}, err
	}
	r := IterationInitializeResponse{Error: cs, Handle: d.U64()}
	return r, done(d, what)
}

// IterationEntry is one step of an iteration (mar_cpg_iteration_description_t): a member
// of a group, or with IterationNameOnly a group with NodeID and PID 0.
type IterationEntry struct {
	Group  string
	NodeID uint32
	PID    uint32
}

// IterationNextResponse is res_lib_cpg_iterationnext. The end of an iteration is
// Error == CS_ERR_NO_SECTIONS; the daemon then leaves the entry uninitialised, so it is
// decoded only when Error is CS_OK.
type IterationNextResponse struct {
	Error ipc.CS
	Entry IterationEntry
}

// Encode returns the response's bytes (the entry is zeroed unless Error is CS_OK).
func (r IterationNextResponse) Encode() ([]byte, error) {
	ent := r.Entry
	if r.Error != ipc.CSOk {
		ent = IterationEntry{}
	}
	if err := checkName(ent.Group); err != nil {
		return nil, err
	}
	e := frame.Response(IterationNextResponseBytes)
	putName(e, ent.Group)
	e.U32(ent.NodeID)
	e.U32(ent.PID)
	return frame.FinishResponse(e, ResIterationNext, r.Error), nil
}

// DecodeIterationNextResponse decodes an ITERATIONNEXT answer.
func DecodeIterationNextResponse(msg []byte) (IterationNextResponse, error) {
	const what = "iteration next response"
	d, cs, err := responseDecoder(msg, ResIterationNext, IterationNextResponseBytes, what)
	if err != nil {
		return IterationNextResponse{}, err
	}
	r := IterationNextResponse{Error: cs}
	if cs != ipc.CSOk {
		return r, nil
	}
	r.Entry.Group = name(d)
	r.Entry.NodeID = d.U32()
	r.Entry.PID = d.U32()
	return r, done(d, what)
}
