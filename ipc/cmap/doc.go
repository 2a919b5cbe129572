// Package cmap is the client library and wire format of corosync's cmap service, the
// daemon's key-value map of configuration, runtime state and statistics, byte-compatible
// with corosync 3.1.7 (include/corosync/ipc_cmap.h, lib/cmap.c).
//
// The client side mirrors libcmap: Dial (cmap_initialize) or DialMap (cmap_initialize_map,
// for the statistics map), Get, Set, Delete, Inc, Dec, Iter, TrackAdd and TrackDelete,
// with typed values:
//
//	c, err := cmap.Dial(ctx)
//	if err != nil { ... }
//	defer c.Close()
//	name, err := c.Get(ctx, "totem.cluster_name") // name.String() == "mycluster"
//	err = c.Set(ctx, "mykeys.count", cmap.Uint32(7))
//	h, err := c.TrackAdd(ctx, "mykeys.", cmap.TrackAdd|cmap.TrackModify|cmap.TrackDelete|cmap.TrackPrefix)
//	for n := range c.Events() { fmt.Println(n.Event, n.Key, n.New, n.Old) }
//
// Errors from the daemon are its cs_error_t codes as ipc.CS values, so
// errors.Is(err, ipc.CSErrNotExist) works; limits libcmap checks before sending (key
// names over 255 bytes) and those the daemon enforces (values over 16 KiB) are checked
// here first and wrap the same codes.
//
// The wire half (the Req*/Res* ids, the *Request and *Response types with their Encode
// methods and Decode functions, NotifyCallback) serves both this client and the daemon's
// cmap engine. Decoders check every length and count and never panic.
package cmap
