package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/quorum"
	vq "github.com/corosync-go/corosync/ipc/votequorum"
	"github.com/corosync-go/corosync/l4_services/executive"
	"github.com/corosync-go/corosync/l4_services/quorumsvc"
	"github.com/corosync-go/corosync/l4_services/rtkeys"
	"github.com/corosync-go/corosync/l4_services/votequorum"
)

// quorumParts are the quorum engine, always loaded (corosync's corosync_quorum), and
// votequorum when quorum.provider names it.
type quorumParts struct {
	provider string
	svc      *quorumsvc.Service
	vq       *votequorum.Engine
}

// votequorumLeaveWait bounds how long a graceful stop waits for its leaving nodeinfo
// (allow_downscale) to go round the ring.
const votequorumLeaveWait = time.Second

// newQuorum creates the quorum engines from quorum.provider.
func (d *daemon) newQuorum() error {
	provider := text(d.m)["quorum.provider"]
	q := &quorumParts{provider: provider, svc: quorumsvc.New(quorumsvc.Config{Provider: provider, Log: d.log})}
	switch provider {
	case "":
	case "corosync_votequorum":
		q.vq = votequorum.New(votequorum.Config{
			NodeID: d.conf.nodeID, Map: d.m, StateDir: d.conf.stateDir, Log: d.log,
			SetQuorum: func(members []uint32, quorate bool, ring vq.RingID) {
				q.svc.SetQuorum(members, quorate, quorum.RingID{NodeID: ring.NodeID, Seq: ring.Seq})
			},
		})
	default:
		// corosync_ykd is not implemented here.
		d.sub("QUORUM").Log(context.Background(), levelNotice, "Using quorum provider "+provider)
		d.sub("QUORUM").Error(fmt.Sprintf("Quorum provider: %s failed to initialize.", provider))
		return fmt.Errorf("parse error in config: Invalid quorum provider")
	}
	d.quorum = q
	return nil
}

// quorumEngines are the engines for executive.New.
func (d *daemon) quorumEngines() []executive.Engine {
	out := []executive.Engine{d.quorum.svc}
	if d.quorum.vq != nil {
		out = append(out, d.quorum.vq)
	}
	return out
}

// initQuorum binds votequorum to the ring, reads its configuration (which can refuse to
// start, as votequorum_exec_init_fn does) and follows quorum.* changes.
func (d *daemon) initQuorum(ctx context.Context) error {
	q := d.quorum
	if q.vq == nil {
		return nil
	}
	d.sub("QUORUM").Log(ctx, levelNotice, "Using quorum provider "+q.provider)
	q.vq.Bind(d.x.Endpoint(votequorum.ServiceID))
	if err := q.vq.Init(); err != nil {
		d.sub("QUORUM").Error(fmt.Sprintf("Quorum provider: %s failed to initialize.", q.provider))
		return fmt.Errorf("parse error in config: %w", err)
	}
	return q.vq.Start(ctx)
}

// startQuorum starts the quorum engines after the others, as corosync loads
// corosync_quorum last: votequorum reads its configuration, then its IPC service and the
// quorum service's listen, in that order (the quorum engine loads votequorum).
func (d *daemon) startQuorum(ctx, ipcCtx context.Context) error {
	if err := d.initQuorum(ctx); err != nil {
		return err
	}
	var svcs []ipc.Service
	if d.quorum.vq != nil {
		svcs = append(svcs, glue(d.quorum.vq.IPC(), d.x))
	}
	return d.serveIPC(ctx, ipcCtx, append(svcs, glue(d.quorum.svc.IPC(), d.x))...)
}

// services are the loaded engines as rtkeys names them.
func (d *daemon) services() []rtkeys.Service {
	out := slices.Clone(loadedServices)
	if d.quorum == nil {
		return out
	}
	out = append(out, rtkeys.Service{ID: quorumsvc.ServiceID, Short: "quorum"})
	if d.quorum.vq != nil {
		out = append(out, rtkeys.Service{ID: votequorum.ServiceID, Short: "votequorum", MsgIDs: 4})
	}
	return out
}

// leaveQuorum runs votequorum's exit (with allow_downscale, the others learn this node
// leaves) before the ring is left.
func (d *daemon) leaveQuorum() {
	if d.quorum == nil || d.quorum.vq == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), votequorumLeaveWait)
	defer cancel()
	d.quorum.vq.Leave(ctx)
}

// quorumUnloaded are the unload lines' engine names, in 3.1.7's order: votequorum is
// unloaded first, quorum after the other IPC services.
func (d *daemon) quorumUnloaded() (first, later []string) {
	if d.quorum == nil {
		return nil, nil
	}
	if d.quorum.vq != nil {
		first = append(first, votequorum.Name)
	}
	return first, []string{quorumsvc.Name}
}
