package evs

import "time"

// The ring's state as the layer above reads it, so that it never reaches into l2.

// State returns the Totem state (gather, commit, recovery, operational).
func (n *Node) State() State { return n.srp.State() }

// Ring returns the ring in use and its members (owned by the node; copy to keep).
func (n *Node) Ring() (RingID, []NodeID) { return n.srp.Ring() }

// TotemStats returns the Totem protocol counters.
func (n *Node) TotemStats() TotemStats { return n.srp.Stats() }

// PendingRoom is how many more frames the send queue takes (corosync's totemsrp_avail).
func (n *Node) PendingRoom() int { return n.srp.PendingRoom() }

// TokenTiming returns the averages over the recent token visits (corosync's mtt_rx_token,
// avg_token_workload, avg_backlog_calc and time_since_token_last_received), with now on the
// clock the node is driven by.
func (n *Node) TokenTiming(now time.Duration) TokenTiming { return n.srp.TokenTiming(now) }
