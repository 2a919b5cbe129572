package evs

// Reconfigure replaces the Totem timers and flow-control limits at run time; see
// totem.Node.Reconfigure for what may change. The message size bound stays as started.
func (n *Node) Reconfigure(cfg TotemConfig) error {
	if err := n.srp.Reconfigure(cfg); err != nil {
		return err
	}
	n.cfg.Totem = n.srp.Config()
	return nil
}

// TotemConfig returns the Totem parameters in force.
func (n *Node) TotemConfig() TotemConfig { return n.srp.Config() }

// ForceGather makes the ring re-form; see totem.Node.ForceGather.
func (n *Node) ForceGather() { n.srp.ForceGather() }
