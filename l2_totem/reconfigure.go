package totem

import "fmt"

// Reconfigure replaces the node's timers and flow-control limits at run time, as corosync
// does when totem.* keys change in cmap or a configuration reload commits them
// (totempg_reconfigure). cfg must pass Validate. NodeID, Incarnation and the buffer bounds
// (FrameBytesMax, PendingFramesMax, WindowFramesMax) size state that already exists, so
// they keep their start-up values; a cfg that changes them is refused.
//
// Timers already armed keep their deadlines; each new one uses the new values, so a longer
// token timeout takes effect at the next token, as in corosync.
func (n *Node) Reconfigure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	old := n.cfg
	switch {
	case cfg.NodeID != old.NodeID:
		return fmt.Errorf("totem: nodeid cannot change at run time (%d → %d)", old.NodeID, cfg.NodeID)
	case cfg.FrameBytesMax != old.FrameBytesMax:
		return fmt.Errorf("totem: frame size cannot change at run time (%d → %d)", old.FrameBytesMax, cfg.FrameBytesMax)
	case cfg.PendingFramesMax != old.PendingFramesMax:
		return fmt.Errorf("totem: pending frame bound cannot change at run time (%d → %d)", old.PendingFramesMax, cfg.PendingFramesMax)
	case cfg.WindowFramesMax != old.WindowFramesMax:
		return fmt.Errorf("totem: window frame bound cannot change at run time (%d → %d)", old.WindowFramesMax, cfg.WindowFramesMax)
	}
	cfg.Incarnation = old.Incarnation
	n.cfg = cfg
	n.token = cfg.EffectiveTokenTimeout()
	return nil
}

// Config returns the parameters in force.
func (n *Node) Config() Config { return n.cfg }

// ForceGather makes the node leave the operational state and gather again with the members
// it knows, as corosync's runtime.force_gather does: the ring re-forms under a new ring id.
func (n *Node) ForceGather() {
	if n.stopped {
		return
	}
	n.enterGather("forced by user", true)
}
