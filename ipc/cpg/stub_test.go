package cpg

import (
	"errors"
	"slices"
	"sync"

	"github.com/corosync-go/corosync/ipc"
)

// stubCPG is an in-process, single-node cpg service for tests, built on this package's
// wire format. It follows exec/cpg.c of corosync 3.1.7 where a client can tell: a join or
// leave is answered first and then "delivered" (here at once, as totem would on a
// one-node ring) as a confchg to every member; multicasts go to every member in order,
// the sender included; a connection that left stays in the leaving state (3.1.7 never
// resets it); a disconnect of a joined process is a leave with ReasonProcDown. The real
// engine is l4_services' job.
type stubCPG struct {
	nodeID uint32
	ring   RingID

	mu       sync.Mutex
	conns    []*stubConn // joined or not, in connection order (cpg_pd_list)
	procs    []stubProc  // group members, sorted by node id then pid (process_info list)
	iters    map[uint64][]IterationEntry
	nextIter uint64
}

type cpdState int

const (
	unjoined cpdState = iota
	leaveStarted
	joinStarted
	joinCompleted
)

type stubConn struct {
	c         *ipc.Conn
	group     string
	pid       uint32
	state     cpdState
	flags     ModelFlags
	totemSent bool
	// transitions counts confchgs sent; a fragmented send is refused with
	// CS_ERR_INTERRUPT if one came between its fragments.
	transitions, firstFragment uint64
	iters                      []uint64
}

type stubProc struct {
	group string
	addr  Address
}

func newStubCPG(nodeID uint32) *stubCPG {
	return &stubCPG{nodeID: nodeID, ring: RingID{NodeID: nodeID, Seq: 4}, iters: map[uint64][]IterationEntry{}}
}

// Name implements ipc.Service.
func (s *stubCPG) Name() string { return "cpg" }

// Connected implements ipc.Service.
func (s *stubCPG) Connected(c *ipc.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := &stubConn{c: c}
	c.State = sc
	s.conns = append(s.conns, sc)
}

// Disconnected implements ipc.Service.
func (s *stubCPG) Disconnected(c *ipc.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := c.State.(*stubConn)
	if sc.group != "" && sc.state != leaveStarted {
		s.procLeave(sc.group, Address{NodeID: s.nodeID, PID: sc.pid, Reason: ReasonProcDown})
	}
	s.drop(sc)
	for _, h := range sc.iters {
		delete(s.iters, h)
	}
}

// drop takes a connection off the list: it gets no more events.
func (s *stubCPG) drop(sc *stubConn) {
	s.conns = slices.DeleteFunc(s.conns, func(x *stubConn) bool { return x == sc })
}

// Request implements ipc.Service.
func (s *stubCPG) Request(c *ipc.Conn, h ipc.RequestHeader, msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := c.State.(*stubConn)
	switch h.ID {
	case ReqJoin:
		s.join(sc, msg)
	case ReqLeave:
		s.leave(sc, msg)
	case ReqMcast:
		if r, err := DecodeMcastRequest(msg); err == nil && (sc.state == joinStarted || sc.state == joinCompleted) {
			s.deliver(sc.group, Deliver{Group: sc.group, NodeID: s.nodeID, PID: sc.pid, Msg: r.Msg})
		}
	case ReqPartialMcast:
		s.partialMcast(sc, msg)
	case ReqMembership:
		r, err := DecodeMembershipRequest(msg)
		if err != nil {
			c.Respond(ipc.ErrorResponse(ipc.CSErrInvalid))
			return
		}
		var members []Address
		for _, p := range s.procs {
			if p.group == r.Group {
				members = append(members, Address{NodeID: p.addr.NodeID, PID: p.addr.PID})
			}
		}
		b, err := MembershipResponse{Error: ipc.CSOk, Members: members}.Encode()
		if err != nil {
			b = ipc.ErrorResponse(ipc.CSErrNoSpace)
		}
		c.Respond(b)
	case ReqLocalGet:
		c.Respond(LocalGetResponse{Error: ipc.CSOk, NodeID: s.nodeID}.Encode())
	case ReqIterationInitialize:
		s.iterationInitialize(sc, msg)
	case ReqIterationNext:
		r, err := DecodeIterationNextRequest(msg)
		entries, ok := s.iters[r.Handle]
		switch {
		case err != nil || !ok:
			b, _ := IterationNextResponse{Error: ipc.CSErrLibrary}.Encode()
			c.Respond(b)
		case len(entries) == 0:
			b, _ := IterationNextResponse{Error: ipc.CSErrNoSections}.Encode()
			c.Respond(b)
		default:
			s.iters[r.Handle] = entries[1:]
			b, _ := IterationNextResponse{Error: ipc.CSOk, Entry: entries[0]}.Encode()
			c.Respond(b)
		}
	case ReqIterationFinalize:
		r, err := DecodeIterationFinalizeRequest(msg)
		cs := ipc.CSOk
		if _, ok := s.iters[r.Handle]; err != nil || !ok {
			cs = ipc.CSErrLibrary
		}
		delete(s.iters, r.Handle)
		c.Respond(EncodeStatusResponse(ResIterationFinalize, cs))
	case ReqFinalize:
		s.drop(sc)
		c.Respond(EncodeStatusResponse(ResFinalize, ipc.CSOk))
	case ReqZCAlloc, ReqZCFree, ReqZCExecute:
		c.Respond(ipc.ErrorResponse(ipc.CSErrNotSupport)) // zero-copy is not offered
	default:
		c.Respond(ipc.ErrorResponse(ipc.CSErrInvalid))
	}
}

func (s *stubCPG) join(sc *stubConn, msg []byte) {
	r, err := DecodeJoinRequest(msg)
	if err != nil {
		cs := ipc.CSErrInvalid
		if errors.Is(err, ipc.CSErrNameTooLong) {
			cs = ipc.CSErrNameTooLong
		}
		sc.c.Respond(EncodeStatusResponse(ResJoin, cs))
		return
	}
	cs := ipc.CSOk
	switch {
	case slices.ContainsFunc(s.conns, func(x *stubConn) bool { return x.pid == r.PID && x.group == r.Group }):
		cs = ipc.CSErrExist
	case s.member(r.Group, r.PID):
		cs = ipc.CSErrTryAgain // an earlier incarnation's leave is still on its way
	case sc.state == leaveStarted:
		cs = ipc.CSErrBusy
	case sc.state != unjoined:
		cs = ipc.CSErrExist
	}
	sc.c.Respond(EncodeStatusResponse(ResJoin, cs))
	if cs != ipc.CSOk {
		return
	}
	sc.state, sc.pid, sc.flags, sc.group = joinStarted, r.PID, r.Flags, r.Group
	s.procJoin(r.Group, Address{NodeID: s.nodeID, PID: r.PID, Reason: ReasonJoin})
}

func (s *stubCPG) member(group string, pid uint32) bool {
	return slices.ContainsFunc(s.procs, func(p stubProc) bool {
		return p.group == group && p.addr.NodeID == s.nodeID && p.addr.PID == pid
	})
}

func (s *stubCPG) leave(sc *stubConn, msg []byte) {
	r, err := DecodeLeaveRequest(msg)
	cs := ipc.CSOk
	switch {
	case err != nil:
		cs = ipc.CSErrInvalid
	case sc.state == unjoined || sc.state == leaveStarted:
		cs = ipc.CSErrNotExist
	case sc.state == joinStarted:
		cs = ipc.CSErrBusy
	}
	sc.c.Respond(EncodeStatusResponse(ResLeave, cs))
	if cs != ipc.CSOk {
		return
	}
	sc.state = leaveStarted
	// As in corosync, the leave announced is the request's group and pid, whatever the
	// connection joined.
	s.procLeave(r.Group, Address{NodeID: s.nodeID, PID: r.PID, Reason: ReasonLeave})
}

// procJoin adds a member (in node id, pid order) and announces it.
func (s *stubCPG) procJoin(group string, a Address) {
	i := 0
	for i < len(s.procs) && !(s.procs[i].addr.NodeID > a.NodeID || s.procs[i].addr.NodeID == a.NodeID && s.procs[i].addr.PID > a.PID) {
		i++
	}
	s.procs = slices.Insert(s.procs, i, stubProc{group: group, addr: Address{NodeID: a.NodeID, PID: a.PID}})
	s.notify(group, []Address{a}, nil)
}

// procLeave announces a member's departure and removes it.
func (s *stubCPG) procLeave(group string, a Address) {
	s.notify(group, nil, []Address{a})
	s.procs = slices.DeleteFunc(s.procs, func(p stubProc) bool {
		return p.group == group && p.addr.NodeID == a.NodeID && p.addr.PID == a.PID
	})
}

// notify sends a confchg to the group's local members (notify_lib_joinlist), then the
// initial totem confchg to connections that asked for it and have not had it.
func (s *stubCPG) notify(group string, joined, left []Address) {
	ev := ConfChg{Group: group, Joined: joined, Left: left}
	for _, p := range s.procs {
		gone := slices.ContainsFunc(left, func(l Address) bool { return l.NodeID == p.addr.NodeID && l.PID == p.addr.PID })
		if p.group == group && !gone {
			ev.Members = append(ev.Members, Address{NodeID: p.addr.NodeID, PID: p.addr.PID})
		}
	}
	for _, j := range joined {
		for _, sc := range s.conns {
			if j.NodeID == s.nodeID && sc.pid == j.PID && sc.group == group {
				sc.state = joinCompleted
			}
		}
	}
	b, err := ev.Encode()
	if err != nil {
		return
	}
	for _, sc := range s.conns {
		if sc.group == group && (sc.state == joinCompleted || sc.state == leaveStarted) {
			sc.c.Event(b)
			sc.transitions++
		}
	}
	for _, sc := range s.conns {
		if sc.flags&DeliverInitialTotemConf != 0 && !sc.totemSent {
			sc.totemSent = true
			sc.c.Event(TotemConfChg{RingID: s.ring, Members: []uint32{s.nodeID}}.Encode())
		}
	}
}

// deliver sends a message to the group's members that have completed their join or are
// leaving, as corosync does.
func (s *stubCPG) deliver(group string, v Deliver) {
	b, err := v.Encode()
	if err != nil {
		return
	}
	s.sendToGroup(group, b)
}

func (s *stubCPG) sendToGroup(group string, b []byte) {
	for _, sc := range s.conns {
		if sc.group == group && (sc.state == joinCompleted || sc.state == leaveStarted) {
			sc.c.Event(b)
		}
	}
}

func (s *stubCPG) partialMcast(sc *stubConn, msg []byte) {
	r, err := DecodePartialMcastRequest(msg)
	if err != nil {
		sc.c.Respond(ipc.ErrorResponse(ipc.CSErrInvalid))
		return
	}
	cs := ipc.CSErrNotExist
	if sc.state == joinStarted || sc.state == joinCompleted {
		cs = ipc.CSOk
	}
	if r.Type == PartialFirst {
		sc.firstFragment = sc.transitions
	}
	if sc.transitions != sc.firstFragment {
		cs = ipc.CSErrInterrupt
	}
	sc.c.Respond(EncodeStatusResponse(ResPartialSend, cs))
	if cs != ipc.CSOk {
		return
	}
	b, err := PartialDeliver{Group: sc.group, MsgLen: r.MsgLen, NodeID: s.nodeID, PID: sc.pid, Type: r.Type, Frag: r.Frag}.Encode()
	if err == nil {
		s.sendToGroup(sc.group, b)
	}
}

func (s *stubCPG) iterationInitialize(sc *stubConn, msg []byte) {
	r, err := DecodeIterationInitializeRequest(msg)
	if err != nil {
		sc.c.Respond(IterationInitializeResponse{Error: ipc.CSErrInvalid}.Encode())
		return
	}
	s.nextIter++
	h := s.nextIter
	s.iters[h] = iterationSnapshot(s.procs, r.Type, r.Group)
	sc.iters = append(sc.iters, h)
	sc.c.Respond(IterationInitializeResponse{Error: ipc.CSOk, Handle: h}.Encode())
}

// iterationSnapshot copies the member list as exec/cpg.c does: each entry goes right after
// the first entry of its group, or at the front when its group is new (so groups come
// out newest first).
func iterationSnapshot(procs []stubProc, typ IterationType, group string) []IterationEntry {
	var out []IterationEntry
	for _, p := range procs {
		first := slices.IndexFunc(out, func(e IterationEntry) bool { return e.Group == p.group })
		e := IterationEntry{Group: p.group, NodeID: p.addr.NodeID, PID: p.addr.PID}
		switch typ {
		case IterationNameOnly:
			if first >= 0 {
				continue
			}
			e.NodeID, e.PID = 0, 0
		case IterationOneGroup:
			if p.group != group {
				continue
			}
		}
		out = slices.Insert(out, first+1, e)
	}
	return out
}
