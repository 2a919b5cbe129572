package main

import (
	"fmt"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// ipcs adds stats.ipcs.global.* and, for every client connection, corosync's
// stats.ipcs.service<S>.<pid>.<conn>.* keys. corosync names a connection by its address
// (%p); ours is its never-reused id, printed the same way.
func (s *statsSource) ipcs(out map[string]icmap.Value) {
	st := s.d.srv.Stats()
	closed := max(0, st.Accepted-st.Active)
	s.mu.Lock()
	closed = max(0, closed-s.closedBase)
	s.mu.Unlock()
	out["stats.ipcs.global.active"] = cmap.Uint64(uint64(st.Active))
	out["stats.ipcs.global.closed"] = cmap.Uint64(uint64(closed))
	for _, c := range s.d.srv.Connections() {
		if c.ServiceNumber < 0 {
			continue // corosync has no such service, so no number to show it under
		}
		p := fmt.Sprintf("stats.ipcs.service%d.%d.%#x.", c.ServiceNumber, uint32(c.PID), c.ID)
		queueing := int32(0)
		if c.Queueing {
			queueing = 1
		}
		out[p+"procname"] = cmap.String(c.ProcName)
		out[p+"requests"] = cmap.Uint64(c.Requests)
		out[p+"responses"] = cmap.Uint64(c.Responses)
		out[p+"dispatched"] = cmap.Uint64(c.Dispatched)
		out[p+"send_retries"] = cmap.Uint64(c.SendRetries)
		out[p+"recv_retries"] = cmap.Uint64(c.RecvRetries)
		out[p+"flow_control"] = cmap.Uint32(c.FlowControl)
		out[p+"flow_control_count"] = cmap.Uint64(c.FlowControlCount)
		out[p+"queueing"] = cmap.Int32(queueing)
		out[p+"queued"] = cmap.Uint32(c.Queued)
		out[p+"invalid_request"] = cmap.Uint64(c.InvalidRequests)
		out[p+"overload"] = cmap.Uint64(c.Overloads)
		out[p+"sent"] = cmap.Uint32(c.Sent)
	}
}
