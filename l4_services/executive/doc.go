// Package executive runs one node of the cluster: it drives the EVS node (l3) in one
// goroutine, feeds it packets from the transport and time, hands ordered messages and
// configurations to the service engines, and runs corosync's synchronisation protocol after
// every regular configuration. It is what corosync's main.c, totempg.c and sync.c do.
//
// # Engines
//
// An Engine has corosync's service id and name. It receives, on the executive's goroutine
// and in the cluster's total order, the messages sent to its id (Deliverer) and every
// configuration change (ConfChanger). An engine that keeps cluster-wide state takes part in
// synchronisation (Syncer): after every regular configuration the executive calls every
// SyncInit, then, service by service in id order, SyncProcess until it reports done, then
// multicasts a barrier; when every member's barrier has been delivered it calls SyncActivate
// and moves to the next service. A new configuration before the end calls SyncAbort on the
// service in progress and starts again. When all are active the executive logs corosync's
// "Completed service synchronization, ready to provide service." and closes Ready.
//
// Engines send with an Endpoint, from any goroutine. Each message carries a 16-bit message
// id (corosync's exec message id) so that the executive can count messages per id as
// corosync's runtime.services.<name>.<id>.rx/tx keys do.
//
// # Concurrency
//
// Everything that touches the EVS node and the engines' delivery callbacks runs on the
// goroutine of Run. Receive, Submit, Do and Leave may be called from any goroutine: they
// queue work and wake the loop. IPC handlers run on the IPC server's goroutines, so an engine
// guards the state it shares between both with its own lock.
package executive
