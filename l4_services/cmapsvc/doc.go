// Package cmapsvc is the daemon side of corosync's cmap service: corosync 3.1.7's
// exec/cmap.c over IPC, serving Debian's unmodified libcmap (corosync-cmapctl, Pacemaker)
// and the Go client of ipc/cmap.
//
// A Service answers every request of include/corosync/ipc_cmap.h (SET, DELETE, GET,
// ADJUST_INT, ITER_INIT, ITER_NEXT, ITER_FINALIZE, TRACK_ADD, TRACK_DELETE,
// SET_CURRENT_MAP) and pushes NOTIFY_CALLBACK events. Each connection works on one of two
// maps, as in corosync:
//
//   - the icmap (an *icmap.Map): read-only keys are refused to SET, DELETE and ADJUST_INT
//     with CS_ERR_ACCESS; the map's own errors (icmap returns ipc.CS codes) go straight
//     into the answers; trackers follow the map's changes and their notifications carry
//     the client's track_inst_handle and the new and old values;
//   - the statistics map (a StatsSource, values computed when read): read-only except
//     the stats.clear.* keys, which clear counters when the source implements
//     StatsClearer. Its trackers behave as 3.1.7's exec/stats.c, checked against the
//     real daemon: a key tracker is polled (Config.StatsPoll, 1.5 s like corosync's stats
//     timer) and gets a modify notification, with the current value as both new and old,
//     whenever the value differs from the last one seen (whatever flags it asked for); a
//     prefix tracker must ask for both add and delete (CS_ERR_NOT_SUPPORTED otherwise) and
//     gets create and delete notifications as keys appear and disappear, never modify ones.
//     Keys starting with stats.schedmiss give no create or delete notifications, as in
//     corosync.
//
// SET_CURRENT_MAP switches a connection's map; it is refused with CS_ERR_BUSY while the
// connection has iterators or trackers, and an unknown map is CS_ERR_NOT_EXIST.
// Iterators and trackers are per connection and are freed when it goes.
//
// Behaviour of 3.1.7 kept or made safe:
//   - libcmap sends strings without their NUL (cmap_set_string passes strlen bytes) and
//     corosync reads past the message for it; here the value is the bytes sent and the map
//     adds the NUL. A string holding a NUL before its last byte is refused with
//     CS_ERR_INVALID_PARAM, as icmap's length check refuses it.
//   - A GET offering no room (a length query) is answered with the type and length on
//     both maps. 3.1.7's stats map writes the value to a NULL buffer for
//     stats.schedmiss.* and crashes; here it cannot.
//   - A GET offering less room than the value is CS_ERR_INVALID_PARAM on both maps (3.1.7's
//     stats map overruns the buffer instead). A room larger than a response can carry is
//     cut to what it can (corosync would allocate it and fail to send, leaving the client
//     waiting); values are at most 16 KiB, so they always fit.
//   - An unknown request id is answered with a bare header of id 0 and
//     CS_ERR_INVALID_PARAM, as corosync's ipc_glue answers it. A request too short for its
//     type (corosync reads past it) gets its usual answer with CS_ERR_INVALID_PARAM.
//   - An iteration is a sorted snapshot of the keys taken at ITER_INIT; on the icmap a
//     key deleted since is skipped and a changed one reports its current length, as the
//     trie iterator of 3.1.7 does.
//   - A connection may hold at most MaxIterators iterators and MaxTrackers trackers;
//     past that it gets CS_ERR_NO_RESOURCES (corosync's handle databases have no bound).
//   - Stats delete notifications carry the value last read by the poller; corosync reads
//     it at the moment of deletion.
package cmapsvc
