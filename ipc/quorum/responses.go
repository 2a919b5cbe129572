package quorum

import (
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/frame"
)

// EncodeStatusResponse returns a bare response header: the whole answer to TRACKSTART
// (ResTrackStart) and TRACKSTOP (ResTrackStop).
func EncodeStatusResponse(id int32, cs ipc.CS) []byte {
	return frame.FinishResponse(frame.Response(StatusResponseBytes), id, cs)
}

// DecodeStatusResponse decodes a bare response with the given id and returns its code.
func DecodeStatusResponse(msg []byte, id int32) (ipc.CS, error) {
	_, cs, err := responseDecoder(msg, id, StatusResponseBytes, "status response")
	return cs, err
}

// GetQuorateResponse is res_lib_quorum_getquorate.
type GetQuorateResponse struct {
	Error   ipc.CS
	Quorate bool
}

// Encode returns the response's bytes: quorate (0 or 1) at 24, then padding.
func (r GetQuorateResponse) Encode() []byte {
	return wordResponse(ResGetQuorate, r.Error, boolWord(r.Quorate))
}

// DecodeGetQuorateResponse decodes a GETQUORATE answer; any non-zero value is quorate.
func DecodeGetQuorateResponse(msg []byte) (GetQuorateResponse, error) {
	v, cs, err := decodeWordResponse(msg, ResGetQuorate, "getquorate response")
	return GetQuorateResponse{Error: cs, Quorate: v != 0}, err
}

// GetTypeResponse is res_lib_quorum_gettype, the answer to GETTYPE.
type GetTypeResponse struct {
	Error ipc.CS
	Type  Type
}

// Encode returns the response's bytes.
func (r GetTypeResponse) Encode() []byte {
	return wordResponse(ResGetType, r.Error, uint32(r.Type))
}

// DecodeGetTypeResponse decodes a GETTYPE answer.
func DecodeGetTypeResponse(msg []byte) (GetTypeResponse, error) {
	v, cs, err := decodeWordResponse(msg, ResGetType, "gettype response")
	return GetTypeResponse{Error: cs, Type: Type(v)}, err
}

// ModelGetTypeResponse is res_lib_quorum_model_gettype. 3.1.7 fills Type even when it
// refuses the model (Error CS_ERR_INVALID_PARAM).
type ModelGetTypeResponse struct {
	Error ipc.CS
	Type  Type
}

// Encode returns the response's bytes.
func (r ModelGetTypeResponse) Encode() []byte {
	return wordResponse(ResModelGetType, r.Error, uint32(r.Type))
}

// DecodeModelGetTypeResponse decodes a MODEL_GETTYPE answer.
func DecodeModelGetTypeResponse(msg []byte) (ModelGetTypeResponse, error) {
	v, cs, err := decodeWordResponse(msg, ResModelGetType, "model gettype response")
	return ModelGetTypeResponse{Error: cs, Type: Type(v)}, err
}

func wordResponse(id int32, cs ipc.CS, v uint32) []byte {
	e := frame.Response(WordResponseBytes)
	e.U32(v)
	e.Zero(4)
	return frame.FinishResponse(e, id, cs)
}

func decodeWordResponse(msg []byte, id int32, what string) (uint32, ipc.CS, error) {
	d, cs, err := responseDecoder(msg, id, WordResponseBytes, what)
	if err != nil {
		return 0, 0, err
	}
	v := d.U32()
	return v, cs, done(d, what)
}
