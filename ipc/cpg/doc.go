// Package cpg is the client library and wire format of corosync's closed process group
// service: processes join named groups, see each other join and leave, and multicast
// messages that every member receives in the same order. It is byte-compatible with
// corosync 3.1.7 (include/corosync/ipc_cpg.h, lib/cpg.c).
//
// The client side mirrors libcpg with the CPG_MODEL_V1 callbacks delivered on a channel:
//
//	c, err := cpg.Dial(ctx)
//	if err != nil { ... }
//	defer c.Close() // FINALIZE, then disconnect
//	if err := c.Join(ctx, "mygroup"); err != nil { ... }
//	go func() {
//		for ev := range c.Events() {
//			switch ev := ev.(type) {
//			case cpg.ConfChg: // ev.Members, ev.Left, ev.Joined (with reasons)
//			case cpg.Deliver: // ev.NodeID, ev.PID, ev.Msg
//			case cpg.TotemConfChg: // ev.RingID, ev.Members (node ids)
//			}
//		}
//	}()
//	err = c.Mcast(ctx, cpg.TypeAgreed, []byte("hello"))
//
// Messages longer than MaxAtomicMsgSize are sent as PARTIAL_MCAST fragments and
// reassembled on delivery, as libcpg does. Errors from the daemon are its cs_error_t codes
// as ipc.CS values, so errors.Is(err, ipc.CSErrExist) works.
//
// The wire half (the Req*/Res* ids, the request, response and event types with their
// Encode methods and Decode functions) serves both this client and the daemon's cpg
// engine. Decoders check every length and count and never panic.
package cpg
