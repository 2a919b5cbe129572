package cmapsvc

import (
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
)

// set is message_handler_req_lib_cmap_set: read-only keys first, then the map's checks.
func (s *Service) set(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeSetRequest(msg)
	if err != nil {
		return cmap.EncodeStatusResponse(cmap.ResSet, ipc.CSErrInvalid)
	}
	b := s.backendOf(st)
	cs := ipc.CSErrAccess
	if !b.readOnly(r.Key) {
		cs = csError(b.set(r.Key, r.Value))
	}
	return cmap.EncodeStatusResponse(cmap.ResSet, cs)
}

// delete is message_handler_req_lib_cmap_delete.
func (s *Service) delete(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeDeleteRequest(msg)
	if err != nil {
		return cmap.EncodeStatusResponse(cmap.ResDelete, ipc.CSErrInvalid)
	}
	b := s.backendOf(st)
	cs := ipc.CSErrAccess
	if !b.readOnly(r.Key) {
		cs = csError(b.delete(r.Key))
	}
	return cmap.EncodeStatusResponse(cmap.ResDelete, cs)
}

// adjust is message_handler_req_lib_cmap_adjust_int.
func (s *Service) adjust(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeAdjustIntRequest(msg)
	if err != nil {
		return cmap.EncodeStatusResponse(cmap.ResAdjustInt, ipc.CSErrInvalid)
	}
	b := s.backendOf(st)
	cs := ipc.CSErrAccess
	if !b.readOnly(r.Key) {
		cs = csError(b.adjust(r.Key, r.Step))
	}
	return cmap.EncodeStatusResponse(cmap.ResAdjustInt, cs)
}

// get is message_handler_req_lib_cmap_get. The answer has the room the request offered
// (the value followed by zeros); no room asks only for the type and length; too little
// room is CS_ERR_INVALID_PARAM, as icmap_get answers it.
func (s *Service) get(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeGetRequest(msg)
	if err != nil {
		return cmap.GetResponse{Error: ipc.CSErrInvalid}.Encode()
	}
	v, err := s.backendOf(st).get(r.Key)
	if err != nil {
		return cmap.GetResponse{Error: csError(err)}.Encode()
	}
	room := int(min(r.ValueLen, uint64(st.maxRoom)))
	res := cmap.GetResponse{Error: ipc.CSOk, Type: v.Type(), ValueLen: uint64(v.Len()), Room: room}
	if room > 0 {
		if v.Len() > room {
			return cmap.GetResponse{Error: ipc.CSErrInvalid}.Encode()
		}
		res.Data = v.Bytes()
	}
	return res.Encode()
}

// setCurrentMap is message_handler_req_lib_cmap_set_current_map.
func (s *Service) setCurrentMap(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeSetCurrentMapRequest(msg)
	cs := ipc.CSOk
	switch {
	case err != nil:
		cs = ipc.CSErrInvalid
	case len(st.iters) > 0 || len(st.tracks) > 0:
		// The handles belong to the map they were made on.
		cs = ipc.CSErrBusy
	case r.Map == cmap.MapICMAP || r.Map == cmap.MapStats:
		st.mapID = r.Map
	default:
		cs = ipc.CSErrNotExist
	}
	return cmap.EncodeStatusResponse(cmap.ResSetCurrentMap, cs)
}
