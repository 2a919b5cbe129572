package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
	"github.com/corosync-go/corosync/ipc/cmap"
)

// cfgAPI is what the tool asks of the cfg service (*cfg.Client), an interface so tests can
// stand in for the daemon.
type cfgAPI interface {
	LocalNodeID(ctx context.Context) (uint32, error)
	NodeStatus(ctx context.Context, nodeID uint32) (cfg.NodeStatus, error)
	NodeAddrs(ctx context.Context, nodeID uint32) ([]netip.Addr, error)
	KillNode(ctx context.Context, nodeID uint32, reason string) error
	TryShutdown(ctx context.Context, flags cfg.ShutdownFlags) error
	ReloadConfig(ctx context.Context) error
	ReopenLogFiles(ctx context.Context) error
	Close() error
}

// cmapAPI is what the tool asks of the cmap service (*cmap.Client).
type cmapAPI interface {
	Get(ctx context.Context, key string) (cmap.Value, error)
	Iter(ctx context.Context, prefix string) ([]cmap.Entry, error)
	Close() error
}

// transportKind is the totem transport as corosync-cfgtool tells them apart.
type transportKind int

const (
	transportKnet transportKind = iota
	transportUDPU
	transportUDP
)

// clusterView is what -s and -n print before asking for node statuses: the local node,
// the transport and the configured nodes.
type clusterView struct {
	LocalID uint32
	// Transport is totem.transport as printed in the header ("knet" when unset).
	Transport string
	Kind      transportKind
	// LinkTransport is each link's transport name: "udp" under knet unless
	// totem.interface.<link>.knet_transport says otherwise, "" under udp and udpu.
	LinkTransport [cfg.MaxLinks]string
	// NodeIDs are the nodelist's ids, in increasing order (duplicates kept).
	NodeIDs []uint32
}

// nodeResult is one node's status answer: Status is the zero value when Err is not
// CS_OK, as libcfg leaves the caller's zeroed buffer alone then.
type nodeResult struct {
	ID     uint32 // the id asked for
	Status cfg.NodeStatus
	Err    ipc.CS
}

// exitError ends the tool with Msg on stderr and Code as exit status.
type exitError struct {
	Msg  string
	Code int
}

func (e *exitError) Error() string { return e.Msg }

// gatherView reads what corosync-cfgtool 3.1.7 reads before printing -s or -n: the
// transport, the local node id, the nodelist's node ids and the links' knet transports.
func gatherView(ctx context.Context, cf cfgAPI, cm cmapAPI) (clusterView, *exitError) {
	v := clusterView{Transport: "knet", Kind: transportKnet}
	if t, err := cm.Get(ctx, transportKey); err == nil && t.Type() == cmap.TypeString {
		v.Transport = t.String()
		switch v.Transport {
		case "udpu":
			v.Kind = transportUDPU
		case "udp":
			v.Kind = transportUDP
		}
	}
	local, err := cf.LocalNodeID(ctx)
	if err != nil {
		return v, &exitError{fmt.Sprintf("Could not get the local node id, the error is: %d\n", int(errCS(err))), 1}
	}
	v.LocalID = local
	entries, err := cm.Iter(ctx, nodelistPrefix)
	if err != nil {
		return v, &exitError{fmt.Sprintf("Could not get nodelist from cmap. error %d\n", int(errCS(err))), 1}
	}
	for _, e := range entries {
		if !isNodeIDKey(e.Key) {
			continue
		}
		// cmap_get_uint32 takes only a value of type uint32.
		if id, err := cm.Get(ctx, e.Key); err == nil && id.Type() == cmap.TypeUint32 {
			v.NodeIDs = append(v.NodeIDs, id.Uint32())
		}
	}
	if len(v.NodeIDs) == 0 {
		return v, &exitError{"No nodes found in nodelist\n", 1}
	}
	slices.Sort(v.NodeIDs)
	for i := range v.LinkTransport {
		if v.Kind == transportKnet {
			v.LinkTransport[i] = "udp"
		}
	}
	v.LinkTransport = linkTransports(ctx, cm, v.LinkTransport)
	return v, nil
}

// linkTransports overrides the default link transports with the
// totem.interface.<link>.knet_transport strings of the links that have interface keys.
// Failures keep the defaults, as in corosync-cfgtool.
func linkTransports(ctx context.Context, cm cmapAPI, lt [cfg.MaxLinks]string) [cfg.MaxLinks]string {
	entries, err := cm.Iter(ctx, interfacePrefix)
	if err != nil {
		return lt
	}
	var seen [cfg.MaxLinks]bool
	for _, e := range entries {
		link, ok := interfaceLink(e.Key)
		// corosync-cfgtool would write past its array for a link number beyond the last.
		if !ok || link >= cfg.MaxLinks || seen[link] {
			continue
		}
		seen[link] = true
		if t, err := cm.Get(ctx, transportKeyOf(link)); err == nil && t.Type() == cmap.TypeString {
			lt[link] = t.String()
		}
	}
	return lt
}

// nodeStatuses asks for each node's status, in the view's order.
func nodeStatuses(ctx context.Context, cf cfgAPI, ids []uint32) []nodeResult {
	res := make([]nodeResult, len(ids))
	for i, id := range ids {
		st, err := cf.NodeStatus(ctx, id)
		res[i] = nodeResult{ID: id, Err: errCS(err)}
		if err == nil {
			res[i].Status = st
		}
	}
	return res
}
