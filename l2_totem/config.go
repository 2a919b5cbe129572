package totem

import (
	"errors"
	"fmt"
	"time"
)

// Config holds one node's Totem parameters. Names follow corosync.conf's totem{} keys; the
// defaults (see DefaultConfig) are corosync 3.1.7's, each with its reason.
type Config struct {
	// NodeID is this node's identifier; 0 is reserved (it means "broadcast" in Packet.To).
	NodeID NodeID
	// Incarnation distinguishes this run of the node from earlier ones. The driver sets it from
	// a fresh random value (the simulator from its seed) so that ring ids created by a restarted
	// node can never collide with ones it created before, even without persisted state.
	Incarnation uint32

	// Token is the configured token-loss timeout (corosync "token"). With three or more nodes
	// in the nodelist the timeout in force is EffectiveTokenTimeout: token +
	// (nodes-2)*token_coefficient, as in corosync; the derived timers use that value.
	Token time.Duration
	// TokenCoefficient is corosync's "token_coefficient", added per node beyond two.
	TokenCoefficient time.Duration
	// NodelistSize is the number of nodes in the configured nodelist (0 if unknown); it only
	// scales the token timeout by TokenCoefficient.
	NodelistSize int
	// TokenRetransmit is how long after forwarding the token with no sign of it being received a
	// node sends its copy again (corosync "token_retransmit").
	TokenRetransmit time.Duration
	// TokenRetransmitsBeforeLoss is corosync's token_retransmits_before_loss_const; it only serves
	// to derive TokenRetransmit when that is zero.
	TokenRetransmitsBeforeLoss int
	// Hold is how long the ring representative keeps the token on an idle ring (corosync "hold").
	Hold time.Duration
	// Join is the interval between join messages in the gather state (corosync "join").
	Join time.Duration
	// Consensus is how long the gather state waits for agreement before declaring the
	// non-answering processors failed (corosync "consensus").
	Consensus time.Duration
	// Merge is the interval at which an operational representative announces its ring so that
	// partitions can find each other (corosync "merge").
	Merge time.Duration
	// Downcheck is corosync's interface down-check interval. Totem keeps it for configuration
	// compatibility; link state is l1's job, so l2 does not use it.
	Downcheck time.Duration
	// FailRecvConst is the number of rotations with an unchanged token aru, lowered by this node,
	// after which the node declares that it fails to receive (corosync "fail_recv_const").
	FailRecvConst int
	// SeqnoUnchangedConst is the number of rotations without new messages after which the ring
	// is idle and the token is held (corosync "seqno_unchanged_const").
	SeqnoUnchangedConst int
	// MissCountConst is the number of token visits a message must be missing before it is put
	// on the retransmit list (corosync "miss_count_const").
	MissCountConst int
	// WindowSize is the number of messages the whole ring may send in one rotation
	// (corosync "window_size").
	WindowSize int
	// MaxMessages is the number of messages one node may send per token visit
	// (corosync "max_messages").
	MaxMessages int

	// FrameBytesMax bounds one message's payload. Larger application messages are fragmented
	// by l3; larger frames are fragmented to the MTU by l1.
	FrameBytesMax int
	// PendingFramesMax bounds the queue of frames submitted but not yet sent; Submit returns
	// ErrQueueFull beyond it (corosync: MESSAGE_QUEUE_MAX = 4 MiB / netmtu).
	PendingFramesMax int
	// WindowFramesMax bounds the frames in flight (sent but not yet stable) and so the
	// retransmit store (corosync: QUEUE_RTR_ITEMS_SIZE_MAX = 16384). Must be a power of two.
	WindowFramesMax int

	// AcceleratedRing passes the token before this visit's new multicasts (Babay & Amir 2016):
	// the next node starts its turn while the burst is still on the wire. Off by default because
	// it changes timing relative to corosync.
	AcceleratedRing bool
	// DropAfterGap drops recovered old-ring messages that follow the first gap, as corosync
	// 3.1.7 does ("TODO Not exactly to spec"). That loses messages of surviving senders (their
	// own included, which breaks EVS self delivery), so it is off: by default they are
	// delivered in the transitional configuration when their sender is in it, as the Totem
	// paper specifies. Timing is the same either way.
	DropAfterGap bool
}

// Corosync 3.1.7 defaults (exec/totemconfig.c).
const (
	// DefaultToken is corosync's token timeout since 3.1.0 (was 1000 ms before).
	DefaultToken = 3000 * time.Millisecond
	// DefaultTokenCoefficient is added per node beyond two in the nodelist.
	DefaultTokenCoefficient = 650 * time.Millisecond
	// DefaultTokenRetransmitsBeforeLoss gives token_retransmit = token / (4 + 0.2).
	DefaultTokenRetransmitsBeforeLoss = 4
	// DefaultJoin is corosync's join interval.
	DefaultJoin = 50 * time.Millisecond
	// DefaultMerge is corosync's merge-detect interval.
	DefaultMerge = 200 * time.Millisecond
	// DefaultDowncheck is corosync's downcheck interval.
	DefaultDowncheck = 1000 * time.Millisecond
	// DefaultFailRecvConst is corosync's fail_recv_const.
	DefaultFailRecvConst = 2500
	// DefaultSeqnoUnchangedConst is corosync's seqno_unchanged_const.
	DefaultSeqnoUnchangedConst = 30
	// DefaultMissCountConst is corosync's miss_count_const.
	DefaultMissCountConst = 5
	// DefaultWindowSize is corosync's window_size.
	DefaultWindowSize = 50
	// DefaultMaxMessages is corosync's max_messages.
	DefaultMaxMessages = 17
	// DefaultFrameBytesMax matches corosync's usable totem frame on a 1500-byte netmtu.
	DefaultFrameBytesMax = 1400
	// DefaultWindowFramesMax is corosync's QUEUE_RTR_ITEMS_SIZE_MAX.
	DefaultWindowFramesMax = 16384
	// MinimumTimeout is corosync's lower bound for token, token_retransmit and hold: 3 ticks of
	// a 100 Hz kernel.
	MinimumTimeout = 30 * time.Millisecond
	// hzTick is the 1000/HZ term of corosync's hold formula.
	hzTick = 10 * time.Millisecond
	// retransmitEntriesMax is corosync's RETRANSMIT_ENTRIES_MAX: requests carried by one token.
	retransmitEntriesMax = 30
	// processorCountMax is corosync's PROCESSOR_COUNT_MAX.
	processorCountMax = 384
)

// EffectiveToken returns corosync's token timeout for a nodelist of nodes:
// token + (nodes-2)*token_coefficient when there are at least three nodes.
func EffectiveToken(token, coefficient time.Duration, nodes int) time.Duration {
	if nodes >= 3 && coefficient > 0 {
		return token + time.Duration(nodes-2)*coefficient
	}
	return token
}

// EffectiveTokenTimeout is the token timeout in force: Token scaled by TokenCoefficient for
// the nodelist size (corosync's totem_volatile_config_read).
func (c *Config) EffectiveTokenTimeout() time.Duration {
	return EffectiveToken(c.Token, c.TokenCoefficient, c.NodelistSize)
}

// DefaultConfig returns corosync 3.1.7's defaults for node id with the given token timeout
// (DefaultToken is corosync's); derived timers (token_retransmit, hold, consensus) follow
// corosync's formulas. Set NodelistSize (and call Validate) to apply token_coefficient.
// PendingFramesMax is left zero: Validate derives it from FrameBytesMax, whatever that is
// set to.
func DefaultConfig(id NodeID, token time.Duration) Config {
	c := Config{
		NodeID:                     id,
		Token:                      token,
		TokenCoefficient:           DefaultTokenCoefficient,
		TokenRetransmitsBeforeLoss: DefaultTokenRetransmitsBeforeLoss,
		Join:                       DefaultJoin,
		Merge:                      DefaultMerge,
		Downcheck:                  DefaultDowncheck,
		FailRecvConst:              DefaultFailRecvConst,
		SeqnoUnchangedConst:        DefaultSeqnoUnchangedConst,
		MissCountConst:             DefaultMissCountConst,
		WindowSize:                 DefaultWindowSize,
		MaxMessages:                DefaultMaxMessages,
		FrameBytesMax:              DefaultFrameBytesMax,
		WindowFramesMax:            DefaultWindowFramesMax,
	}
	c.fillTimers()
	return c
}

// fillDerived computes what corosync derives when it is left zero: the timers, and the
// pending queue's bound from the frame size.
func (c *Config) fillDerived() {
	c.fillTimers()
	if c.PendingFramesMax == 0 && c.FrameBytesMax > 0 {
		// corosync: MESSAGE_QUEUE_MAX = 4 MiB / netmtu, enough for four maximum-size messages.
		c.PendingFramesMax = 4 << 20 / c.FrameBytesMax
	}
}

// fillTimers computes the timers corosync derives from token when they are left zero.
func (c *Config) fillTimers() {
	if c.TokenRetransmitsBeforeLoss <= 0 {
		c.TokenRetransmitsBeforeLoss = DefaultTokenRetransmitsBeforeLoss
	}
	if c.TokenRetransmit == 0 {
		// corosync: token / (token_retransmits_before_loss_const + 0.2)
		c.TokenRetransmit = time.Duration(float64(c.EffectiveTokenTimeout()) / (float64(c.TokenRetransmitsBeforeLoss) + 0.2))
	}
	if c.Hold == 0 {
		// corosync: token_retransmit * 0.8 - 1000/HZ
		c.Hold = time.Duration(float64(c.TokenRetransmit)*0.8) - hzTick
	}
	if c.Consensus == 0 {
		c.Consensus = time.Duration(float64(c.EffectiveTokenTimeout()) * 1.2)
	}
}

// Validate reports the first inconsistent setting.
func (c *Config) Validate() error {
	c.fillDerived()
	switch {
	case c.NodeID == 0:
		return errors.New("totem: nodeid 0 is reserved")
	case c.Token < MinimumTimeout:
		return fmt.Errorf("totem: token %v is below the minimum %v", c.Token, MinimumTimeout)
	case c.TokenRetransmit < MinimumTimeout:
		return fmt.Errorf("totem: token_retransmit %v is below the minimum %v", c.TokenRetransmit, MinimumTimeout)
	case c.Hold <= 0 || c.Hold >= c.EffectiveTokenTimeout():
		return fmt.Errorf("totem: hold %v must be positive and below token %v", c.Hold, c.EffectiveTokenTimeout())
	case c.Join <= 0:
		return errors.New("totem: join must be positive")
	case c.Consensus < c.EffectiveTokenTimeout():
		return fmt.Errorf("totem: consensus %v must be at least token %v", c.Consensus, c.EffectiveTokenTimeout())
	case c.Merge <= 0:
		return errors.New("totem: merge must be positive")
	case c.FailRecvConst <= 0 || c.SeqnoUnchangedConst <= 0 || c.MissCountConst <= 0:
		return errors.New("totem: fail_recv_const, seqno_unchanged_const and miss_count_const must be positive")
	case c.WindowSize <= 0 || c.MaxMessages <= 0:
		return errors.New("totem: window_size and max_messages must be positive")
	case c.FrameBytesMax < 64 || c.FrameBytesMax > MaxFrameBytes:
		return fmt.Errorf("totem: frame size %d outside [64, %d]", c.FrameBytesMax, MaxFrameBytes)
	case c.PendingFramesMax <= 0:
		return errors.New("totem: pending frame bound must be positive")
	case c.WindowFramesMax < 2*c.WindowSize || c.WindowFramesMax&(c.WindowFramesMax-1) != 0:
		return fmt.Errorf("totem: window frame bound %d must be a power of two of at least 2*window_size", c.WindowFramesMax)
	}
	return nil
}
