// Package totem implements the Totem Single-Ring Ordering and Membership protocol as a
// deterministic state machine: no goroutines, no clock, no sockets, no global randomness.
//
// A driver feeds a Node with received packets (Receive), the passage of time (Tick) and frames
// to order (Submit), then collects the Node's outputs with Ready and acknowledges them with
// Advance. Outputs are packets to send and deliveries in Extended Virtual Synchrony order:
// ordered frames (agreed or safe) and transitional and regular configurations.
package totem

import (
	"fmt"
	"slices"
	"time"
)

// NodeID identifies a processor. 0 is never a valid node.
type NodeID uint32

// RingID identifies one ring (one regular configuration). Rep is the representative that
// created it, Seq the ring sequence (corosync bumps it by 4 per ring), Epoch the creator's
// incarnation, which keeps ids unique across restarts without persisted state.
type RingID struct {
	Rep   NodeID
	Seq   uint64
	Epoch uint32
}

// String formats the ring as corosync does: "rep.seq" in hex.
func (r RingID) String() string { return fmt.Sprintf("%x.%x", uint32(r.Rep), r.Seq) }

// Broadcast as Packet.To sends to every node.
const Broadcast NodeID = 0

// Packet is one packet to send. Data is owned by the Node and valid until Advance.
type Packet struct {
	To   NodeID // Broadcast, or the one node to send to
	Data []byte
}

// DeliveryKind says what a Delivery carries.
type DeliveryKind uint8

// Kinds of delivery, in the order EVS delivers them around a membership change.
const (
	DeliverMessage DeliveryKind = iota + 1
	DeliverTransitional
	DeliverRegular
)

// Configuration is a membership delivered to the layer above.
type Configuration struct {
	// Transitional is true for a transitional configuration: the members of the new ring that
	// came from this node's previous ring. It separates messages delivered in the old regular
	// configuration from those that could only be delivered with the reduced guarantee.
	Transitional bool
	// Ring is the new ring's id (for a transitional configuration too).
	Ring RingID
	// Members, sorted.
	Members []NodeID
	// Left are the previous regular configuration's members not in Members (transitional).
	Left []NodeID
	// Joined are members not in the previous configuration (regular).
	Joined []NodeID
}

// Delivery is one item of the ordered stream. For messages, Payload is owned by the Node and
// valid until Advance.
type Delivery struct {
	Kind DeliveryKind
	// Message fields: the ring the frame was ordered on, its sequence number there, its
	// originator and guarantee.
	Ring    RingID
	Seq     uint64
	Sender  NodeID
	Safe    bool
	Payload []byte
	// Config is set for configuration deliveries.
	Config *Configuration
}

// State is the membership state of Totem SRP.
type State uint8

// The four states of the Totem membership protocol.
const (
	StateOperational State = iota + 1
	StateGather
	StateCommit
	StateRecovery
)

// String names the state as corosync's logs do.
func (s State) String() string {
	switch s {
	case StateOperational:
		return "OPERATIONAL"
	case StateGather:
		return "GATHER"
	case StateCommit:
		return "COMMIT"
	case StateRecovery:
		return "RECOVERY"
	}
	return "UNKNOWN"
}

// Event is a notable protocol event for logs, with corosync's wording where one exists.
type Event struct {
	At   time.Duration
	Text string
}

// Stats are the counters exported to cmap's stats.srp.* keys. All are monotonic.
type Stats struct {
	OrfTokenTx, OrfTokenRx              uint64
	McastTx, McastRx, McastRetx         uint64
	MembJoinTx, MembJoinRx              uint64
	CommitTokenTx, CommitTokenRx        uint64
	MergeDetectTx, MergeDetectRx        uint64
	TokenHoldCancelTx, CancelRx         uint64
	TokenRetransmits, TokenLosses       uint64 // TokenLosses: in the operational state
	CommitTokenLost, RecoveryTokenLost  uint64 // the token lost in the commit or recovery state
	GatherTokenLost                     uint64 // consensus timeouts that restarted the gather state
	ContinuousGather                    uint64 // gather restarts by consensus timeout since a ring last formed
	RetransmitRequests                  uint64
	GatherEntered, CommitEntered        uint64
	RecoveryEntered, OperationalEntered uint64
	ConsensusTimeouts                   uint64
	FailedToReceive                     uint64
	RxDropped                           uint64 // well-formed packets ignored (stale, foreign)
	DecodeErrors                        uint64 // malformed packets dropped
	DecodeErrorsByReason                map[string]uint64
	RingChanges                         uint64
}

func sortedCopy(dst, src []NodeID) []NodeID {
	dst = append(dst[:0], src...)
	slices.Sort(dst)
	return slices.Compact(dst)
}

func contains(set []NodeID, n NodeID) bool {
	for _, m := range set {
		if m == n {
			return true
		}
	}
	return false
}
