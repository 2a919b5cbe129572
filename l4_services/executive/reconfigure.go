package executive

import (
	"context"

	evs "github.com/corosync-go/corosync/l3_evs"
)

// Reconfigure applies new Totem timers and flow-control limits at run time (corosync's
// totempg_reconfigure after a totem.* key changes or a reload commits). cfg is checked at
// once; it is applied on the ring's goroutine at its next turn, so Reconfigure is safe from
// any goroutine, an engine's Deliver included, and never waits for the ring.
func (x *Executive) Reconfigure(cfg evs.TotemConfig) error {
	check := cfg
	if err := check.Validate(); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stopped {
		return ErrStopped
	}
	x.funcs = append(x.funcs, func() {
		if err := x.node.Reconfigure(cfg); err != nil {
			x.log.Error("Totem reconfiguration refused: " + err.Error())
		}
	})
	x.poke()
	return nil
}

// TotemConfig returns the Totem parameters in force, read on the ring's goroutine.
func (x *Executive) TotemConfig(ctx context.Context) (evs.TotemConfig, error) {
	var c evs.TotemConfig
	err := x.Do(ctx, func() { c = x.node.TotemConfig() })
	return c, err
}

// ForceGather makes the ring re-form at the ring's next turn (corosync's
// runtime.force_gather). Safe from any goroutine.
func (x *Executive) ForceGather() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stopped {
		return
	}
	x.funcs = append(x.funcs, x.node.ForceGather)
	x.poke()
}
