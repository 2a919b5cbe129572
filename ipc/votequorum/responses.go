package votequorum

import (
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/frame"
)

// EncodeStatusResponse returns res_lib_votequorum_status, a bare header with id
// ResStatus: the answer to every request but GETINFO.
func EncodeStatusResponse(cs ipc.CS) []byte {
	return frame.FinishResponse(frame.Response(StatusResponseBytes), ResStatus, cs)
}

// DecodeStatusResponse decodes a status answer and returns its code.
func DecodeStatusResponse(msg []byte) (ipc.CS, error) {
	_, cs, err := responseDecoder(msg, ResStatus, StatusResponseBytes, "status response")
	return cs, err
}

// Info is what GETINFO reports about a node (struct votequorum_info): the node's own
// votes and expected votes, and the cluster's highest expected votes, total votes,
// quorum, flags and quorum device.
type Info struct {
	NodeID          uint32
	State           NodeState
	Votes           uint32
	ExpectedVotes   uint32
	HighestExpected uint32
	TotalVotes      uint32
	Quorum          uint32
	Flags           InfoFlags
	QdeviceVotes    uint32
	QdeviceName     string
}

// GetInfoResponse is res_lib_votequorum_getinfo. An answer with an error carries no
// usable fields (3.1.7 sends them uninitialised), so none are decoded.
type GetInfoResponse struct {
	Error ipc.CS
	Info  Info
}

// Encode returns the response's bytes: nine 32-bit fields from 24, the device name
// NUL-padded in 255 bytes at 60, then 5 bytes of padding. A device name that does not
// fit gives an error wrapping ipc.CSErrInvalid.
func (r GetInfoResponse) Encode() ([]byte, error) {
	if err := checkName("device name", r.Info.QdeviceName); err != nil {
		return nil, err
	}
	i := r.Info
	e := frame.Response(GetInfoResponseBytes)
	for _, v := range []uint32{i.NodeID, uint32(i.State), i.Votes, i.ExpectedVotes, i.HighestExpected, i.TotalVotes, i.Quorum, uint32(i.Flags), i.QdeviceVotes} {
		e.U32(v)
	}
	putName(e, i.QdeviceName)
	e.Zero(GetInfoResponseBytes - len(e.B))
	return frame.FinishResponse(e, ResGetInfo, r.Error), nil
}

// DecodeGetInfoResponse decodes a GETINFO answer.
func DecodeGetInfoResponse(msg []byte) (GetInfoResponse, error) {
	const what = "getinfo response"
	d, cs, err := responseDecoder(msg, ResGetInfo, GetInfoResponseBytes, what)
	if err != nil {
		return GetInfoResponse{}, err
	}
	r := GetInfoResponse{Error: cs}
	if cs != ipc.CSOk {
		return r, nil
	}
	i := &r.Info
	i.NodeID = d.U32()
	i.State = NodeState(d.U32())
	i.Votes = d.U32()
	i.ExpectedVotes = d.U32()
	i.HighestExpected = d.U32()
	i.TotalVotes = d.U32()
	i.Quorum = d.U32()
	i.Flags = InfoFlags(d.U32())
	i.QdeviceVotes = d.U32()
	i.QdeviceName = readName(d)
	if err := done(d, what); err != nil {
		return GetInfoResponse{}, err
	}
	return r, nil
}
