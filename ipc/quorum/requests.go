package quorum

import "github.com/corosync-go/corosync/ipc/frame"

// EncodeHeaderRequest returns a request that is only a header: GETQUORATE, TRACKSTOP and
// GETTYPE (libquorum sends exactly the 16-byte qb_ipc_request_header for each).
func EncodeHeaderRequest(id int32) []byte {
	return frame.FinishRequest(frame.Request(HeaderRequestBytes, reqHdr), id)
}

// DecodeHeaderRequest checks a request that is only a header.
func DecodeHeaderRequest(msg []byte, id int32) error {
	_, err := requestDecoder(msg, id, HeaderRequestBytes, "request")
	return err
}

// TrackStartRequest is req_lib_quorum_trackstart.
type TrackStartRequest struct {
	Flags TrackFlags
}

// Encode returns the request's bytes: the flags at 16, then 4 bytes of padding.
func (r TrackStartRequest) Encode() []byte {
	e := frame.Request(TrackStartRequestBytes, reqHdr)
	e.U32(uint32(r.Flags))
	e.Zero(4)
	return frame.FinishRequest(e, ReqTrackStart)
}

// DecodeTrackStartRequest decodes a TRACKSTART request.
func DecodeTrackStartRequest(msg []byte) (TrackStartRequest, error) {
	const what = "track start request"
	d, err := requestDecoder(msg, ReqTrackStart, TrackStartRequestBytes, what)
	if err != nil {
		return TrackStartRequest{}, err
	}
	r := TrackStartRequest{Flags: TrackFlags(d.U32())}
	return r, done(d, what)
}

// ModelGetTypeRequest is req_lib_quorum_model_gettype, the first request of a
// quorum_model_initialize connection: it sets the connection's notification model and
// asks for the quorum type.
type ModelGetTypeRequest struct {
	Model Model
}

// Encode returns the request's bytes: the model at 16 (8-byte aligned), then padding.
func (r ModelGetTypeRequest) Encode() []byte {
	e := frame.Request(ModelGetTypeRequestBytes, reqHdr)
	e.U32(uint32(r.Model))
	e.Zero(4)
	return frame.FinishRequest(e, ReqModelGetType)
}

// DecodeModelGetTypeRequest decodes a MODEL_GETTYPE request. Any model value is
// accepted: refusing unknown ones (with CS_ERR_INVALID_PARAM) is the daemon's business.
func DecodeModelGetTypeRequest(msg []byte) (ModelGetTypeRequest, error) {
	const what = "model gettype request"
	d, err := requestDecoder(msg, ReqModelGetType, ModelGetTypeRequestBytes, what)
	if err != nil {
		return ModelGetTypeRequest{}, err
	}
	r := ModelGetTypeRequest{Model: Model(d.U32())}
	return r, done(d, what)
}
