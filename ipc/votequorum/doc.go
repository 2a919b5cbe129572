// Package votequorum is the client library and wire format of corosync's votequorum
// service, byte-compatible with corosync 3.1.7 (include/corosync/ipc_votequorum.h,
// lib/votequorum.c, exec/votequorum.c): votes, expected votes and quorum of the cluster
// and its nodes, their notifications, and the quorum device (qdevice) interface.
//
//	c, err := votequorum.Dial(ctx)
//	if err != nil { ... }
//	defer c.Close()
//	info, err := c.Info(ctx, 0) // 0: the local node
//	quorate := info.Flags&votequorum.InfoQuorate != 0
//	err = c.TrackStart(ctx, votequorum.TrackChanges, 0)
//	for ev := range c.Events() {
//		switch ev := ev.(type) {
//		case votequorum.Nodelist:      // ev.RingID, ev.Members
//		case votequorum.Quorum:        // ev.Quorate, ev.Nodes
//		case votequorum.ExpectedVotes: // ev.ExpectedVotes
//		}
//	}
//
// A quorum device registers with QdeviceRegister, then calls QdevicePoll with the current
// ring id (from the latest Nodelist event) more often than quorum.device.timeout.
//
// Errors from the daemon are its cs_error_t codes as ipc.CS values, so
// errors.Is(err, ipc.CSErrNotExist) works.
//
// The wire half (Req*/Res* ids, request, response and notification types with Encode
// methods and Decode functions) serves both this client and the daemon's votequorum
// engine. Decoders check every length and count and never panic.
package votequorum
