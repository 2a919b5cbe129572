package cfg

import (
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/mar"
)

// LinkStatus is corosync_knet_link_status_v1: one knet link to a node, as the local node
// sees it.
type LinkStatus struct {
	Enabled      bool   // configured and administratively enabled
	Connected    bool   // connected for data
	DynConnected bool   // activated by the remote end's dynamic address
	MTU          uint32 // current path MTU
	SrcAddr      string // local address ("" for an unconfigured link)
	DstAddr      string // remote address
}

// NodeStatus is corosync_cfg_node_status_v1: knet's view of a node, with one entry per
// possible link (MaxLinks).
type NodeStatus struct {
	NodeID    uint32
	Reachable bool
	Remote    bool
	External  bool
	OnwireMin uint8
	OnwireMax uint8
	OnwireVer uint8
	Links     [MaxLinks]LinkStatus
}

// Layout of corosync_cfg_node_status_v1 (gcc, amd64): version u32, nodeid u32, six u8
// fields, 2 bytes of padding, then MaxLinks link entries of 520 bytes each (three u8, one
// pad byte, mtu u32, two 256-byte addresses).
const (
	nodeStatusBytes = 4176
	linkStatusBytes = 520
)

func putNodeStatus(e *mar.Encoder, s NodeStatus) {
	e.U32(s.NodeID)
	for _, b := range []bool{s.Reachable, s.Remote, s.External} {
		e.U8(boolByte(b))
	}
	e.U8(s.OnwireMin)
	e.U8(s.OnwireMax)
	e.U8(s.OnwireVer)
	e.Zero(2)
	for _, l := range s.Links {
		e.U8(boolByte(l.Enabled))
		e.U8(boolByte(l.Connected))
		e.U8(boolByte(l.DynConnected))
		e.Zero(1)
		e.U32(l.MTU)
		putCString(e, l.SrcAddr, HostBytes)
		putCString(e, l.DstAddr, HostBytes)
	}
}

func nodeStatus(d *mar.Decoder) NodeStatus {
	var s NodeStatus
	s.NodeID = d.U32()
	s.Reachable = d.U8() != 0
	s.Remote = d.U8() != 0
	s.External = d.U8() != 0
	s.OnwireMin = d.U8()
	s.OnwireMax = d.U8()
	s.OnwireVer = d.U8()
	d.Skip(2)
	for i := range s.Links {
		l := &s.Links[i]
		l.Enabled = d.U8() != 0
		l.Connected = d.U8() != 0
		l.DynConnected = d.U8() != 0
		d.Skip(1)
		l.MTU = d.U32()
		l.SrcAddr = cString(d, HostBytes)
		l.DstAddr = cString(d, HostBytes)
	}
	return s
}

// NodeStatusResponse is the answer to NODESTATUSGET: res_lib_cfg_nodestatusget_v1 when
// Status is set, else the short res_lib_cfg_nodestatusget_version the daemon sends with
// an error (unknown node: CS_ERR_FAILED_OPERATION; unknown version: CS_ERR_NOT_SUPPORTED;
// 3.1.7 leaves its Version uninitialised).
type NodeStatusResponse struct {
	Error   ipc.CS
	Version uint32
	Status  *NodeStatus
}

// Encode returns the response's bytes.
func (r NodeStatusResponse) Encode() ([]byte, error) {
	if r.Status == nil {
		e := frame.Response(NodeStatusShortBytes)
		e.U32(r.Version)
		e.Zero(4)
		return frame.FinishResponse(e, ResNodeStatusGet, r.Error), nil
	}
	for _, l := range r.Status.Links {
		if err := checkCString("link source address", l.SrcAddr, HostBytes); err != nil {
			return nil, err
		}
		if err := checkCString("link destination address", l.DstAddr, HostBytes); err != nil {
			return nil, err
		}
	}
	e := frame.Response(NodeStatusResponseBytes)
	e.U32(r.Version)
	putNodeStatus(e, *r.Status)
	return frame.FinishResponse(e, ResNodeStatusGet, r.Error), nil
}

// DecodeNodeStatusResponse decodes a NODESTATUSGET answer of either size.
func DecodeNodeStatusResponse(msg []byte) (NodeStatusResponse, error) {
	const what = "node status response"
	d, cs, err := responseDecoder(msg, ResNodeStatusGet, NodeStatusShortBytes, what)
	if err != nil {
		return NodeStatusResponse{}, err
	}
	r := NodeStatusResponse{Error: cs, Version: d.U32()}
	switch {
	case len(msg) == NodeStatusShortBytes:
	case len(msg) >= NodeStatusResponseBytes:
		s := nodeStatus(d)
		r.Status = &s
	default:
		return NodeStatusResponse{}, malformed(what, fmt.Errorf("%d bytes: neither %d nor %d", len(msg), NodeStatusShortBytes, NodeStatusResponseBytes))
	}
	return r, done(d, what)
}
