package ipc

import (
	"sort"
	"sync/atomic"
)

// connCounters are one connection's statistics: libqb's qb_ipcs_connection_stats and
// corosync's ipc_glue context, as corosync 3.1.7 shows them under
// stats.ipcs.service<S>.<pid>.<conn>. They are atomics so that the request, response and
// event paths count without a lock and without allocating.
type connCounters struct {
	requests, responses, events atomic.Uint64
	sendRetries, recvRetries    atomic.Uint64
	// flowControl is the level last set (libqb's flow_control_state); flowControlShown is
	// what the stats report, which a clear resets to 0 as libqb's memset does.
	flowControl      atomic.Int32
	flowControlShown atomic.Int32
	flowControlCount atomic.Uint64
	invalidRequests  atomic.Uint64
	overloads        atomic.Uint64
	// The event queue as corosync's outq: queueing from the first event that had to wait
	// for the client until the queue is empty again; sent counts events delivered since
	// the queue last changed state (corosync resets both counts there).
	queueing atomic.Bool
	waiting  atomic.Bool // the event writer is blocked on this client
	sent     atomic.Uint32
}

// ConnStats is a snapshot of one connection's statistics.
type ConnStats struct {
	// Service is the IPC name ("cmap", "cfg", ...); ServiceNumber is corosync's number for
	// it (ServiceNumber), -1 for a service corosync does not have.
	Service       string
	ServiceNumber int
	// ID identifies the connection for the life of the server (never reused); corosync
	// shows the connection's address in its place.
	ID       uint64
	PID      int32
	ProcName string
	// Requests and Responses count the requests received and the answers sent; Dispatched
	// counts events delivered.
	Requests, Responses, Dispatched uint64
	// SendRetries counts sends that found the client's ring or socket full and waited;
	// RecvRetries counts wake-ups that found no request.
	SendRetries, RecvRetries uint64
	// FlowControl is the flow-control level (0 open, 1 or 2) and FlowControlCount the
	// number of changes of it.
	FlowControl      uint32
	FlowControlCount uint64
	// Queueing says events wait for a client that does not read; Queued is how many.
	// Sent counts events delivered since the queue last filled or drained.
	Queueing bool
	Queued   uint32
	Sent     uint32
	// InvalidRequests and Overloads are what the service reported with
	// Conn.NoteInvalidRequest and Conn.NoteOverload.
	InvalidRequests, Overloads uint64
}

// corosyncServices are corosync's service numbers (corodefs.h) of the services that have
// an IPC name.
var corosyncServices = map[string]int{"cmap": 0, "cfg": 1, "cpg": 2, "quorum": 3, "votequorum": 5}

// ServiceNumber is corosync's number for the IPC service name (CMAP_SERVICE 0, CFG_SERVICE
// 1, CPG_SERVICE 2, QUORUM_SERVICE 3, VOTEQUORUM_SERVICE 5); false for other names.
func ServiceNumber(name string) (int, bool) {
	n, ok := corosyncServices[name]
	return n, ok
}

// register makes c visible to Connections; corosync adds a connection's stats keys once
// its service has accepted it.
func (s *Server) register(c *Conn) {
	s.connMu.Lock()
	s.conns[c] = struct{}{}
	s.connMu.Unlock()
	if s.cfg.ConnectionsChanged != nil {
		s.cfg.ConnectionsChanged()
	}
}

func (s *Server) unregister(c *Conn) {
	s.connMu.Lock()
	delete(s.conns, c)
	s.connMu.Unlock()
	if s.cfg.ConnectionsChanged != nil {
		s.cfg.ConnectionsChanged()
	}
}

// Connections returns the statistics of every connection the services have accepted and
// not yet seen go, sorted by service number and ID.
func (s *Server) Connections() []ConnStats {
	s.connMu.Lock()
	out := make([]ConnStats, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c.stats())
	}
	s.connMu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].ServiceNumber != out[j].ServiceNumber {
			return out[i].ServiceNumber < out[j].ServiceNumber
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// ClearConnectionStats zeroes every connection's counters, as corosync-cmapctl -C ipc
// does: libqb's (its flow-control state shown included) and corosync's invalid_request,
// overload and sent. The event queue's state and the flow-control level itself stay.
func (s *Server) ClearConnectionStats() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for c := range s.conns {
		k := &c.counters
		for _, u := range []*atomic.Uint64{&k.requests, &k.responses, &k.events, &k.sendRetries, &k.recvRetries, &k.flowControlCount, &k.invalidRequests, &k.overloads} {
			u.Store(0)
		}
		k.flowControlShown.Store(0)
		k.sent.Store(0)
	}
}

func (c *Conn) stats() ConnStats {
	k := &c.counters
	num, ok := ServiceNumber(c.svc.Name())
	if !ok {
		num = -1
	}
	st := ConnStats{
		Service: c.svc.Name(), ServiceNumber: num, ID: c.id, PID: c.creds.PID, ProcName: c.procName,
		Requests: k.requests.Load(), Responses: k.responses.Load(), Dispatched: k.events.Load(),
		SendRetries: k.sendRetries.Load(), RecvRetries: k.recvRetries.Load(),
		FlowControl: uint32(k.flowControlShown.Load()), FlowControlCount: k.flowControlCount.Load(),
		InvalidRequests: k.invalidRequests.Load(), Overloads: k.overloads.Load(),
		Sent: k.sent.Load(),
	}
	if k.queueing.Load() {
		st.Queueing = true
		st.Queued = uint32(len(c.events))
		if k.waiting.Load() {
			st.Queued++ // the event the writer holds is queued too, as in corosync's outq
		}
	}
	return st
}

// NoteInvalidRequest counts a request corosync would refuse as invalid (an id beyond the
// service's handlers, or a message too large for the ring): its invalid_request.
func (c *Conn) NoteInvalidRequest() { c.counters.invalidRequests.Add(1) }

// NoteOverload counts a request refused for lack of room or quorum (corosync answers
// CS_ERR_TRY_AGAIN): its overload.
func (c *Conn) NoteOverload() { c.counters.overloads.Add(1) }

// noteEventWait marks the client as not reading: events queue from here on.
func (c *Conn) noteEventWait() {
	k := &c.counters
	k.sendRetries.Add(1)
	k.waiting.Store(true)
	if !k.queueing.Swap(true) {
		k.sent.Store(0)
	}
}

// noteEventSent counts a delivered event; an empty queue ends a queueing episode
// (corosync's outq_flush: "Q empty", and both counts start again). The event count moves
// last, so a snapshot that sees it sees the queue's state after it.
func (c *Conn) noteEventSent() {
	k := &c.counters
	k.waiting.Store(false)
	if k.queueing.Load() && len(c.events) == 0 {
		k.queueing.Store(false)
		k.sent.Store(0)
	} else {
		k.sent.Add(1)
	}
	k.events.Add(1)
}
