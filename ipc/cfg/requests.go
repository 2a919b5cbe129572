package cfg

import (
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"
	"strings"

	"github.com/corosync-go/corosync/ipc"
)

// EncodeHeaderRequest returns a request that is only a header: RINGSTATUSGET,
// RINGREENABLE, LOCAL_GET, RELOAD_CONFIG, REOPEN_LOG_FILES and TRACKSTOP (libcfg sends
// exactly the 16-byte header for each).
func EncodeHeaderRequest(id int32) []byte {
	return frame.FinishRequest(frame.Request(HeaderRequestBytes, reqHdr), id)
}

// DecodeHeaderRequest checks a request that is only a header.
func DecodeHeaderRequest(msg []byte, id int32) error {
	_, err := requestDecoder(msg, id, HeaderRequestBytes, "request")
	return err
}

// KillNodeRequest is req_lib_cfg_killnode: ask NodeID to leave, logging Reason there.
type KillNodeRequest struct {
	NodeID uint32
	Reason string
}

// Encode lays the request out as libcfg does: the reason as a cs_name_t whose length
// counts the NUL.
func (r KillNodeRequest) Encode() ([]byte, error) {
	if len(r.Reason) > ReasonMax {
		return nil, fmt.Errorf("%w: %d bytes, at most %d: %w", ErrReasonTooLong, len(r.Reason), ReasonMax, ipc.CSErrNameTooLong)
	}
	if strings.IndexByte(r.Reason, 0) >= 0 {
		return nil, fmt.Errorf("cfg: kill reason holds a NUL: %w", ipc.CSErrInvalid)
	}
	e := frame.Request(KillNodeRequestBytes, reqHdr)
	e.U32(r.NodeID)
	e.Zero(4)
	e.U16(uint16(len(r.Reason) + 1))
	putCString(e, r.Reason, csNameValue)
	e.Zero(KillNodeRequestBytes - len(e.B))
	return frame.FinishRequest(e, ReqKillNode), nil
}

// DecodeKillNodeRequest decodes a KILLNODE request. The daemon uses the reason as a C
// string, so it ends at its NUL, which must be in the field.
func DecodeKillNodeRequest(msg []byte) (KillNodeRequest, error) {
	const what = "kill node request"
	d, err := requestDecoder(msg, ReqKillNode, KillNodeRequestBytes, what)
	if err != nil {
		return KillNodeRequest{}, err
	}
	var r KillNodeRequest
	r.NodeID = d.U32()
	d.Skip(4)
	if n := d.U16(); n > csNameValue {
		d.Fail(fmt.Errorf("reason length %d exceeds %d", n, csNameValue))
	}
	r.Reason = cString(d, csNameValue)
	return r, done(d, what)
}

// TryShutdownRequest is req_lib_cfg_tryshutdown.
type TryShutdownRequest struct {
	Flags ShutdownFlags
}

// Encode returns the request's bytes.
func (r TryShutdownRequest) Encode() []byte { return wordRequest(ReqTryShutdown, uint32(r.Flags)) }

// DecodeTryShutdownRequest decodes a TRYSHUTDOWN request.
func DecodeTryShutdownRequest(msg []byte) (TryShutdownRequest, error) {
	v, err := decodeWordRequest(msg, ReqTryShutdown, "try shutdown request")
	return TryShutdownRequest{Flags: ShutdownFlags(v)}, err
}

// ReplyToShutdownRequest is req_lib_cfg_replytoshutdown: a tracking client's answer to a
// shutdown request (non-zero Response agrees).
type ReplyToShutdownRequest struct {
	Response uint32
}

// Encode returns the request's bytes.
func (r ReplyToShutdownRequest) Encode() []byte {
	return wordRequest(ReqReplyToShutdown, r.Response)
}

// DecodeReplyToShutdownRequest decodes a REPLYTOSHUTDOWN request.
func DecodeReplyToShutdownRequest(msg []byte) (ReplyToShutdownRequest, error) {
	v, err := decodeWordRequest(msg, ReqReplyToShutdown, "reply to shutdown request")
	return ReplyToShutdownRequest{Response: v}, err
}

// GetNodeAddrsRequest is req_lib_cfg_get_node_addrs (NodeID 0 means the local node).
type GetNodeAddrsRequest struct {
	NodeID uint32
}

// Encode returns the request's bytes.
func (r GetNodeAddrsRequest) Encode() []byte { return wordRequest(ReqGetNodeAddrs, r.NodeID) }

// DecodeGetNodeAddrsRequest decodes a GET_NODE_ADDRS request.
func DecodeGetNodeAddrsRequest(msg []byte) (GetNodeAddrsRequest, error) {
	v, err := decodeWordRequest(msg, ReqGetNodeAddrs, "get node addrs request")
	return GetNodeAddrsRequest{NodeID: v}, err
}

func wordRequest(id int32, v uint32) []byte {
	e := frame.Request(WordRequestBytes, reqHdr)
	e.U32(v)
	e.Zero(4)
	return frame.FinishRequest(e, id)
}

func decodeWordRequest(msg []byte, id int32, what string) (uint32, error) {
	d, err := requestDecoder(msg, id, WordRequestBytes, what)
	if err != nil {
		return 0, err
	}
	v := d.U32()
	return v, done(d, what)
}

// TrackStartRequest is req_lib_cfg_trackstart. The daemon ignores Flags: it only tracks
// shutdowns.
type TrackStartRequest struct {
	Flags uint8
}

// Encode returns the request's bytes.
func (r TrackStartRequest) Encode() []byte {
	e := frame.Request(WordRequestBytes, reqHdr)
	e.U8(r.Flags)
	e.Zero(7)
	return frame.FinishRequest(e, ReqTrackStart)
}

// DecodeTrackStartRequest decodes a TRACKSTART request.
func DecodeTrackStartRequest(msg []byte) (TrackStartRequest, error) {
	const what = "track start request"
	d, err := requestDecoder(msg, ReqTrackStart, WordRequestBytes, what)
	if err != nil {
		return TrackStartRequest{}, err
	}
	r := TrackStartRequest{Flags: d.U8()}
	return r, done(d, what)
}

// NodeStatusGetRequest is req_lib_cfg_nodestatusget.
type NodeStatusGetRequest struct {
	NodeID  uint32
	Version uint32
}

// Encode returns the request's bytes.
func (r NodeStatusGetRequest) Encode() []byte {
	e := frame.Request(NodeStatusRequestBytes, reqHdr)
	e.U32(r.NodeID)
	e.Zero(4)
	e.U32(r.Version)
	e.Zero(4)
	return frame.FinishRequest(e, ReqNodeStatusGet)
}

// DecodeNodeStatusGetRequest decodes a NODESTATUSGET request.
func DecodeNodeStatusGetRequest(msg []byte) (NodeStatusGetRequest, error) {
	const what = "node status request"
	d, err := requestDecoder(msg, ReqNodeStatusGet, NodeStatusRequestBytes, what)
	if err != nil {
		return NodeStatusGetRequest{}, err
	}
	var r NodeStatusGetRequest
	r.NodeID = d.U32()
	d.Skip(4)
	r.Version = d.U32()
	return r, done(d, what)
}
