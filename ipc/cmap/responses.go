package cmap

import (
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/mar"
)

// EncodeStatusResponse returns a bare response header: the whole answer to SET, DELETE,
// ADJUST_INT, ITER_FINALIZE (id ResSet ... ResIterFinalize) and SET_CURRENT_MAP
// (ResSetCurrentMap).
func EncodeStatusResponse(id int32, cs ipc.CS) []byte {
	return frame.FinishResponse(frame.Response(StatusResponseBytes), id, cs)
}

// DecodeStatusResponse decodes a bare response with the given id and returns its code.
func DecodeStatusResponse(msg []byte, id int32) (ipc.CS, error) {
	_, cs, err := responseDecoder(msg, id, StatusResponseBytes, "status response")
	return cs, err
}

// GetResponse is res_lib_cmap_get. The daemon answers with a value area of the size the
// request offered (Room); Data holds the value's ValueLen bytes when it fits there, and is
// nil when the request offered no room (a length query) or the answer is an error.
type GetResponse struct {
	Error    ipc.CS
	Type     Type
	ValueLen uint64
	Data     []byte
	Room     int
}

// Value returns the value the response carries.
func (r GetResponse) Value() Value { return rawValue(r.Type, r.Data) }

// Encode returns the response's bytes: the fixed part, then max(Room, len(Data)) bytes.
func (r GetResponse) Encode() []byte {
	room := max(r.Room, len(r.Data))
	e := frame.Response(GetResponseBytes + room)
	e.U64(r.ValueLen)
	e.U8(uint8(r.Type))
	e.Zero(7)
	e.Fixed(r.Data, room)
	return frame.FinishResponse(e, ResGet, r.Error)
}

// DecodeGetResponse decodes a GET answer. A value longer than a non-empty room is
// malformed (the daemon refuses with CS_ERR_INVALID_PARAM instead).
func DecodeGetResponse(msg []byte) (GetResponse, error) {
	const what = "get response"
	d, cs, err := responseDecoder(msg, ResGet, GetResponseBytes, what)
	if err != nil {
		return GetResponse{}, err
	}
	r := GetResponse{Error: cs, ValueLen: d.U64(), Type: Type(d.U8())}
	d.Skip(7)
	r.Room = d.Remaining()
	if r.Room > 0 {
		if r.ValueLen > uint64(r.Room) {
			return GetResponse{}, malformed(what, fmt.Errorf("value_len %d exceeds the %d-byte room", r.ValueLen, r.Room))
		}
		if r.ValueLen > 0 {
			r.Data = append([]byte(nil), d.Bytes(int(r.ValueLen))...)
		}
	}
	return r, done(d, what)
}

// IterInitResponse is res_lib_cmap_iter_init.
type IterInitResponse struct {
	Error      ipc.CS
	IterHandle uint64
}

// Encode returns the response's bytes.
func (r IterInitResponse) Encode() []byte { return handleResponse(ResIterInit, r.Error, r.IterHandle) }

// DecodeIterInitResponse decodes an ITER_INIT answer.
func DecodeIterInitResponse(msg []byte) (IterInitResponse, error) {
	cs, h, err := decodeHandleResponse(msg, ResIterInit, "iter init response")
	return IterInitResponse{Error: cs, IterHandle: h}, err
}

// TrackAddResponse is res_lib_cmap_track_add: TrackHandle is the daemon's handle for the
// new tracker (what TRACK_DELETE names).
type TrackAddResponse struct {
	Error       ipc.CS
	TrackHandle uint64
}

// Encode returns the response's bytes.
func (r TrackAddResponse) Encode() []byte {
	return handleResponse(ResTrackAdd, r.Error, r.TrackHandle)
}

// DecodeTrackAddResponse decodes a TRACK_ADD answer.
func DecodeTrackAddResponse(msg []byte) (TrackAddResponse, error) {
	cs, h, err := decodeHandleResponse(msg, ResTrackAdd, "track add response")
	return TrackAddResponse{Error: cs, TrackHandle: h}, err
}

// TrackDeleteResponse is res_lib_cmap_track_delete: it returns the client's cookie of the
// deleted tracker.
type TrackDeleteResponse struct {
	Error           ipc.CS
	TrackInstHandle uint64
}

// Encode returns the response's bytes.
func (r TrackDeleteResponse) Encode() []byte {
	return handleResponse(ResTrackDelete, r.Error, r.TrackInstHandle)
}

// DecodeTrackDeleteResponse decodes a TRACK_DELETE answer.
func DecodeTrackDeleteResponse(msg []byte) (TrackDeleteResponse, error) {
	cs, h, err := decodeHandleResponse(msg, ResTrackDelete, "track delete response")
	return TrackDeleteResponse{Error: cs, TrackInstHandle: h}, err
}

func handleResponse(id int32, cs ipc.CS, h uint64) []byte {
	e := frame.Response(HandleResponseBytes)
	e.U64(h)
	return frame.FinishResponse(e, id, cs)
}

func decodeHandleResponse(msg []byte, id int32, what string) (ipc.CS, uint64, error) {
	d, cs, err := responseDecoder(msg, id, HandleResponseBytes, what)
	if err != nil {
		return 0, 0, err
	}
	h := d.U64()
	return cs, h, done(d, what)
}

// IterNextResponse is res_lib_cmap_iter_next: the next key with its value's length and
// type. The end of the iteration is the code CS_ERR_NO_SECTIONS.
type IterNextResponse struct {
	Error    ipc.CS
	Key      string
	ValueLen uint64
	Type     Type
}

// Encode returns the response's bytes.
func (r IterNextResponse) Encode() ([]byte, error) {
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	e := frame.Response(IterNextResponseBytes)
	putName(e, r.Key)
	e.U64(r.ValueLen)
	e.U8(uint8(r.Type))
	e.Zero(7)
	return frame.FinishResponse(e, ResIterNext, r.Error), nil
}

// DecodeIterNextResponse decodes an ITER_NEXT answer.
func DecodeIterNextResponse(msg []byte) (IterNextResponse, error) {
	const what = "iter next response"
	d, cs, err := responseDecoder(msg, ResIterNext, IterNextResponseBytes, what)
	if err != nil {
		return IterNextResponse{}, err
	}
	r := IterNextResponse{Error: cs, Key: name(d), ValueLen: d.U64(), Type: Type(d.U8())}
	return r, done(d, what)
}

// NotifyCallback is res_lib_cmap_notify_callback, the event a tracker's change produces.
// TrackInstHandle is the cookie the client gave in TRACK_ADD. New is the zero Value after a
// deletion, Old the zero Value after an addition.
type NotifyCallback struct {
	TrackInstHandle uint64
	Event           TrackType
	Key             string
	New, Old        Value
}

// Encode returns the event's bytes: the fixed part, then the new and the old value.
func (n NotifyCallback) Encode() ([]byte, error) {
	if err := checkKey(n.Key); err != nil {
		return nil, err
	}
	e := frame.Response(NotifyCallbackBytes + len(n.New.data) + len(n.Old.data))
	e.U64(n.TrackInstHandle)
	putName(e, n.Key)
	e.I32(int32(n.Event))
	e.Zero(4)
	e.U8(uint8(n.New.typ))
	e.Zero(7)
	e.U8(uint8(n.Old.typ))
	e.Zero(7)
	e.U64(uint64(len(n.New.data)))
	e.U64(uint64(len(n.Old.data)))
	e.Bytes(n.New.data)
	e.Bytes(n.Old.data)
	return frame.FinishResponse(e, ResNotifyCallback, ipc.CSOk), nil
}

// DecodeNotifyCallback decodes a NOTIFY_CALLBACK event; both values must be wholly in it.
func DecodeNotifyCallback(msg []byte) (NotifyCallback, error) {
	const what = "notify callback"
	d, _, err := responseDecoder(msg, ResNotifyCallback, NotifyCallbackBytes, what)
	if err != nil {
		return NotifyCallback{}, err
	}
	var n NotifyCallback
	n.TrackInstHandle = d.U64()
	n.Key = name(d)
	n.Event = TrackType(d.I32())
	d.Skip(4)
	newType := Type(d.U8())
	d.Skip(7)
	oldType := Type(d.U8())
	d.Skip(7)
	newLen, oldLen := d.U64(), d.U64()
	if rest := uint64(d.Remaining()); d.Err() == nil && (newLen > rest || oldLen > rest-newLen) {
		d.Fail(fmt.Errorf("%w: values of %d and %d bytes, %d bytes follow", mar.ErrShort, newLen, oldLen, rest))
	}
	newData := d.Bytes(int(min(newLen, uint64(len(msg)))))
	oldData := d.Bytes(int(min(oldLen, uint64(len(msg)))))
	if err := done(d, what); err != nil {
		return NotifyCallback{}, err
	}
	n.New, n.Old = rawValue(newType, newData), rawValue(oldType, oldData)
	return n, nil
}
