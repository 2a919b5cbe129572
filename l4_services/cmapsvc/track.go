package cmapsvc

import (
	"log/slog"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// tracker is one TRACK_ADD of a connection (cmap_track_user_data and the map's tracker).
type tracker struct {
	backend backend
	sink    eventSink
	log     *slog.Logger
	key     string
	flags   cmap.TrackType
	// cookie is the client's track_inst_handle, echoed in every notification.
	cookie uint64

	icmapHandle icmap.TrackHandle // on the icmap
	stats       *statsTrack       // on the stats map
}

// notify sends one NOTIFY_CALLBACK event (cmap_notify_fn). A client whose event queue
// is full is dropped by the IPC layer, so the error needs no handling here.
func (t *tracker) notify(ev cmap.TrackType, key string, nv, ov cmap.Value) {
	msg, err := cmap.NotifyCallback{TrackInstHandle: t.cookie, Event: ev, Key: key, New: nv, Old: ov}.Encode()
	if err != nil {
		t.log.Warn("cmap: cannot notify a change", "key", key, "err", err)
		return
	}
	t.sink.Event(msg)
}

// trackAdd is message_handler_req_lib_cmap_track_add. An empty key means no key (with
// the prefix flag: every key).
func (s *Service) trackAdd(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeTrackAddRequest(msg)
	if err != nil {
		return cmap.TrackAddResponse{Error: ipc.CSErrInvalid}.Encode()
	}
	if len(st.tracks) >= MaxTrackers {
		return cmap.TrackAddResponse{Error: ipc.CSErrNoResources}.Encode()
	}
	b := s.backendOf(st)
	t := &tracker{backend: b, sink: st.sink, log: s.log, key: r.Key, flags: r.TrackType, cookie: r.TrackInstHandle}
	if err := b.trackAdd(t); err != nil {
		return cmap.TrackAddResponse{Error: csError(err)}.Encode()
	}
	h := st.newHandle()
	st.tracks[h] = t
	s.openTracks.Add(1)
	return cmap.TrackAddResponse{Error: ipc.CSOk, TrackHandle: h}.Encode()
}

// trackDelete is message_handler_req_lib_cmap_track_delete: it answers with the
// tracker's cookie.
func (s *Service) trackDelete(st *connState, msg []byte) []byte {
	r, err := cmap.DecodeTrackDeleteRequest(msg)
	if err != nil {
		return cmap.TrackDeleteResponse{Error: ipc.CSErrInvalid}.Encode()
	}
	t := st.tracks[r.TrackHandle]
	if t == nil {
		return cmap.TrackDeleteResponse{Error: ipc.CSErrBadHandle}.Encode()
	}
	t.backend.trackDelete(t)
	delete(st.tracks, r.TrackHandle)
	s.openTracks.Add(-1)
	return cmap.TrackDeleteResponse{Error: ipc.CSOk, TrackInstHandle: t.cookie}.Encode()
}
