// Package sam is corosync's Simple Availability Manager (libsam, lib/sam.c of corosync
// 3.1.7) for Go programs: a server process watches an instance of the program, health
// checks it, and restarts it (or quits) when it fails, keeping data across instances and
// optionally publishing its state in cmap for corosync's watchdog service and following
// quorum.
//
//	func main() {
//		ctx := context.Background()
//		s, err := sam.Initialize(ctx, 2*time.Second, sam.Restart|sam.Cmap)
//		...
//		instance, err := s.Register(ctx) // the server stays in here; instances return
//		...
//		s.Start()
//		for work() {
//			s.HCSend()
//		}
//		s.Stop()
//		s.Finalize()
//	}
//
// # Re-execution instead of fork
//
// libsam's sam_register forks: the parent becomes the server, the child returns. A Go
// program cannot fork, so Register in the original process starts the program again
// (/proc/self/exe with the same arguments, environment, standard streams and working
// directory) with COROSYNC_GO_SAM_CHILD naming two inherited pipes (descriptors 3 and
// 4), and serves it; it never returns there, except on an error: when the server quits
// it ends the process with the child's exit status as libsam does (WEXITSTATUS, so 0
// for a child killed by a signal). In the re-executed program, Initialize sees the
// variable (and removes it from the environment), and Register reads the server's
// handshake and returns the instance number: 1, then one more per restart.
//
// Everything before Register therefore runs again in every instance. It runs on
// scratch state: calls made in a child before Register (DataStore, WarnSignalSet)
// change only that process, and Register then replaces the instance data, the warning
// signal, the policy and the interval with the server's, which is what a forked child
// would have inherited. A child does not connect to the quorum service: its server
// watches quorum for it. Call Initialize and Register early.
//
// The child and its server speak libsam's framing over the pipes: a command byte
// (start, stop, health check, data store with a 64-bit size and the data, warning
// signal with a 32-bit signal number, mark failed), answered where libsam waits by a
// reply byte and a cs_error_t. The handshake the server sends first ("SAM1", instance,
// policy, interval in ms, warning signal, data) replaces fork's copy of memory. Every
// decoder bounds what it reads (MaxDataSize), returns errors wrapping ErrMalformed, and
// is fuzzed; a server that reads a malformed command kills that child (SIGKILL) and
// treats it as ended; Malformed counts them.
//
// # Semantics kept from libsam 3.1.7
//
//   - The server's timer: while started, every command restarts a wait of one interval;
//     when it expires the child gets the warning signal (SIGTERM by default), and when
//     it expires again SIGKILL. A child that ends while started is a failure: Restart
//     starts the next instance, Quit ends the server. A child that ends while stopped
//     (never started, or after Stop) ends the server with its status.
//   - Event-driven checks (HCCallbackRegister): the health check is sent every
//     interval/4 ms (integer milliseconds) and the callback runs on every fourth; a
//     failing callback stops the checks for good.
//   - Quorum: Start blocks until the node is quorate; a loss of quorum while started is
//     a failure (warning signal, then SIGKILL on the next event or interval).
//   - Cmap: keys under resources.process.<server pid>.: recovery ("quit" or "restart"),
//     poll_period (u64, the interval in ms), state ("stopped", "running", "waiting for
//     quorum", "failed") and last_updated (u64, CLOCK_MONOTONIC nanoseconds, written on
//     every command from the child). When the server quits after a failure the state
//     becomes "failed" and the keys stay for the watchdog service; otherwise they are
//     deleted. MarkFailed kills the child at once, marks it failed and quits.
//   - Start answers only with Quorum or Cmap, Stop only with Cmap (otherwise they do not
//     wait for the server).
//
// # Deviations from libsam 3.1.7
//
//   - With Quorum and Cmap together, libsam's server answers Start twice (once after
//     the quorum wait, once after setting the state), which shifts every later reply
//     by one; here Start is answered once.
//   - A child that ends while its Start waits for quorum counts as started here (a
//     failure); with Cmap libsam writes an answer to the dead child (SIGPIPE) instead.
//   - Switching the health check callback to nil after Start stops the event-driven
//     checks; libsam would call a NULL function.
//   - A negative interval is refused (ipc.CSErrInvalid); libsam's poll treats it as no
//     timeout.
//   - A server whose Register fails (ctx cancelled, a pipe or cmap error) kills its
//     child before returning; libsam's returns and leaves it running.
//   - DataStore refuses more than MaxDataSize bytes with ipc.CSErrNoMemory.
//   - There is no process-wide state: Initialize returns a handle, and the calls are its
//     methods.
package sam
