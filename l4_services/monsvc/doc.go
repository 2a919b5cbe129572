// Package monsvc is corosync 3.1.7's resource monitoring service (exec/mon.c, service id
// 6, subsystem "MON"), as Debian builds it (with libstatgrab 0.92.1): it watches the
// machine's memory use and 15-minute load average and publishes them, with a state, under
// resources.system.memory_used.* and resources.system.load_15min.*, where the wd service
// (package wdsvc) checks them.
//
// # Keys
//
// At start each resource gets current (i32 0 for memory_used, dbl 0 for load_15min),
// last_updated (u64 0) and state (str "stopped"); poll_period (u64 3000) is written unless
// a string holding a number is there. Polling runs only while max is set:
//
//   - max and poll_period are read only from string values with sscanf (%d / %lf /
//     %llu: leading blanks skipped, trailing text ignored, glibc's overflow rules); a u64
//     poll_period from corosync.conf is therefore replaced by 3000 at start, and
//     `corosync-cmapctl -s ... u64 700` changes nothing but restarts the poll;
//   - a poll_period outside 500..120000 ms is refused with a warning;
//   - each poll writes current and last_updated (CLOCK_MONOTONIC in ns) when the figure
//     is positive; memory_used's current becomes a u32 at the first poll (3.1.7 writes a
//     u32 over its own i32);
//   - a figure above max moves the state from running to failed; failed resources are
//     polled on without failing again.
//
// The state machine (package reskit) has the states stopped, running and failed, and
// writes resources.system.<name>.state when it moves, logging at info level
// `Fsm:memory_used event "failure", state "running" --> "failed"`.
//
// # Tracking
//
// Each resource tracks its prefix. Adding a key does nothing, so the first
// `corosync-cmapctl -s resources.system.memory_used.max str 10` has no effect and the
// second one (a change) starts polling, as in 3.1.7. Changing max or poll_period re-reads
// both: a string max that parses moves to running and polls at once, one that does not
// (abc) moves to stopped and stops polling, and a max that is absent or not a string
// stops polling and leaves the state as it is. Deleting any key of the resource logs
// `resource "memory_used" deleted from cmap!` and re-reads the configuration the same way.
//
// # Figures
//
// ProcStats reads /proc as libstatgrab and glibc do: memory used is
// ((MemTotal + SwapTotal) - (MemFree + Cached + SwapFree)) * 100 / (MemTotal + SwapTotal)
// in integer arithmetic (MemAvailable is not used), and the load is the third number of
// /proc/loadavg (getloadavg). Stats may be replaced (tests use fakes).
//
// # Differences from corosync 3.1.7
//
//   - A poll_period string that is not a number logs corosync's first warning only;
//     corosync then checks an uninitialised variable and logs a second warning with a
//     random number.
//   - A read error of the load average is logged ("Unable to get load stats: ...") and the
//     poll skipped; corosync (getloadavg's error ignored by libstatgrab) uses an
//     uninitialised value. A meminfo without memory or swap total is an error where
//     corosync divides by zero.
//   - Notifications caused by the service's own changes are handled after the work in
//     progress instead of inside it (see package reskit), which can reorder MON and WD log
//     lines but not the keys.
package monsvc
