// Package cpgsvc is corosync's closed process group engine (exec/cpg.c of corosync 3.1.7,
// service id 2): processes on every node join named groups, see each other join and leave
// in the same order everywhere, and multicast messages that every member delivers in the
// same total order, sender included.
//
// The engine keeps corosync's replicated process list (node, pid, group), changed only by
// ordered messages (procjoin, procleave) and by the synchronisation after each membership
// change: every node multicasts a downlist and a joinlist of its own processes, and at
// activation each node drops the processes of nodes that left (NODEDOWN), adds those of
// nodes that came (NODEUP) and removes processes no joinlist names (PROCDOWN). Its IPC half
// speaks libcpg's wire format (ipc/cpg), so Debian's unmodified libcpg and
// corosync-cpgtool work against it.
//
// Group messages are applied only once the synchronisation has made the process list
// alike: the executive holds every message but the synchronisation's own from each new ring
// until all engines are active (corosync's waiting_trans_ack), and the downlist and joinlist
// go out with SendSync meanwhile. As a guard against a peer that would not hold, the engine
// also keeps any group message delivered between a regular configuration and its activation,
// and applies it right after activation (or, if synchronisation is cut short, before the next
// one starts).
package cpgsvc
