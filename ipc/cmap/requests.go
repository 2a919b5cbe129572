package cmap

import (
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"

	"github.com/corosync-go/corosync/ipc/mar"
)

// Map selects the map a connection works on (cmap_map_t; the request's int32 map field).
type Map int32

// The maps of corosync 3.1.7.
const (
	// MapICMAP is the configuration and runtime map (CMAP_MAP_DEFAULT, CMAP_MAP_ICMAP).
	MapICMAP Map = 0
	// MapStats is the statistics map (CMAP_MAP_STATS): read-only apart from the
	// stats.clear.* keys.
	MapStats Map = 1
)

// TrackType is a set of tracking flags (CMAP_TRACK_*), also the event kind of a
// notification.
type TrackType int32

// Tracking flags and events.
const (
	// TrackDelete tracks, or reports, deletions.
	TrackDelete TrackType = 1
	// TrackModify tracks, or reports, changes of an existing key's value.
	TrackModify TrackType = 2
	// TrackAdd tracks, or reports, new keys.
	TrackAdd TrackType = 4
	// TrackPrefix makes a tracker follow every key starting with its name.
	TrackPrefix TrackType = 8
)

// String names the flags as corosync-cmapctl does (add, delete, modify), joined by "|".
func (t TrackType) String() string {
	s := ""
	for _, f := range []struct {
		bit  TrackType
		name string
	}{{TrackAdd, "add"}, {TrackDelete, "delete"}, {TrackModify, "modify"}, {TrackPrefix, "prefix"}} {
		if t&f.bit != 0 {
			if s != "" {
				s += "|"
			}
			s += f.name
			t &^= f.bit
		}
	}
	if t != 0 || s == "" {
		if s != "" {
			s += "|"
		}
		s += fmt.Sprintf("0x%x", int32(t))
	}
	return s
}

// SetRequest is req_lib_cmap_set: store Value under Key.
type SetRequest struct {
	Key   string
	Value Value
}

// Encode lays the request out as libcmap does: the fixed part, then value_len bytes.
func (r SetRequest) Encode() ([]byte, error) {
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	e := frame.Request(SetRequestBytes+len(r.Value.data), reqHdr)
	putName(e, r.Key)
	e.U64(uint64(len(r.Value.data)))
	e.U8(uint8(r.Value.typ))
	e.Zero(7)
	e.Bytes(r.Value.data)
	return frame.FinishRequest(e, ReqSet), nil
}

// DecodeSetRequest decodes a SET request; the value must be wholly in the message.
func DecodeSetRequest(msg []byte) (SetRequest, error) {
	const what = "set request"
	d, err := requestDecoder(msg, ReqSet, SetRequestBytes, what)
	if err != nil {
		return SetRequest{}, err
	}
	var r SetRequest
	r.Key = name(d)
	n := d.U64()
	t := Type(d.U8())
	d.Skip(7)
	if d.Err() == nil && n > uint64(d.Remaining()) {
		d.Fail(fmt.Errorf("%w: value_len %d, %d bytes follow", mar.ErrShort, n, d.Remaining()))
	}
	data := d.Bytes(int(min(n, uint64(len(msg)))))
	if err := done(d, what); err != nil {
		return SetRequest{}, err
	}
	r.Value = rawValue(t, data)
	return r, nil
}

// DeleteRequest is req_lib_cmap_delete.
type DeleteRequest struct {
	Key string
}

// Encode returns the request's bytes.
func (r DeleteRequest) Encode() ([]byte, error) { return keyRequest(ReqDelete, r.Key) }

// DecodeDeleteRequest decodes a DELETE request.
func DecodeDeleteRequest(msg []byte) (DeleteRequest, error) {
	k, err := decodeKeyRequest(msg, ReqDelete, "delete request")
	return DeleteRequest{Key: k}, err
}

// IterInitRequest is req_lib_cmap_iter_init. An empty Prefix iterates over every key.
type IterInitRequest struct {
	Prefix string
}

// Encode returns the request's bytes.
func (r IterInitRequest) Encode() ([]byte, error) { return keyRequest(ReqIterInit, r.Prefix) }

// DecodeIterInitRequest decodes an ITER_INIT request.
func DecodeIterInitRequest(msg []byte) (IterInitRequest, error) {
	k, err := decodeKeyRequest(msg, ReqIterInit, "iter init request")
	return IterInitRequest{Prefix: k}, err
}

func keyRequest(id int32, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	e := frame.Request(KeyRequestBytes, reqHdr)
	putName(e, key)
	return frame.FinishRequest(e, id), nil
}

func decodeKeyRequest(msg []byte, id int32, what string) (string, error) {
	d, err := requestDecoder(msg, id, KeyRequestBytes, what)
	if err != nil {
		return "", err
	}
	k := name(d)
	return k, done(d, what)
}

// GetRequest is req_lib_cmap_get. ValueLen is the room the client offers for the value:
// 0 asks only for the length and type; a room smaller than the value gets
// CS_ERR_INVALID_PARAM.
type GetRequest struct {
	Key      string
	ValueLen uint64
}

// Encode returns the request's bytes.
func (r GetRequest) Encode() ([]byte, error) {
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	e := frame.Request(GetRequestBytes, reqHdr)
	putName(e, r.Key)
	e.U64(r.ValueLen)
	return frame.FinishRequest(e, ReqGet), nil
}

// DecodeGetRequest decodes a GET request.
func DecodeGetRequest(msg []byte) (GetRequest, error) {
	const what = "get request"
	d, err := requestDecoder(msg, ReqGet, GetRequestBytes, what)
	if err != nil {
		return GetRequest{}, err
	}
	r := GetRequest{Key: name(d), ValueLen: d.U64()}
	return r, done(d, what)
}

// AdjustIntRequest is req_lib_cmap_adjust_int: add Step to an integer key (cmap_inc
// sends 1, cmap_dec -1).
type AdjustIntRequest struct {
	Key  string
	Step int32
}

// Encode returns the request's bytes.
func (r AdjustIntRequest) Encode() ([]byte, error) {
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	e := frame.Request(AdjustRequestBytes, reqHdr)
	putName(e, r.Key)
	e.I32(r.Step)
	e.Zero(4)
	return frame.FinishRequest(e, ReqAdjustInt), nil
}

// DecodeAdjustIntRequest decodes an ADJUST_INT request.
func DecodeAdjustIntRequest(msg []byte) (AdjustIntRequest, error) {
	const what = "adjust int request"
	d, err := requestDecoder(msg, ReqAdjustInt, AdjustRequestBytes, what)
	if err != nil {
		return AdjustIntRequest{}, err
	}
	r := AdjustIntRequest{Key: name(d), Step: d.I32()}
	return r, done(d, what)
}

// IterNextRequest is req_lib_cmap_iter_next.
type IterNextRequest struct {
	IterHandle uint64
}

// Encode returns the request's bytes.
func (r IterNextRequest) Encode() []byte { return handleRequest(ReqIterNext, r.IterHandle) }

// DecodeIterNextRequest decodes an ITER_NEXT request.
func DecodeIterNextRequest(msg []byte) (IterNextRequest, error) {
	h, err := decodeHandleRequest(msg, ReqIterNext, "iter next request")
	return IterNextRequest{IterHandle: h}, err
}

// IterFinalizeRequest is req_lib_cmap_iter_finalize.
type IterFinalizeRequest struct {
	IterHandle uint64
}

// Encode returns the request's bytes.
func (r IterFinalizeRequest) Encode() []byte { return handleRequest(ReqIterFinalize, r.IterHandle) }

// DecodeIterFinalizeRequest decodes an ITER_FINALIZE request.
func DecodeIterFinalizeRequest(msg []byte) (IterFinalizeRequest, error) {
	h, err := decodeHandleRequest(msg, ReqIterFinalize, "iter finalize request")
	return IterFinalizeRequest{IterHandle: h}, err
}

// TrackDeleteRequest is req_lib_cmap_track_delete; TrackHandle is the daemon's handle
// from the TRACK_ADD answer.
type TrackDeleteRequest struct {
	TrackHandle uint64
}

// Encode returns the request's bytes.
func (r TrackDeleteRequest) Encode() []byte { return handleRequest(ReqTrackDelete, r.TrackHandle) }

// DecodeTrackDeleteRequest decodes a TRACK_DELETE request.
func DecodeTrackDeleteRequest(msg []byte) (TrackDeleteRequest, error) {
	h, err := decodeHandleRequest(msg, ReqTrackDelete, "track delete request")
	return TrackDeleteRequest{TrackHandle: h}, err
}

func handleRequest(id int32, h uint64) []byte {
	e := frame.Request(HandleRequestBytes, reqHdr)
	e.U64(h)
	return frame.FinishRequest(e, id)
}

func decodeHandleRequest(msg []byte, id int32, what string) (uint64, error) {
	d, err := requestDecoder(msg, id, HandleRequestBytes, what)
	if err != nil {
		return 0, err
	}
	h := d.U64()
	return h, done(d, what)
}

// TrackAddRequest is req_lib_cmap_track_add. TrackInstHandle is the client's own cookie:
// the daemon echoes it in every notification of this tracker. An empty Key with
// TrackPrefix follows every key.
type TrackAddRequest struct {
	Key             string
	TrackType       TrackType
	TrackInstHandle uint64
}

// Encode returns the request's bytes.
func (r TrackAddRequest) Encode() ([]byte, error) {
	if err := checkKey(r.Key); err != nil {
		return nil, err
	}
	e := frame.Request(TrackAddRequestBytes, reqHdr)
	putName(e, r.Key)
	e.I32(int32(r.TrackType))
	e.Zero(4)
	e.U64(r.TrackInstHandle)
	return frame.FinishRequest(e, ReqTrackAdd), nil
}

// DecodeTrackAddRequest decodes a TRACK_ADD request.
func DecodeTrackAddRequest(msg []byte) (TrackAddRequest, error) {
	const what = "track add request"
	d, err := requestDecoder(msg, ReqTrackAdd, TrackAddRequestBytes, what)
	if err != nil {
		return TrackAddRequest{}, err
	}
	var r TrackAddRequest
	r.Key = name(d)
	r.TrackType = TrackType(d.I32())
	d.Skip(4)
	r.TrackInstHandle = d.U64()
	return r, done(d, what)
}

// SetCurrentMapRequest is req_lib_cmap_set_current_map, which cmap_initialize_map sends
// right after connecting.
type SetCurrentMapRequest struct {
	Map Map
}

// Encode returns the request's bytes.
func (r SetCurrentMapRequest) Encode() []byte {
	e := frame.Request(SetMapRequestBytes, reqHdr)
	e.I32(int32(r.Map))
	e.Zero(4)
	return frame.FinishRequest(e, ReqSetCurrentMap)
}

// DecodeSetCurrentMapRequest decodes a SET_CURRENT_MAP request.
func DecodeSetCurrentMapRequest(msg []byte) (SetCurrentMapRequest, error) {
	const what = "set current map request"
	d, err := requestDecoder(msg, ReqSetCurrentMap, SetMapRequestBytes, what)
	if err != nil {
		return SetCurrentMapRequest{}, err
	}
	r := SetCurrentMapRequest{Map: Map(d.I32())}
	return r, done(d, what)
}
