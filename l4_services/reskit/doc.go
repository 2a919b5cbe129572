// Package reskit is what corosync 3.1.7's resource services, mon (exec/mon.c) and wd
// (exec/wd.c), share: the single-threaded loop they run on, timers on corosync's monotonic
// clock (cs_timestamp_get, CLOCK_MONOTONIC in nanoseconds), a fake clock for tests, their
// resource state machine (exec/fsm.h with the tables both services use) and icmap's typed
// getters.
//
// # Why a loop
//
// corosync runs every icmap notification, timer and engine call on its one main thread,
// and mon and wd change the map from inside their notification callbacks. icmap.Map calls
// trackers on the goroutine that made the change and forbids changing the map from there,
// so the services' callbacks only Post work to a Loop; the loop's goroutine runs it, one
// piece at a time, and may change the map. Giving mon and wd the same loop keeps their work
// in one order, as in corosync. What differs: corosync delivers a notification caused by a
// change made inside a callback at once (nested), the loop queues it after the work in
// progress, so the services see the same changes but a log line of one may come before
// instead of after a line of the other.
//
// Timers are armed and stopped only from the loop. A timer that has fired but whose work is
// still queued when it is stopped does not run, as corosync's timer_delete guarantees.
package reskit
