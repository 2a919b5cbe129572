package cfg

import (
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"

	"github.com/corosync-go/corosync/ipc"
)

// EncodeStatusResponse returns a bare response header: the whole answer to
// RINGREENABLE, KILLNODE, TRYSHUTDOWN, REPLYTOSHUTDOWN, TRACKSTART (ResStateTrackStart),
// TRACKSTOP (ResStateTrackStop), RELOAD_CONFIG and REOPEN_LOG_FILES.
func EncodeStatusResponse(id int32, cs ipc.CS) []byte {
	return frame.FinishResponse(frame.Response(StatusResponseBytes), id, cs)
}

// DecodeStatusResponse decodes a bare response with the given id and returns its code.
func DecodeStatusResponse(msg []byte, id int32) (ipc.CS, error) {
	_, cs, err := responseDecoder(msg, id, StatusResponseBytes, "status response")
	return cs, err
}

// Interface is one entry of a ring status answer: Name is "<link> <address>" and Status
// the daemon's text about the link's nodes.
type Interface struct {
	Name   string
	Status string
}

// RingStatusResponse is res_lib_cfg_ringstatusget. An answer with an error carries no
// usable entries (3.1.7 leaves them half-filled), so none are decoded.
type RingStatusResponse struct {
	Error      ipc.CS
	Interfaces []Interface
}

// Encode returns the response's bytes: 16 name fields then 16 status fields, the unused
// ones zero.
func (r RingStatusResponse) Encode() ([]byte, error) {
	if len(r.Interfaces) > MaxInterfaces {
		return nil, fmt.Errorf("cfg: %d interfaces, at most %d", len(r.Interfaces), MaxInterfaces)
	}
	for _, i := range r.Interfaces {
		if err := checkCString("interface name", i.Name, InterfaceNameBytes); err != nil {
			return nil, err
		}
		if err := checkCString("interface status", i.Status, InterfaceStatusBytes); err != nil {
			return nil, err
		}
	}
	e := frame.Response(RingStatusResponseBytes)
	e.U32(uint32(len(r.Interfaces)))
	e.Zero(4)
	for n := range MaxInterfaces {
		var s string
		if n < len(r.Interfaces) {
			s = r.Interfaces[n].Name
		}
		putCString(e, s, InterfaceNameBytes)
	}
	for n := range MaxInterfaces {
		var s string
		if n < len(r.Interfaces) {
			s = r.Interfaces[n].Status
		}
		putCString(e, s, InterfaceStatusBytes)
	}
	return frame.FinishResponse(e, ResRingStatusGet, r.Error), nil
}

// DecodeRingStatusResponse decodes a RINGSTATUSGET answer.
func DecodeRingStatusResponse(msg []byte) (RingStatusResponse, error) {
	const what = "ring status response"
	d, cs, err := responseDecoder(msg, ResRingStatusGet, RingStatusResponseBytes, what)
	if err != nil {
		return RingStatusResponse{}, err
	}
	r := RingStatusResponse{Error: cs}
	if cs != ipc.CSOk {
		return r, nil
	}
	n := d.U32()
	d.Skip(4)
	if n > MaxInterfaces {
		return RingStatusResponse{}, malformed(what, fmt.Errorf("interface count %d exceeds %d", n, MaxInterfaces))
	}
	if n > 0 {
		r.Interfaces = make([]Interface, n)
	}
	start := d.Offset()
	for i := range r.Interfaces {
		r.Interfaces[i].Name = cString(d, InterfaceNameBytes)
	}
	d.Skip(start + MaxInterfaces*InterfaceNameBytes - d.Offset())
	for i := range r.Interfaces {
		r.Interfaces[i].Status = cString(d, InterfaceStatusBytes)
	}
	return r, done(d, what)
}

// NodeAddrsResponse is res_lib_cfg_get_node_addrs: the node's addresses as 16-byte
// totem addresses of one Family (AF_INET's 4 bytes first), in a message of Slots slots
// (3.1.7 sizes it by the node's interfaces, and fills only the live ones). An answer with
// an error carries nothing usable (3.1.7 leaves family and count uninitialised).
type NodeAddrsResponse struct {
	Error  ipc.CS
	Family uint32
	Addrs  [][AddrBytes]byte
	Slots  int
}

// Encode returns the response's bytes.
func (r NodeAddrsResponse) Encode() []byte {
	slots := max(r.Slots, len(r.Addrs))
	e := frame.Response(NodeAddrsResponseBytes + slots*AddrBytes)
	e.U32(r.Family)
	e.U32(uint32(len(r.Addrs)))
	for _, a := range r.Addrs {
		e.Bytes(a[:])
	}
	e.Zero((slots - len(r.Addrs)) * AddrBytes)
	return frame.FinishResponse(e, ResGetNodeAddrs, r.Error)
}

// DecodeNodeAddrsResponse decodes a GET_NODE_ADDRS answer; the count must not claim more
// slots than the message holds.
func DecodeNodeAddrsResponse(msg []byte) (NodeAddrsResponse, error) {
	const what = "node addrs response"
	d, cs, err := responseDecoder(msg, ResGetNodeAddrs, NodeAddrsResponseBytes, what)
	if err != nil {
		return NodeAddrsResponse{}, err
	}
	rest := len(msg) - NodeAddrsResponseBytes
	if rest%AddrBytes != 0 {
		return NodeAddrsResponse{}, malformed(what, fmt.Errorf("%d bytes of addresses is not a whole number of %d-byte slots", rest, AddrBytes))
	}
	r := NodeAddrsResponse{Error: cs, Slots: rest / AddrBytes}
	if cs != ipc.CSOk {
		return r, nil
	}
	r.Family = d.U32()
	n := d.U32()
	if uint64(n) > uint64(r.Slots) {
		return NodeAddrsResponse{}, malformed(what, fmt.Errorf("%d addresses in %d slots", n, r.Slots))
	}
	if n > 0 {
		r.Addrs = make([][AddrBytes]byte, n)
	}
	for i := range r.Addrs {
		copy(r.Addrs[i][:], d.Bytes(AddrBytes))
	}
	return r, done(d, what)
}

// LocalGetResponse is res_lib_cfg_local_get.
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

// TestShutdown is res_lib_cfg_testshutdown, the event the daemon sends tracking clients:
// Error is CS_OK for a shutdown request they should answer, CS_ERR_TIMEOUT when the
// request timed out; Flags are the request's.
type TestShutdown struct {
	Error ipc.CS
	Flags ShutdownFlags
}

// Encode returns the event's bytes.
func (t TestShutdown) Encode() []byte {
	e := frame.Response(TestShutdownBytes)
	e.U32(uint32(t.Flags))
	e.Zero(4)
	return frame.FinishResponse(e, ResTestShutdown, t.Error)
}

// DecodeTestShutdown decodes a TESTSHUTDOWN event.
func DecodeTestShutdown(msg []byte) (TestShutdown, error) {
	const what = "test shutdown event"
	d, cs, err := responseDecoder(msg, ResTestShutdown, TestShutdownBytes, what)
	if err != nil {
		return TestShutdown{}, err
	}
	t := TestShutdown{Error: cs, Flags: ShutdownFlags(d.U32())}
	return t, done(d, what)
}
