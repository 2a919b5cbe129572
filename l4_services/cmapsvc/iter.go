package cmapsvc

import (
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// iterator is an open iteration: a sorted snapshot of the keys and the position in it.
type iterator struct {
	backend backend
	keys    []icmap.KeyInfo
	pos     int
}

// next returns the next key still in the map, or false at the end.
func (it *iterator) next() (icmap.KeyInfo, bool) {
	for it.pos < len(it.keys) {
		k := it.keys[it.pos]
		it.pos++
		if cur, ok := it.backend.current(k); ok {
			return cur, true
		}
	}
	return icmap.KeyInfo{}, false
}

// iterInit is message_handler_req_lib_cmap_iter_init; an empty prefix lists every key.
func (s *Service) iterInit(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeIterInitRequest(msg)
	if err != nil {
		return cmap.IterInitResponse{Error: ipc.CSErrInvalid}.Encode()
	}
	if len(st.iters) >= MaxIterators {
		return cmap.IterInitResponse{Error: ipc.CSErrNoResources}.Encode()
	}
	b := s.backendOf(st)
	h := st.newHandle()
	st.iters[h] = &iterator{backend: b, keys: b.keys(r.Prefix)}
	s.openIters.Add(1)
	return cmap.IterInitResponse{Error: ipc.CSOk, IterHandle: h}.Encode()
}

// iterNext is message_handler_req_lib_cmap_iter_next: CS_ERR_NO_SECTIONS at the end (and
// again on every later call), CS_ERR_BAD_HANDLE for a handle not open.
func (s *Service) iterNext(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeIterNextRequest(msg)
	if err != nil {
		return s.iterNextError(ipc.CSErrInvalid)
	}
	it := st.iters[r.IterHandle]
	if it == nil {
		return s.iterNextError(ipc.CSErrBadHandle)
	}
	for {
		k, ok := it.next()
		if !ok {
			return s.iterNextError(ipc.CSErrNoSections)
		}
		res, err := cmap.IterNextResponse{Error: ipc.CSOk, Key: k.Key, ValueLen: uint64(k.Bytes), Type: k.Type}.Encode()
		if err != nil {
			// Only a stats source can hold a name no answer can carry; skip it.
			s.log.Warn("cmap: iteration skips a key it cannot send", "key", k.Key, "err", err)
			continue
		}
		return res
	}
}

func (s *Service) iterNextError(cs ipc.CS) []byte {
	res, _ := cmap.IterNextResponse{Error: cs}.Encode() // an empty name always encodes
	return res
}

// iterFinalize is message_handler_req_lib_cmap_iter_finalize.
func (s *Service) iterFinalize(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeIterFinalizeRequest(msg)
	if err != nil {
		return cmap.EncodeStatusResponse(cmap.ResIterFinalize, ipc.CSErrInvalid)
	}
	if st.iters[r.IterHandle] == nil {
		return cmap.EncodeStatusResponse(cmap.ResIterFinalize, ipc.CSErrBadHandle)
	}
	delete(st.iters, r.IterHandle)
	s.openIters.Add(-1)
	return cmap.EncodeStatusResponse(cmap.ResIterFinalize, ipc.CSOk)
}
