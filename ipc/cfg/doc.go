// Package cfg is the client library and wire format of corosync's cfg service, the
// daemon's administration interface, byte-compatible with corosync 3.1.7
// (include/corosync/ipc_cfg.h, lib/cfg.c): local node id, node and link status, node
// addresses, killing a node, coordinated shutdown, configuration reload and log reopening.
//
//	c, err := cfg.Dial(ctx)
//	if err != nil { ... }
//	defer c.Close()
//	id, err := c.LocalNodeID(ctx)
//	st, err := c.NodeStatus(ctx, id) // st.Links[0].Connected ...
//	err = c.ReloadConfig(ctx)
//
// Shutdown is negotiated: clients that called TrackStart receive a ShutdownEvent on
// Events when another client calls TryShutdown, and answer with ReplyToShutdown.
//
// Errors from the daemon are its cs_error_t codes as ipc.CS values, so
// errors.Is(err, ipc.CSErrNotExist) works.
//
// The wire half (Req*/Res* ids, request and response types with Encode methods and Decode
// functions, the TestShutdown event) serves both this client and the daemon's cfg engine.
// Decoders check every length and count and never panic.
package cfg
