package cpgsvc

import (
	"slices"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cpg"
)

// iterationsMax bounds the iterations open at once across clients (corosync's handle
// database grows without bound; a client that never finalizes must not grow ours).
const iterationsMax = 4096

// iterationInit is corosync's message_handler_req_lib_cpg_iteration_initialize: a copy of
// the process list "grouped by" group, in corosync's order (a group not seen yet goes to
// the front; a further member of a group goes right after the group's first).
func (s *Service) iterationInit(c *client, req cpg.IterationInitializeRequest) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.Debug("cpg iteration initialize")
	if len(s.iters) >= iterationsMax {
		return cpg.IterationInitializeResponse{Error: ipc.CSErrNoMemory}.Encode()
	}
	var items []proc
	for _, p := range s.procs {
		switch req.Type {
		case cpg.IterationNameOnly:
			if slices.ContainsFunc(items, func(q proc) bool { return q.group == p.group }) {
				continue
			}
			p.node, p.pid = 0, 0
		case cpg.IterationOneGroup:
			if p.group != req.Group {
				continue
			}
		}
		at := 0
		for i, q := range items {
			if q.group == p.group {
				at = i + 1
				break
			}
		}
		items = slices.Insert(items, at, p)
	}
	s.nextIt++
	h := s.nextIt
	s.iters[h] = &iteration{owner: c, items: items}
	c.iters = append(c.iters, h)
	return cpg.IterationInitializeResponse{Error: ipc.CSOk, Handle: h}.Encode()
}

// iterationNext is corosync's message_handler_req_lib_cpg_iteration_next.
func (s *Service) iterationNext(h uint64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.Debug("cpg iteration next")
	it := s.iters[h]
	var r cpg.IterationNextResponse
	switch {
	case it == nil:
		r.Error = ipc.CSErrLibrary
	case it.next >= len(it.items):
		r.Error = ipc.CSErrNoSections
	default:
		p := it.items[it.next]
		it.next++
		r = cpg.IterationNextResponse{Error: ipc.CSOk, Entry: cpg.IterationEntry{Group: p.group, NodeID: p.node, PID: p.pid}}
	}
	b, err := r.Encode()
	if err != nil {
		b, _ = cpg.IterationNextResponse{Error: ipc.CSErrLibrary}.Encode()
	}
	return b
}

// iterationFinalize is corosync's message_handler_req_lib_cpg_iteration_finalize.
func (s *Service) iterationFinalize(h uint64) ipc.CS {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.Debug("cpg iteration finalize")
	it := s.iters[h]
	if it == nil {
		return ipc.CSErrLibrary
	}
	delete(s.iters, h)
	o := it.owner
	for i, x := range o.iters {
		if x == h {
			o.iters = append(o.iters[:i], o.iters[i+1:]...)
			break
		}
	}
	return ipc.CSOk
}
