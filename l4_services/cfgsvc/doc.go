// Package cfgsvc is the cfg service engine (corosync 3.1.7's exec/cfg.c): link and node
// status, local node id and node addresses, killing a node, shutdown with the tracking
// clients' veto, cluster-wide configuration reload and reopening the log files, served
// over IPC to libcfg and corosync-cfgtool.
//
// Cluster-wide operations travel as ordered messages through the executive (service id
// 1): kill node and shutdown as safe messages, as corosync sends them, and reload as a
// safe message that every node applies in the same place in the total order. What the
// engine needs from the daemon (the transport's view of nodes and links, reloading,
// leaving, exiting) comes through the Host interface.
package cfgsvc
