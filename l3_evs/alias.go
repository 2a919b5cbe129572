package evs

import (
	"time"

	totem "github.com/corosync-go/corosync/l2_totem"
)

// The Totem types that appear in this package's API, named here so that the layer above
// (l4) uses them without importing l2.
type (
	// NodeID identifies a processor (totem.NodeID).
	NodeID = totem.NodeID
	// RingID identifies a ring (totem.RingID).
	RingID = totem.RingID
	// Configuration is a delivered membership (totem.Configuration).
	Configuration = totem.Configuration
	// Packet is a packet to send (totem.Packet).
	Packet = totem.Packet
	// LogEvent is a protocol event worth a log line (totem.Event).
	LogEvent = totem.Event
	// TotemConfig holds the Totem parameters (totem.Config).
	TotemConfig = totem.Config
	// TotemStats are Totem's counters (totem.Stats).
	TotemStats = totem.Stats
	// TokenTiming summarises recent token visits (totem.TokenTiming).
	TokenTiming = totem.TokenTiming
	// State is the Totem membership state (totem.State).
	State = totem.State
)

// Broadcast as Packet.To sends to every node.
const Broadcast = totem.Broadcast

// DefaultTotemConfig returns corosync 3.1.7's Totem defaults for node id and token timeout
// (totem.DefaultConfig).
func DefaultTotemConfig(id NodeID, token time.Duration) TotemConfig {
	return totem.DefaultConfig(id, token)
}

// StateOperational is the state in which the ring delivers messages.
const StateOperational = totem.StateOperational
