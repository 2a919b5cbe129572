// Package votequorum is corosync 3.1.7's vote quorum service engine (service id 5,
// exec/votequorum.c) and its IPC service "votequorum", which Debian's libvotequorum and
// corosync-quorumtool use.
//
// Every node announces its votes, expected votes and flags in NODEINFO messages, in the
// cluster's total order, at start and during every synchronisation; each node computes
// the same quorum from them: quorum = max((highest expected + 2) / 2, (total votes + 2) /
// 2), never decreasing unless an administrator or a leaving node allows it. On top of it
// run two_node, wait_for_all, last_man_standing (with its window), auto_tie_breaker
// (lowest, highest or a list), allow_downscale with expected_votes_tracking (the
// ev_tracking file in the state directory), and the quorum device calls. RECONFIGURE
// messages carry setexpected, setvotes and cancel_wait_for_all.
//
// The state machine (core) mirrors votequorum.c's functions one for one and does no I/O
// of its own but the ev_tracking file and runtime.votequorum.* keys; its effects (sends,
// timers, the quorum callback) go through an interface, so tests drive it directly. The
// Engine adds the lock, timers, icmap tracking and the IPC service.
package votequorum
