package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/cfgsvc"
)

// cfgHost is the daemon as the cfg engine sees it.
type cfgHost daemon

func (h *cfgHost) d() *daemon { return (*daemon)(h) }

// Links implements cfgsvc.Host.
func (h *cfgHost) Links() []cfgsvc.Link {
	var out []cfgsvc.Link
	for _, ifs := range h.set.Interfaces {
		out = append(out, cfgsvc.Link{Number: ifs.Number, Local: ifs.Local.Addr()})
	}
	return out
}

// Nodes implements cfgsvc.Host.
func (h *cfgHost) Nodes() []uint32 { return h.d().nodeIDs() }

// NodeStatus implements cfgsvc.Host: this node is reachable over knet's loopback on every
// configured link; the others as the transport's heartbeats see them.
func (h *cfgHost) NodeStatus(node uint32) (cfg.NodeStatus, bool) {
	if !slices.Contains(h.d().nodeIDs(), node) {
		return cfg.NodeStatus{}, false
	}
	st := cfg.NodeStatus{NodeID: node}
	local := map[int]string{}
	for _, ifs := range h.set.Interfaces {
		local[ifs.Number] = addrOnly(ifs.Local)
	}
	if node == h.conf.nodeID {
		st.Reachable = true
		for n, a := range local {
			if n < cfg.MaxLinks {
				st.Links[n] = cfg.LinkStatus{Enabled: true, Connected: true, MTU: 65535, SrcAddr: a, DstAddr: a}
			}
		}
		return st, true
	}
	for _, ls := range h.tr.Stats().Links {
		if uint32(ls.Node) != node || ls.Link < 0 || ls.Link >= cfg.MaxLinks {
			continue
		}
		st.Links[ls.Link] = cfg.LinkStatus{
			Enabled: true, Connected: ls.Connected, MTU: uint32(ls.MTUBytes),
			SrcAddr: local[ls.Link], DstAddr: addrOnly(ls.Addr),
		}
		st.Reachable = st.Reachable || ls.Connected
	}
	return st, true
}

// NodeAddrs implements cfgsvc.Host.
func (h *cfgHost) NodeAddrs(node uint32) ([]netip.Addr, bool) {
	for _, n := range h.d().nodeTable() {
		if uint32(n.ID) != node {
			continue
		}
		var out []netip.Addr
		for _, a := range n.Addrs {
			if a.IsValid() {
				out = append(out, a.Addr())
			}
		}
		return out, true
	}
	return nil, false
}

// ReopenLogs implements cfgsvc.Host.
func (h *cfgHost) ReopenLogs() error { return h.logs.reopen() }

// Shutdown implements cfgsvc.Host.
func (h *cfgHost) Shutdown() { h.d().requestStop(stopShutdown) }

// Killed implements cfgsvc.Host.
func (h *cfgHost) Killed() { h.d().requestStop(stopKilled) }

// runtimeFixed are the keys corosync 3.1.7 refuses to change on reload (cfg.c's
// remove_ro_entries, built with knet crypto reconfiguration: crypto may change).
var runtimeFixed = []string{
	"totem.version", "totem.threads", "totem.ip_version", "totem.rrp_mode", "totem.netmtu",
	"totem.interface.ringnumber", "totem.interface.bindnetaddr", "totem.interface.mcastaddr",
	"totem.interface.broadcast", "totem.interface.mcastport", "totem.interface.ttl",
	"totem.transport", "totem.cluster_name", "quorum.provider", "system.move_to_root_cgroup",
	"system.allow_knet_handle_fallback", "system.sched_rr", "system.priority",
	"system.qb_ipc_type", "system.state_dir",
}

// reloadPrefixes are the sections a reload replaces (deleted keys are removed).
var reloadPrefixes = []string{"logging.", "totem.", "nodelist.", "quorum.", "uidgid.config.", "nozzle."}

// Reload implements cfgsvc.Host: corosync's message_handler_req_exec_cfg_reload_config.
// The map, the logging, the Totem timers and limits and the node list follow the new file
// (nodes are added to and removed from the transport); the keys corosync cannot change at
// run time keep their values, with corosync's log line.
func (h *cfgHost) Reload() (ipc.CS, bool) {
	d := h.d()
	m := d.m
	m.Set("config.totemconfig_reload_in_progress", cmap.Uint8(1))
	defer m.Set("config.totemconfig_reload_in_progress", cmap.Uint8(0))
	if d.conf.path == "" {
		m.Set("config.reload_status", cmap.Int32(int32(ipc.CSOk)))
		return ipc.CSOk, false // the embedded default never changes
	}
	l, err := load(context.Background(), d.conf.path, true)
	if err != nil {
		d.sub("CFG").Error("Unable to reload config file: " + err.Error())
		m.Set("config.reload_status", cmap.Int32(int32(ipc.CSErrInvalid)))
		return ipc.CSErrInvalid, false
	}
	m.Set("config.reload_in_progress", cmap.Uint8(1))
	next := l.values()
	for _, k := range runtimeFixed {
		old, err := m.Get(k)
		nv, ok := next[k]
		if (err == nil) != ok || (ok && !old.Equal(nv)) {
			if ok {
				d.sub("CFG").Log(context.Background(), levelNotice, fmt.Sprintf("Modified entry '%s' in corosync.conf cannot be changed at run-time", k))
			}
			if err == nil {
				next[k] = old
			} else {
				delete(next, k)
			}
		}
	}
	for _, p := range reloadPrefixes {
		for _, k := range m.Keys(p) {
			if _, ok := next[k.Key]; !ok && !slices.Contains(runtimeFixed, k.Key) {
				m.Delete(k.Key)
			}
		}
	}
	var failed error
	for k, v := range next {
		if err := m.Set(k, v); err != nil && failed == nil {
			failed = err
		}
	}
	cs := ipc.CSOk
	if failed != nil {
		d.sub("CFG").Error("Error making new config live. cmap database may be inconsistent")
		cs = ipc.CSErrLibrary
	}
	if err := d.logs.configure(text(m)); err != nil {
		d.sub("CFG").Error("Configuration is not valid: " + err.Error())
	}
	cryptoLoaded := false
	if set, err := d.applyTotem(); err != nil {
		d.sub("CFG").Error(err.Error())
		cs = ipc.CSErrInvalid
	} else if cryptoLoaded, err = d.reloadCrypto(set, text(m)["totem.transport"]); err != nil {
		d.sub("CFG").Error(err.Error())
		cs = ipc.CSErrInvalid
	}
	m.Set("config.reload_status", cmap.Int32(int32(cs)))
	m.Set("config.reload_in_progress", cmap.Uint8(0))
	return cs, cryptoLoaded
}

// CryptoPhase implements cfgsvc.Host.
func (h *cfgHost) CryptoPhase(p cfgsvc.CryptoPhase) { h.d().cryptoPhase(p) }

var _ cfgsvc.Host = (*cfgHost)(nil)
