package executive

import evs "github.com/corosync-go/corosync/l3_evs"

// Engine is a service engine (corosync's corosync_service_engine).
type Engine interface {
	// ID is corosync's service id (CMAP_SERVICE 0, CFG_SERVICE 1, CPG_SERVICE 2, ...).
	ID() uint16
	// Name is the engine's long name as corosync logs it ("corosync configuration service").
	Name() string
}

// Deliverer is an engine that receives ordered messages. msg is valid only during the call.
type Deliverer interface {
	Deliver(sender evs.NodeID, msgID uint16, msg []byte)
}

// ConfChanger is an engine told of every configuration, transitional and regular, in EVS
// order with its messages.
type ConfChanger interface {
	ConfChg(c *evs.Configuration)
}

// Syncer is an engine that synchronises its state after every regular configuration.
// Its methods run on the executive's goroutine.
type Syncer interface {
	// SyncInit starts synchronisation for a new ring: trans are the members that came from
	// this node's previous ring, members the whole new ring.
	SyncInit(trans, members []evs.NodeID, ring evs.RingID)
	// SyncProcess sends what the engine must send and reports whether it is done; it is
	// called again after new deliveries while it says false.
	SyncProcess() bool
	// SyncActivate makes the synchronised state current: every member has finished.
	SyncActivate()
	// SyncAbort abandons a synchronisation cut short by a new configuration.
	SyncAbort()
}
