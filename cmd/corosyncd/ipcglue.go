package main

import "github.com/corosync-go/corosync/ipc"

// libHandlers is how many request ids each service has in corosync 3.1.7 (the length of
// its lib_engine table): an id beyond them is an invalid request.
var libHandlers = map[string]int32{"cmap": 10, "cfg": 12, "cpg": 13, "quorum": 5, "votequorum": 10}

// reserver is the ring's reservation of send-queue room (executive.Reserve, Release).
type reserver interface {
	Reserve(msgBytes int) int
	Release(entries int)
}

// ipcGlue wraps an IPC service as corosync's ipc_glue wraps every request
// (cs_ipcs_msg_process with corosync_sending_allowed): room in the ring's queue is
// reserved for the request's size while its handler runs (stats.pg.msg_reserved), and a
// request with an id beyond the service's handlers, or too large for the ring, is counted
// as invalid (stats.ipcs...invalid_request). The service still answers every request.
type ipcGlue struct {
	ipc.Service
	ring     reserver
	handlers int32 // 0: unknown, nothing is invalid by id
}

// glue wraps svc.
func glue(svc ipc.Service, ring reserver) ipcGlue {
	return ipcGlue{Service: svc, ring: ring, handlers: libHandlers[svc.Name()]}
}

// Request implements ipc.Service.
func (g ipcGlue) Request(c *ipc.Conn, h ipc.RequestHeader, msg []byte) {
	reserved := g.ring.Reserve(len(msg))
	if reserved < 0 || (g.handlers > 0 && (h.ID < 0 || h.ID >= g.handlers)) {
		c.NoteInvalidRequest()
	}
	g.Service.Request(c, h, msg)
	g.ring.Release(reserved)
}
