// Package quorumsvc is corosync 3.1.7's quorum service engine (service id 3,
// exec/vsf_quorum.c) and its IPC service "quorum", which Debian's libquorum uses.
//
// It holds the quorum decision of the configured provider (corosync_votequorum tells it
// through SetQuorum) and passes it to library clients: getquorate, gettype, and tracking
// in model V0 (quorum notifications with the ring sequence) or V1 (quorum notifications
// with the whole ring id, and node list notifications with joined and left nodes after
// every synchronisation). Without quorum.provider the node is always quorate and the
// quorum type is QUORUM_FREE, as in corosync.
package quorumsvc

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/quorum"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

// ServiceID is corosync's QUORUM_SERVICE.
const ServiceID = 3

// Name is the engine's name as corosync logs it.
const Name = "corosync cluster quorum service v0.1"

// Config configures the engine.
type Config struct {
	// Provider is quorum.provider: "" (none) or "corosync_votequorum".
	Provider string
	Log      *slog.Logger
}

// conn is a library connection's state (vsf_quorum's quorum_pd).
type conn struct {
	c        client
	tracking bool
	model    quorum.Model
}

type client interface {
	event(msg []byte)
	respond(msg []byte)
}

// Service is the quorum engine and its IPC service.
type Service struct {
	log *slog.Logger

	mu       sync.Mutex
	typ      quorum.Type
	primary  bool
	ring     quorum.RingID // of the last quorum decision
	view     []uint32
	trackers []*conn

	syncRing     quorum.RingID
	members, old []uint32
	joined, left []uint32
}

// New creates the engine.
func New(c Config) *Service {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	s := &Service{log: c.Log.With(logsys.SubsysKey, "QUORUM")}
	if c.Provider != "" {
		s.typ = quorum.TypeSet
	} else {
		s.primary = true // no provider: always quorate
	}
	return s
}

// ID is the engine's service id.
func (s *Service) ID() uint16 { return ServiceID }

// Name is the engine's long name.
func (s *Service) Name() string { return Name }

func (s *Service) notice(msg string) { s.log.Log(context.Background(), logsys.LevelNotice, msg) }

// logList is log_view_list: "Members[3]: 1 2 3", continued with a backslash on further
// lines when the list does not fit corosync's 64-byte buffer.
func (s *Service) logList(ids []uint32, what string) {
	i := 0
	for {
		var b strings.Builder
		for ; i < len(ids); i++ {
			part := fmt.Sprintf(" %d", ids[i])
			if b.Len()+len(part) >= 64 {
				break
			}
			b.WriteString(part)
		}
		cont := ""
		if i < len(ids) {
			cont = "\\"
		}
		s.notice(fmt.Sprintf("%s[%d]:%s%s", what, len(ids), b.String(), cont))
		if i >= len(ids) {
			return
		}
	}
}

// SetQuorum is quorum_api_set_quorum, the provider's decision.
func (s *Service) SetQuorum(view []uint32, quorate bool, ring quorum.RingID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.primary
	s.primary = quorate
	switch {
	case quorate && !old:
		s.notice("This node is within the primary component and will provide service.")
	case !quorate && old:
		s.notice("This node is within the non-primary component and will NOT provide any services.")
	}
	s.view = slices.Clone(view)
	s.ring = ring
	s.logList(view, "Members")
	s.sendQuorum(nil)
}

// SyncInit computes the joined and left lists of the new ring (quorum_sync_init).
func (s *Service) SyncInit(trans, members []evs.NodeID, ring evs.RingID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members = ids(members)
	tr := ids(trans)
	s.syncRing = quorum.RingID{NodeID: uint32(ring.Rep), Seq: ring.Seq}
	s.left = s.left[:0]
	for _, o := range s.old {
		if !slices.Contains(tr, o) || !slices.Contains(s.members, o) {
			s.left = append(s.left, o)
		}
	}
	s.joined = s.joined[:0]
	for _, m := range s.members {
		if !slices.Contains(s.old, m) || slices.Contains(s.left, m) {
			s.joined = append(s.joined, m)
		}
	}
	s.logList(s.members, "Sync members")
	if len(s.joined) > 0 {
		s.logList(s.joined, "Sync joined")
	}
	if len(s.left) > 0 {
		s.logList(s.left, "Sync left")
	}
}

func ids(ns []evs.NodeID) []uint32 {
	out := make([]uint32, len(ns))
	for i, n := range ns {
		out[i] = uint32(n)
	}
	return out
}

// SyncProcess implements executive.Syncer; the engine has nothing to exchange.
func (s *Service) SyncProcess() bool { return true }

// SyncActivate sends the node list notification (quorum_sync_activate).
func (s *Service) SyncActivate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.old = slices.Clone(s.members)
	s.sendNodelist(nil, true)
}

// SyncAbort implements executive.Syncer.
func (s *Service) SyncAbort() {}

func (s *Service) sendQuorum(to *conn) {
	v0 := quorum.NotificationV0{Quorate: s.primary, RingSeq: s.ring.Seq, Members: s.view}.Encode()
	v1 := quorum.Quorum{Quorate: s.primary, RingID: s.ring, Members: s.view}.Encode()
	send := func(c *conn) {
		switch c.model {
		case quorum.ModelV0:
			c.c.event(v0)
		case quorum.ModelV1:
			c.c.event(v1)
		}
	}
	if to != nil {
		send(to)
		return
	}
	for _, c := range s.trackers {
		send(c)
	}
}

func (s *Service) sendNodelist(to *conn, joinedLeft bool) {
	nl := quorum.Nodelist{RingID: s.syncRing, Members: s.members}
	if joinedLeft {
		nl.Joined, nl.Left = s.joined, s.left
	}
	b := nl.Encode()
	if to != nil {
		if to.model == quorum.ModelV1 {
			to.c.event(b)
		}
		return
	}
	for _, c := range s.trackers {
		if c.model == quorum.ModelV1 {
			c.c.event(b)
		}
	}
}

// --- IPC

type ipcService struct{ *Service }

// IPC returns the engine's IPC service ("quorum").
func (s *Service) IPC() ipc.Service { return ipcService{s} }

// Name is the IPC service name.
func (ipcService) Name() string { return "quorum" }

type ipcClient struct{ c *ipc.Conn }

func (c ipcClient) event(msg []byte)   { c.c.Event(msg) }
func (c ipcClient) respond(msg []byte) { c.c.Respond(msg) }

// Connected gives a new connection its state (quorum_lib_init_fn).
func (p ipcService) Connected(c *ipc.Conn) { c.State = &conn{c: ipcClient{c}, model: quorum.ModelV0} }

// Disconnected forgets the connection's tracking (quorum_lib_exit_fn).
func (p ipcService) Disconnected(c *ipc.Conn) {
	if st, ok := c.State.(*conn); ok {
		p.mu.Lock()
		p.untrack(st)
		p.mu.Unlock()
	}
}

// Request runs a library request under the engine's lock.
func (p ipcService) Request(c *ipc.Conn, h ipc.RequestHeader, msg []byte) {
	st, ok := c.State.(*conn)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.request(st, h.ID, msg)
}

func (s *Service) untrack(c *conn) {
	c.tracking = false
	if i := slices.Index(s.trackers, c); i >= 0 {
		s.trackers = slices.Delete(s.trackers, i, i+1)
	}
}

// request runs a library request; one that does not have its type's layout is answered
// CS_ERR_INVALID_PARAM with the request's response id.
func (s *Service) request(to *conn, id int32, msg []byte) {
	switch id {
	case quorum.ReqGetQuorate:
		cs := ipc.CSOk
		if quorum.DecodeHeaderRequest(msg, id) != nil {
			cs = ipc.CSErrInvalid
		}
		to.c.respond(quorum.GetQuorateResponse{Error: cs, Quorate: s.primary}.Encode())
	case quorum.ReqTrackStart:
		r, err := quorum.DecodeTrackStartRequest(msg)
		if err != nil {
			to.c.respond(quorum.EncodeStatusResponse(quorum.ResTrackStart, ipc.CSErrInvalid))
			return
		}
		if r.Flags&(quorum.TrackCurrent|quorum.TrackChanges) != 0 {
			s.sendNodelist(to, false)
			s.sendQuorum(to)
		}
		if to.tracking {
			to.c.respond(quorum.EncodeStatusResponse(quorum.ResTrackStart, ipc.CSErrExist))
			return
		}
		if r.Flags&(quorum.TrackChanges|quorum.TrackChangesOnly) != 0 {
			to.tracking = true
			s.trackers = append([]*conn{to}, s.trackers...)
		}
		to.c.respond(quorum.EncodeStatusResponse(quorum.ResTrackStart, ipc.CSOk))
	case quorum.ReqTrackStop:
		// 3.1.7 computes CS_ERR_NOT_EXIST for a connection that does not track, then
		// overwrites it with CS_OK.
		if to.tracking {
			s.untrack(to)
		}
		to.c.respond(quorum.EncodeStatusResponse(quorum.ResTrackStop, ipc.CSOk))
	case quorum.ReqGetType:
		cs := ipc.CSOk
		if quorum.DecodeHeaderRequest(msg, id) != nil {
			cs = ipc.CSErrInvalid
		}
		to.c.respond(quorum.GetTypeResponse{Error: cs, Type: s.typ}.Encode())
	case quorum.ReqModelGetType:
		r, err := quorum.DecodeModelGetTypeRequest(msg)
		cs := ipc.CSOk
		switch {
		case err != nil:
			cs = ipc.CSErrInvalid
		case r.Model != quorum.ModelV0 && r.Model != quorum.ModelV1:
			s.log.Error(fmt.Sprintf("quorum_model_type request for unsupported model %d", r.Model))
			cs = ipc.CSErrInvalid
		default:
			to.model = r.Model
		}
		to.c.respond(quorum.ModelGetTypeResponse{Error: cs, Type: s.typ}.Encode())
	default:
		to.c.respond(quorum.EncodeStatusResponse(id, ipc.CSErrInvalid))
	}
}
