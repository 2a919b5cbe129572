package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// statsSource is the stats map (corosync-cmapctl -m stats): the keys corosync 3.1.7 has,
// computed from the ring's, the transport's and the IPC server's counters when read.
type statsSource struct{ d *daemon }

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
	if wants(prefix, "stats.srp.") {
		s.srp(out)
	}
	if wants(prefix, "stats.knet.") {
		s.knet(out)
	}
	if wants(prefix, "stats.ipcs.") {
		ipcStats := s.d.srv.Stats()
		out["stats.ipcs.global.active"] = cmap.Uint64(uint64(ipcStats.Active))
		out["stats.ipcs.global.closed"] = cmap.Uint64(uint64(max(0, ipcStats.Accepted-ipcStats.Active)))
	}
	return out
}

// srp adds the ring's counters under corosync's stats.srp names.
func (s *statsSource) srp(out map[string]icmap.Value) {
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	snap, err := s.d.x.Snapshot(ctx)
	if err != nil {
		return
	}
	t := snap.Totem
	u64 := map[string]uint64{
		"orf_token_tx": t.OrfTokenTx, "orf_token_rx": t.OrfTokenRx,
		"memb_merge_detect_tx": t.MergeDetectTx, "memb_merge_detect_rx": t.MergeDetectRx,
		"memb_join_tx": t.MembJoinTx, "memb_join_rx": t.MembJoinRx,
		"mcast_tx": t.McastTx, "mcast_retx": t.McastRetx, "mcast_rx": t.McastRx,
		"memb_commit_token_tx": t.CommitTokenTx, "memb_commit_token_rx": t.CommitTokenRx,
		"token_hold_cancel_tx": t.TokenHoldCancelTx, "token_hold_cancel_rx": t.CancelRx,
		"operational_entered": t.OperationalEntered, "operational_token_lost": t.TokenLosses,
		"gather_entered": t.GatherEntered, "gather_token_lost": 0,
		"commit_entered": t.CommitEntered, "commit_token_lost": 0,
		"recovery_entered": t.RecoveryEntered, "recovery_token_lost": 0,
		"consensus_timeouts": t.ConsensusTimeouts, "rx_msg_dropped": t.RxDropped + t.DecodeErrors,
		"time_since_token_last_received": 0,
	}
	for k, v := range u64 {
		out["stats.srp."+k] = cmap.Uint64(v)
	}
	for _, k := range []string{"avg_backlog_calc", "avg_token_workload", "continuous_gather", "continuous_sendmsg_failures", "mtt_rx_token"} {
		out["stats.srp."+k] = cmap.Uint32(0)
	}
	out["stats.srp.firewall_enabled_or_nic_failure"] = cmap.Uint8(0)
}

// knet adds the per-link counters of the transport.
func (s *statsSource) knet(out map[string]icmap.Value) {
	for _, ls := range s.d.tr.Stats().Links {
		p := fmt.Sprintf("stats.knet.node%d.link%d.", ls.Node, ls.Link)
		b := func(v bool) icmap.Value {
			if v {
				return cmap.Uint8(1)
			}
			return cmap.Uint8(0)
		}
		us := func(v time.Duration) icmap.Value { return cmap.Uint32(uint32(v / time.Microsecond)) }
		out[p+"connected"] = b(ls.Connected)
		out[p+"enabled"] = cmap.Uint8(1)
		out[p+"mtu"] = cmap.Uint32(uint32(ls.MTUBytes))
		out[p+"latency_ave"] = us(ls.LatencyAvg)
		out[p+"latency_max"] = us(ls.LatencyMax)
		out[p+"latency_min"] = us(ls.LatencyMin)
		out[p+"latency_samples"] = cmap.Uint32(uint32(ls.LatencySamples))
		out[p+"rx_total_packets"] = cmap.Uint64(ls.RxPackets)
		out[p+"rx_total_bytes"] = cmap.Uint64(ls.RxBytes)
		out[p+"tx_total_packets"] = cmap.Uint64(ls.TxPackets)
		out[p+"tx_total_bytes"] = cmap.Uint64(ls.TxBytes)
		out[p+"tx_total_errors"] = cmap.Uint64(ls.TxErrors)
		out[p+"rx_dropped"] = cmap.Uint64(ls.RxDropped)
		out[p+"up_count"] = cmap.Uint32(uint32(ls.UpCount))
		out[p+"down_count"] = cmap.Uint32(uint32(ls.DownCount))
	}
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
