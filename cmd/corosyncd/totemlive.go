package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/corosync-go/corosync/ipc/cmap"
	transport "github.com/corosync-go/corosync/l1_transport"
	"github.com/corosync-go/corosync/l4_services/config"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// onChange runs fn on a goroutine of its own after keys under prefix change: icmap calls
// trackers in order on the writer's goroutine, where writing the map again would wait on
// itself. Changes that come while fn runs make it run once more.
func (d *daemon) onChange(ctx context.Context, prefix string, flags icmap.Event, fn func()) {
	changed := make(chan struct{}, 1)
	_, err := d.m.Track(prefix, flags, func(icmap.Event, string, icmap.Value, icmap.Value) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	if err != nil {
		d.log.Error("cannot track "+prefix, "err", err)
		return
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				fn()
			}
		}
	}()
}

// trackTotem applies totem.* keys changed at run time (corosync-cmapctl -s totem.token u32
// 5000), as corosync's totem_change_notify does: the effective values are derived again into
// runtime.config.totem.* and the ring takes them. A full reload applies its own changes.
// Where corosync logs an invalid value and keeps it, we log it and keep the values in force.
func (d *daemon) trackTotem(ctx context.Context) {
	d.onChange(ctx, "totem.", icmap.Add|icmap.Modify|icmap.Delete|icmap.Prefix, func() {
		if v, err := d.m.Get("config.reload_in_progress"); err == nil && v.Type() == cmap.TypeUint8 && v.Uint8() == 1 {
			return
		}
		live := map[string]icmap.Value{}
		for _, k := range d.m.Keys("") {
			if v, err := d.m.Get(k.Key); err == nil {
				live[k.Key] = v
			}
		}
		derived, err := config.Derive(ctx, config.FromMap("(cmap)", live), config.SystemHost())
		if err != nil {
			msg := err.Error()
			if ve, ok := errors.AsType[*config.ValidationError](err); ok {
				msg = ve.Msg // the map has no file and line to show
			}
			d.sub("TOTEM").Error("parse error in config: " + msg)
			return
		}
		for _, e := range derived {
			if strings.HasPrefix(e.Key, "runtime.config.totem.") {
				d.m.Set(e.Key, e.Value.ICMAP())
			}
		}
		d.sub("TOTEM").Debug("Totem related config key changed. Dumping actual totem config.")
		if _, err := d.applyTotem(); err != nil {
			d.sub("TOTEM").Error(err.Error())
		}
	})
}

// trackForceGather acts on runtime.force_gather as corosync's force_gather_notify_fn does:
// any value but "no" is reset to "no" and the ring re-forms.
func (d *daemon) trackForceGather(ctx context.Context) {
	d.onChange(ctx, "runtime.force_gather", icmap.Add|icmap.Modify|icmap.Delete, func() {
		if v, err := d.m.Get("runtime.force_gather"); err == nil && v.Type() == cmap.TypeString && v.String() == "no" {
			return
		}
		d.m.Set("runtime.force_gather", cmap.String("no"))
		d.sub("MAIN").Error("Forcing into GATHER state")
		d.x.ForceGather()
	})
}

// applyTotem hands the values in force (runtime.config.totem.*, the nodelist, the knet link
// priorities and heartbeat timers) to the ring and the transport: corosync's
// totempg_put_config and totemconfig_commit_new_params. It returns the transport settings
// it applied.
func (d *daemon) applyTotem() (*transport.Settings, error) {
	next := totemConfig(d.m, d.conf.nodeID)
	// Buffer sizes and the incarnation belong to the running ring.
	next.Incarnation = d.totem.Incarnation
	next.FrameBytesMax, next.PendingFramesMax, next.WindowFramesMax = d.totem.FrameBytesMax, d.totem.PendingFramesMax, d.totem.WindowFramesMax
	if err := d.x.Reconfigure(next); err != nil {
		return nil, fmt.Errorf("Configuration is not valid: %w", err)
	}
	set, err := transport.FromKeys(text(d.m), transport.NodeID(d.conf.nodeID), transport.LookupHost)
	if err != nil {
		return nil, fmt.Errorf("Cannot configure new interface definitions: %w", err)
	}
	added, removed, err := d.tr.SetNodes(set.Config.Nodes)
	if err != nil {
		return nil, fmt.Errorf("Cannot configure new interface definitions: %w", err)
	}
	if err := d.tr.Retune(set); err != nil {
		return nil, fmt.Errorf("Cannot configure new interface definitions: %w", err)
	}
	nodes := slices.Clone(set.Config.Nodes)
	d.nodes.Store(&nodes)
	if len(added)+len(removed) > 0 {
		d.cmap.StatsKeysChanged() // the stats.knet.node<id> keys came or went
	}
	for _, id := range added {
		d.sub("TOTEM").Info(fmt.Sprintf("Node %d added to the node list", id))
	}
	for _, id := range removed {
		d.sub("TOTEM").Info(fmt.Sprintf("Node %d removed from the node list", id))
	}
	return set, nil
}

// nodeTable is the node list in force.
func (d *daemon) nodeTable() []transport.Node { return *d.nodes.Load() }
