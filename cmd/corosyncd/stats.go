package main

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/executive"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// statsSource is the stats map (corosync-cmapctl -m stats): the keys corosync 3.1.7 has,
// computed from the ring's, the transport's and the IPC server's counters when read.
type statsSource struct {
	d *daemon

	// What a clear (corosync-cmapctl -C) left as the new zero of counters that cannot be
	// reset at their source: the ring's and the closed IPC connections.
	mu         sync.Mutex
	srpBase    map[string]uint64
	closedBase int64
}

// snapshotTimeout bounds a stats read waiting for the ring's goroutine.
const snapshotTimeout = time.Second

// wants reports whether keys under root can start with prefix (or prefix is under root):
// only those families are computed, so a GET of one knet key does not wait for a ring
// snapshot.
func wants(prefix, root string) bool {
	return strings.HasPrefix(root, prefix) || strings.HasPrefix(prefix, root)
}

// collect computes the keys of the families that prefix can match.
func (s *statsSource) collect(prefix string) map[string]icmap.Value {
	out := map[string]icmap.Value{}
	if wants(prefix, "stats.srp.") || wants(prefix, "stats.pg.") {
		s.ring(out)
	}
	if wants(prefix, "stats.knet.") {
		s.knet(out)
	}
	if wants(prefix, "stats.ipcs.") {
		s.ipcs(out)
	}
	if wants(prefix, "stats.schedmiss.") && s.d.sched != nil {
		s.d.sched.keys(out)
	}
	return out
}

// ring adds the ring's counters under corosync's stats.srp names and totempg's queue
// figures under stats.pg: msg_queue_avail is the ring's free send-queue entries now
// (corosync records it only when a flow-controlled sender checks it, so with cmap alone
// it shows 0), msg_reserved is totempg's base reservation of one plus what running IPC
// handlers reserved (2 while a cmap request reads it, as in corosync).
func (s *statsSource) ring(out map[string]icmap.Value) {
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	snap, err := s.d.x.Snapshot(ctx)
	if err != nil {
		return
	}
	out["stats.pg.msg_queue_avail"] = cmap.Uint32(uint32(snap.MsgQueueAvail))
	out["stats.pg.msg_reserved"] = cmap.Uint32(uint32(snap.MsgReserved))
	s.mu.Lock()
	for k, v := range srpCounters(snap) {
		out["stats.srp."+k] = cmap.Uint64(v - min(v, s.srpBase[k]))
	}
	s.mu.Unlock()
	for k, v := range srpGauges(snap, s.d.tr.ContinuousSendFailures()) {
		out["stats.srp."+k] = v
	}
}

// Thresholds past which corosync 3.1.7 warns that the ring cannot form (totem.h's
// MAX_NO_CONT_GATHER and MAX_NO_CONT_SENDMSG_FAILURES).
const (
	maxContinuousGather       = 3
	maxContinuousSendFailures = 30
)

// srpGauges are the stats.srp values that describe the ring now rather than count events:
// the token timing averages, the runs of gather restarts and send failures, and the flag
// they raise. A clear (-C totem) does not reset them; they follow the ring.
func srpGauges(snap executive.Snapshot, sendFailures uint64) map[string]icmap.Value {
	tt := snap.Token
	gather := snap.Totem.ContinuousGather
	flag := uint8(0)
	if gather > maxContinuousGather || sendFailures > maxContinuousSendFailures {
		flag = 1
	}
	return map[string]icmap.Value{
		"mtt_rx_token":                    cmap.Uint32(uint32(tt.MeanRotation.Milliseconds())),
		"avg_token_workload":              cmap.Uint32(uint32(tt.MeanHold.Milliseconds())),
		"avg_backlog_calc":                cmap.Uint32(tt.MeanBacklog),
		"time_since_token_last_received":  cmap.Uint64(uint64(tt.SinceLastToken.Milliseconds())),
		"continuous_gather":               cmap.Uint32(uint32(min(gather, 1<<32-1))),
		"continuous_sendmsg_failures":     cmap.Uint32(uint32(min(sendFailures, 1<<32-1))),
		"firewall_enabled_or_nic_failure": cmap.Uint8(flag),
	}
}

// srpCounters are the ring's u64 counters by their stats.srp name.
func srpCounters(snap executive.Snapshot) map[string]uint64 {
	t := snap.Totem
	return map[string]uint64{
		"orf_token_tx": t.OrfTokenTx, "orf_token_rx": t.OrfTokenRx,
		"memb_merge_detect_tx": t.MergeDetectTx, "memb_merge_detect_rx": t.MergeDetectRx,
		"memb_join_tx": t.MembJoinTx, "memb_join_rx": t.MembJoinRx,
		"mcast_tx": t.McastTx, "mcast_retx": t.McastRetx, "mcast_rx": t.McastRx,
		"memb_commit_token_tx": t.CommitTokenTx, "memb_commit_token_rx": t.CommitTokenRx,
		"token_hold_cancel_tx": t.TokenHoldCancelTx, "token_hold_cancel_rx": t.CancelRx,
		"operational_entered": t.OperationalEntered, "operational_token_lost": t.TokenLosses,
		"gather_entered": t.GatherEntered, "gather_token_lost": t.GatherTokenLost,
		"commit_entered": t.CommitEntered, "commit_token_lost": t.CommitTokenLost,
		"recovery_entered": t.RecoveryEntered, "recovery_token_lost": t.RecoveryTokenLost,
		"consensus_timeouts": t.ConsensusTimeouts, "rx_msg_dropped": t.RxDropped + t.DecodeErrors,
	}
}

// ClearStats implements cmapsvc.StatsClearer: corosync-cmapctl -C knet|ipc|totem|
// schedmiss|all. knet and the connections' counters are reset where they are kept; the
// ring's counters and the closed-connection count start again from their current values.
// Unlike corosync, stats.ipcs.global.active stays the number of connections open (corosync
// zeroes it and lets later closes wrap it around).
func (s *statsSource) ClearStats(what string) error {
	all := what == "all"
	if all || what == "knet" {
		s.d.tr.ClearStats()
	}
	if all || what == "ipc" {
		s.d.srv.ClearConnectionStats()
		st := s.d.srv.Stats()
		s.mu.Lock()
		s.closedBase = max(0, st.Accepted-st.Active)
		s.mu.Unlock()
	}
	if all || what == "totem" {
		ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
		defer cancel()
		snap, err := s.d.x.Snapshot(ctx)
		if err != nil {
			return ipc.CSErrTryAgain
		}
		s.mu.Lock()
		s.srpBase = srpCounters(snap)
		s.mu.Unlock()
	}
	if (all || what == "schedmiss") && s.d.sched != nil {
		s.d.sched.clear()
	}
	return nil
}

// Keys implements cmapsvc.StatsSource.
func (s *statsSource) Keys(prefix string) []icmap.KeyInfo {
	var out []icmap.KeyInfo
	for k, v := range s.collect(prefix) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, icmap.KeyInfo{Key: k, Type: v.Type(), Bytes: v.Len()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Get implements cmapsvc.StatsSource.
func (s *statsSource) Get(key string) (icmap.Value, error) {
	if !strings.HasPrefix(key, "stats.") {
		return icmap.Value{}, ipc.CSErrNotExist
	}
	v, ok := s.collect(key)[key]
	if !ok {
		return icmap.Value{}, ipc.CSErrNotExist
	}
	return v, nil
}

// ringHealthPeriod is how often the ring's health is checked (corosync's stats updater
// runs every 1.5 s).
const ringHealthPeriod = 1500 * time.Millisecond

// watchRingHealth logs corosync's warning, every period while it holds, when the ring keeps
// failing to form or the links keep refusing packets.
func (d *daemon) watchRingHealth(ctx context.Context) {
	t := time.NewTicker(ringHealthPeriod)
	defer t.Stop()
	log := d.sub("MAIN")
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		snap, err := d.x.Snapshot(ctx)
		if err != nil {
			continue
		}
		if reason := ringFault(snap.Totem.ContinuousGather, d.tr.ContinuousSendFailures()); reason != "" {
			log.Warn("Totem is unable to form a cluster because of an operating system or network fault (reason: " + reason + "). The most common cause of this message is that the local firewall is configured improperly.")
		}
	}
}

// ringFault names the fault corosync 3.1.7 reports for these runs, or "" for none.
func ringFault(continuousGather, sendFailures uint64) string {
	switch {
	case continuousGather > maxContinuousGather:
		return "totem is continuously in gather state"
	case sendFailures > maxContinuousSendFailures:
		return "number of multicast sendmsg failures is above threshold"
	}
	return ""
}
