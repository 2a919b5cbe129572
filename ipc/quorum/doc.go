// Package quorum is the client library and wire format of corosync's quorum service,
// byte-compatible with corosync 3.1.7 (include/corosync/ipc_quorum.h, lib/quorum.c,
// exec/vsf_quorum.c): whether the node is quorate, the quorum type, and notifications of
// quorum and membership changes.
//
//	c, err := quorum.Dial(ctx) // model V1, like quorum_model_initialize
//	if err != nil { ... }
//	defer c.Close()
//	fmt.Println(c.Type() == quorum.TypeSet) // a quorum provider is configured
//	ok, err := c.Getquorate(ctx)
//	err = c.TrackStart(ctx, quorum.TrackChanges) // current state now, then changes
//	for ev := range c.Events() {
//		switch ev := ev.(type) {
//		case quorum.Quorum:   // ev.Quorate, ev.RingID, ev.Members
//		case quorum.Nodelist: // ev.Members, ev.Joined, ev.Left
//		}
//	}
//
// Errors from the daemon are its cs_error_t codes as ipc.CS values, so
// errors.Is(err, ipc.CSErrExist) works.
//
// The wire half (Req*/Res* ids, request, response and notification types with Encode
// methods and Decode functions) serves both this client and the daemon's quorum engine.
// Decoders check every length and count and never panic.
package quorum
