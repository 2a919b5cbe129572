package votequorum

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	vq "github.com/corosync-go/corosync/ipc/votequorum"
	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

// Node flags exchanged in nodeinfo messages (NODE_FLAGS_*).
const (
	flagQuorate           = 1
	flagLeaving           = 2
	flagWFAStatus         = 4
	flagFirst             = 8
	flagQdeviceRegistered = 16
	flagQdeviceAlive      = 32
	flagQdeviceCastVote   = 64
	flagQdeviceMasterWins = 128
)

// Auto tie breaker modes (runtime.votequorum.atb_type).
const (
	atbNone    = 0
	atbLowest  = 1
	atbHighest = 2
	atbList    = 3
)

// DefaultLMSWindow is last_man_standing_window's default (DEFAULT_LMS_WIN), in ms.
const DefaultLMSWindow = 10000

// maxNodes bounds the node table (corosync's PROCESSOR_COUNT_MAX plus the device); beyond
// it a dead node's entry is reused.
const maxNodes = 384 + 2

// timerKind names the engine's timers.
type timerKind int

const (
	timerLMS timerKind = iota
	timerQdevice
)

// hooks is what the state machine does to the world; the engine implements it, tests
// record it.
type hooks interface {
	// send multicasts an exec message in agreed order; an error is corosync's failed
	// totem_mcast.
	send(msgID uint16, msg []byte) error
	// setQuorum is the quorum service's callback (quorum_api_set_quorum).
	setQuorum(members []uint32, quorate bool, ring vq.RingID)
	// startTimer (re)arms a timer; it fires through core.timerFired.
	startTimer(k timerKind, d time.Duration)
	stopTimer(k timerKind)
}

// client is an IPC connection as the state machine sees it.
type client interface {
	event(msg []byte)
	respond(msg []byte)
}

// conn is a library connection's state (votequorum's quorum_pd).
type conn struct {
	c        client
	tracking bool
	flags    vq.TrackFlags
	context  uint64
}

type node struct {
	id       uint32
	state    vq.NodeState
	votes    uint32
	expected uint32
	flags    uint32
}

// core is votequorum's state machine (exec/votequorum.c), free of I/O but for the
// ev_tracking file and icmap keys. It is not safe for concurrent use: the engine locks.
type core struct {
	m     *icmap.Map
	log   *slog.Logger
	fx    hooks
	state string // state_dir, for ev_tracking

	qdeviceName        string
	qdevice            *node
	qdeviceTimeout     uint32
	qdeviceSyncTimeout uint32
	qdeviceCanOperate  bool
	qdeviceRegConn     *conn
	qdeviceMasterWins  bool

	twoNode, waitForAll, wfaStatus, wfaAutoset bool
	atb, initialATB                            uint32
	lowestID, highestID                        int64

	lms       bool
	lmsWindow uint32

	allowDownscale    bool
	evBarrier         uint32
	evTracking        bool
	evTrackingBarrier uint32

	quorum  uint32
	quorate bool

	us    *node
	nodes []*node // in node_add_ordered's order (see insertAt), us included, the device not

	quorumMembers, prevQuorumMembers, atbNodes []uint32
	ring                                       vq.RingID

	trackers []*conn

	lmsTimerSet, qdeviceTimerSet bool
	syncNodeinfoSent             bool
	syncWaitPoll                 bool
	syncInProgress               bool

	// BadMessages counts exec messages that could not be decoded.
	badMessages uint64
}

func newCore(m *icmap.Map, log *slog.Logger, fx hooks, nodeID uint32, stateDir string) *core {
	c := &core{
		m: m, log: log.With(logsys.SubsysKey, "VOTEQ"), fx: fx, state: stateDir,
		qdeviceTimeout:     vq.QdeviceDefaultTimeout,
		qdeviceSyncTimeout: vq.QdeviceDefaultSyncTimeout,
		qdeviceCanOperate:  true,
		lowestID:           -1, highestID: -1,
		lmsWindow: DefaultLMSWindow,
	}
	c.qdevice = &node{id: vq.QdeviceNodeID}
	c.us = c.allocate(nodeID)
	c.us.state = vq.NodeStateMember
	c.us.votes = 1
	c.us.flags |= flagFirst
	return c
}

func (c *core) notice(msg string) { c.log.Log(context.Background(), logsys.LevelNotice, msg) }
func (c *core) crit(msg string)   { c.log.Log(context.Background(), logsys.LevelCrit, msg) }

// init is votequorum_exec_init_fn after the allocations: read the configuration, compute
// quorum, protect the start-up-only keys and announce this node. An error stops the
// daemon, as corosync's engine initialisation error does.
func (c *core) init() error {
	c.setU32("runtime.votequorum.this_node_id", c.us.id)
	if err := c.readConfig(false); err != nil {
		return err
	}
	c.recalculate(false, false)
	for _, k := range []string{"quorum.allow_downscale", "quorum.wait_for_all", "quorum.last_man_standing",
		"quorum.last_man_standing_window", "quorum.expected_votes_tracking", "quorum.auto_tie_breaker",
		"quorum.auto_tie_breaker_node"} {
		c.m.SetReadOnly(k, false, true)
	}
	c.sendNodeInfo(c.us.id)
	return nil
}

// --- icmap helpers

func (c *core) setU32(key string, v uint32) { c.m.Set(key, cmap.Uint32(v)) }
func (c *core) setU8(key string, v bool) {
	var b uint8
	if v {
		b = 1
	}
	c.m.Set(key, cmap.Uint8(b))
}

func (c *core) getU32(key string) (uint32, bool) {
	v, err := c.m.Get(key)
	if err != nil || v.Type() != cmap.TypeUint32 {
		return 0, false
	}
	return v.Uint32(), true
}

func (c *core) getU8(key string) (uint8, bool) {
	v, err := c.m.Get(key)
	if err != nil || v.Type() != cmap.TypeUint8 {
		return 0, false
	}
	return v.Uint8(), true
}

func (c *core) getString(key string) (string, bool) {
	v, err := c.m.Get(key)
	if err != nil || v.Type() != cmap.TypeString {
		return "", false
	}
	return v.String(), true
}

// --- node table

func (c *core) allocate(id uint32) *node {
	n := &node{id: id}
	if id == vq.QdeviceNodeID {
		return n
	}
	if len(c.nodes) >= maxNodes {
		i := slices.IndexFunc(c.nodes, func(n *node) bool { return n.state == vq.NodeStateDead && n != c.us })
		if i < 0 {
			c.crit(fmt.Sprintf("Unable to find memory for node %d data!!", id))
			return nil
		}
		c.nodes = slices.Delete(c.nodes, i, i+1)
	}
	c.nodes = slices.Insert(c.nodes, insertAt(c.nodes, id), n)
	return n
}

// insertAt is where node_add_ordered puts a new node: before the first node with a
// higher id (compared as C ints), and when there is none, before the last node, not after
// it (qb_list_add_tail on the last entry). The list is therefore not sorted: nodes 1, 2,
// 3 arriving in that order give 2 3 1, the order of 3.1.7's quorum notifications.
func insertAt(nodes []*node, id uint32) int {
	for i, n := range nodes {
		if int32(id) < int32(n.id) {
			return i
		}
	}
	return max(len(nodes)-1, 0)
}

func (c *core) find(id uint32) *node {
	if id == c.us.id {
		return c.us
	}
	if id == vq.QdeviceNodeID {
		return c.qdevice
	}
	for _, n := range c.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

func (c *core) lowest() {
	c.lowestID = int64(c.us.id)
	for _, n := range c.nodes {
		if n.state == vq.NodeStateMember && int64(n.id) < c.lowestID {
			c.lowestID = int64(n.id)
		}
	}
	c.log.Debug(fmt.Sprintf("lowest node id: %d us: %d", c.lowestID, c.us.id))
	c.setU32("runtime.votequorum.lowest_node_id", uint32(c.lowestID))
}

func (c *core) highest() {
	c.highestID = int64(c.us.id)
	for _, n := range c.nodes {
		if n.state == vq.NodeStateMember && int64(n.id) > c.highestID {
			c.highestID = int64(n.id)
		}
	}
	c.log.Debug(fmt.Sprintf("highest node id: %d us: %d", c.highestID, c.us.id))
	c.setU32("runtime.votequorum.highest_node_id", uint32(c.highestID))
}

func (c *core) memberWithID(id int64) bool {
	for _, n := range c.nodes {
		if n.state == vq.NodeStateMember && int64(n.id) == id {
			return true
		}
	}
	return false
}

// checkATB is check_auto_tie_breaker: for a list, the first listed node in this
// partition decides, unless a node listed before it was in the previous partition (it may
// be in the other half).
func (c *core) checkATB() bool {
	switch c.atb {
	case atbLowest:
		r := c.memberWithID(c.lowestID)
		c.log.Debug(fmt.Sprintf("ATB_LOWEST decision: %d", b2i(r)))
		return r
	case atbHighest:
		r := c.memberWithID(c.highestID)
		c.log.Debug(fmt.Sprintf("ATB_HIGHEST decision: %d", b2i(r)))
		return r
	}
	for i, id := range c.atbNodes {
		if !slices.Contains(c.quorumMembers, id) {
			continue
		}
		for _, earlier := range c.atbNodes[:i] {
			if slices.Contains(c.prevQuorumMembers, earlier) {
				c.log.Debug(fmt.Sprintf("ATB_LIST found node %d in previous partition but not here, quorum denied", earlier))
				return false
			}
		}
		c.log.Debug(fmt.Sprintf("ATB_LIST found node %d in current partition, we can be quorate", id))
		return true
	}
	c.log.Debug("ATB_LIST found no list nodes in current partition, we cannot be quorate")
	return false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parseATB is parse_atb_string: "lowest", "highest" or node ids separated by spaces
// (read as strtol reads them, up to the first zero or non-number).
func (c *core) parseATB(s string) {
	c.atb = atbNone
	switch s {
	case "lowest":
		c.atb = atbLowest
	case "highest":
		c.atb = atbHighest
	}
	if first, _ := strtol(s); first != 0 {
		c.atbNodes = c.atbNodes[:0]
		rest := s
		for {
			var num int64
			num, rest = strtol(rest)
			if num == 0 {
				break
			}
			c.log.Debug(fmt.Sprintf("ATB nodelist[%d] = %d", len(c.atbNodes), num))
			c.atbNodes = append(c.atbNodes, uint32(num))
			if len(c.atbNodes) >= maxNodes {
				break
			}
		}
		if len(c.atbNodes) > 0 {
			c.atb = atbList
		}
	}
	c.setU32("runtime.votequorum.atb_type", c.atb)
	c.log.Debug(fmt.Sprintf("ATB type = %d", c.atb))
	if c.atb == atbNone {
		c.log.Warn("auto_tie_breaker_nodes is not valid. It must be 'lowest', 'highest' or a space-separated list of node IDs. auto_tie_breaker is disabled")
	}
}

// strtol reads a base-10 long as C's strtol does (leading space, a sign, digits) and
// returns the rest; no digits: 0 and s unchanged.
func strtol(s string) (int64, string) {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if v < 1<<40 {
			v = v*10 + int64(s[i]-'0')
		}
		i++
	}
	if i == start {
		return 0, s
	}
	if neg {
		v = -v
	}
	return v, s[i:]
}

func (c *core) checkQdeviceMaster() bool {
	for _, n := range c.nodes {
		if n.state == vq.NodeStateMember && n.flags&flagQdeviceMasterWins != 0 && n.flags&flagQdeviceCastVote != 0 {
			return true
		}
	}
	return false
}

func decodeFlags(f uint32) string {
	yn := func(b uint32) string {
		if f&b != 0 {
			return "Yes"
		}
		return "No"
	}
	return fmt.Sprintf("flags: quorate: %s Leaving: %s WFA Status: %s First: %s Qdevice: %s QdeviceAlive: %s QdeviceCastVote: %s QdeviceMasterWins: %s",
		yn(flagQuorate), yn(flagLeaving), yn(flagWFAStatus), yn(flagFirst), yn(flagQdeviceRegistered),
		yn(flagQdeviceAlive), yn(flagQdeviceCastVote), yn(flagQdeviceMasterWins))
}

// --- ev_tracking file (state_dir/ev_tracking: the barrier as 4 host-order bytes)

func (c *core) evFile() string { return filepath.Join(c.state, "ev_tracking") }

func (c *core) loadEVBarrier() error {
	b, err := os.ReadFile(c.evFile())
	if err == nil && len(b) >= 4 {
		c.evTrackingBarrier = binary.NativeEndian.Uint32(b)
		return nil
	}
	c.evTrackingBarrier = 0
	if err := os.WriteFile(c.evFile(), make([]byte, 4), 0o700); err != nil {
		c.log.Warn(fmt.Sprintf("Unable to create %s file", c.evFile()))
		return err
	}
	return nil
}

func (c *core) updateEVTrackingBarrier(v uint32) {
	c.evTrackingBarrier = v
	c.setU32("runtime.votequorum.ev_tracking_barrier", v)
	f, err := os.OpenFile(c.evFile(), os.O_RDWR|os.O_CREATE, 0o700)
	if err == nil {
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], v)
		_, err = f.WriteAt(b[:], 0)
		if err == nil {
			err = f.Sync()
		}
		f.Close()
	}
	if err != nil {
		c.log.Warn("Unable to update ev_tracking_barrier on disk data!!!")
	}
}

// --- runtime keys

func (c *core) updateWFAStatus(v bool) {
	c.wfaStatus = v
	if v {
		c.us.flags |= flagWFAStatus
	} else {
		c.us.flags &^= flagWFAStatus
	}
	c.setU8("runtime.votequorum.wait_for_all_status", v)
}

func (c *core) updateEVBarrier(v uint32) {
	c.evBarrier = v
	c.setU32("runtime.votequorum.ev_barrier", v)
}

func (c *core) updateQdeviceCanOperate(v bool) {
	c.qdeviceCanOperate = v
	c.setU8("runtime.votequorum.qdevice_can_operate", v)
}

func (c *core) updateQdeviceMasterWins(v bool) {
	c.qdeviceMasterWins = v
	c.setU8("runtime.votequorum.qdevice_master_wins", v)
}

// --- quorum calculation

// calculateQuorum is calculate_quorum: the OpenVMS formula, max((highest expected+2)/2,
// (total votes+2)/2), never decreasing unless allowed, and 1 in two_node mode with at
// most two voters.
func (c *core) calculateQuorum(allowDecrease bool, maxExpected uint32) (newQuorum, totalVotes uint32) {
	if c.allowDownscale && allowDecrease && maxExpected != 0 {
		maxExpected = max(c.evBarrier, maxExpected)
	}
	var highest, nodes uint32
	for _, n := range c.nodes {
		c.log.Debug(fmt.Sprintf("node %d state=%d, votes=%d, expected=%d", n.id, n.state, n.votes, n.expected))
		if n.state == vq.NodeStateMember {
			highest = max(highest, n.expected)
			totalVotes += n.votes
			nodes++
		}
	}
	if c.us.flags&flagQdeviceCastVote != 0 {
		c.log.Debug(fmt.Sprintf("node 0 state=1, votes=%d", c.qdevice.votes))
		totalVotes += c.qdevice.votes
		nodes++
	}
	if maxExpected > 0 {
		highest = maxExpected
	}
	newQuorum = max((highest+2)/2, (totalVotes+2)/2)
	if !allowDecrease {
		newQuorum = max(c.quorum, newQuorum)
	}
	if c.twoNode && nodes <= 2 {
		newQuorum = 1
	}
	return newQuorum, totalVotes
}

func (c *core) updateNodeExpected(v uint32) {
	if v == 0 {
		return
	}
	for _, n := range c.nodes {
		if n.state == vq.NodeStateMember {
			n.expected = v
		}
	}
}

// areWeQuorate is are_we_quorate.
func (c *core) areWeQuorate(total uint32) {
	if c.waitForAll && c.wfaStatus {
		if total != c.us.expected {
			c.notice(fmt.Sprintf("Waiting for all cluster members. Current votes: %d expected_votes: %d", total, c.us.expected))
			return
		}
		c.updateWFAStatus(false)
	}
	quorate := true
	if c.quorum > total {
		quorate = false
	} else {
		c.lowest()
		c.highest()
	}
	// quorum is a uint8_t in 3.1.7, compared as an int here.
	if c.atb != atbNone && total == c.us.expected/2 &&
		len(c.prevQuorumMembers)-len(c.quorumMembers) < int(uint8(c.quorum)) && c.checkATB() {
		quorate = true
	}
	if c.qdeviceMasterWins && !quorate && c.checkQdeviceMaster() {
		c.log.Debug("node is quorate as part of master_wins partition")
		quorate = true
	}
	change := c.quorate != quorate
	if change {
		if quorate {
			c.log.Debug("quorum regained, resuming activity")
		} else {
			c.log.Debug("quorum lost, blocking activity")
		}
	}
	c.quorate = quorate
	if quorate {
		c.us.flags |= flagQuorate
	} else {
		c.us.flags &^= flagQuorate
	}
	if c.waitForAll {
		c.updateWFAStatus(!quorate)
	}
	if change && !c.syncInProgress {
		c.fx.setQuorum(slices.Clone(c.quorumMembers), c.quorate, c.ring)
		c.sendQuorumNotification(nil, 0)
	}
}

func (c *core) totalVotes() (total, members uint32) {
	for _, n := range c.nodes {
		if n.state == vq.NodeStateMember {
			members++
			total += n.votes
		}
	}
	if c.qdevice.votes != 0 {
		total += c.qdevice.votes
		members++
	}
	return total, members
}

// recalculate is recalculate_quorum.
func (c *core) recalculate(allowDecrease, byCurrentNodes bool) {
	total, members := c.totalVotes()
	if !byCurrentNodes {
		members = 0
	}
	c.log.Debug(fmt.Sprintf("total_votes=%d, expected_votes=%d", total, c.us.expected))
	if total > c.us.expected {
		c.us.expected = total
		c.sendExpectedNotification()
	}
	if c.evTracking && c.us.expected > c.evTrackingBarrier {
		c.updateEVTrackingBarrier(c.us.expected)
	}
	c.quorum, total = c.calculateQuorum(allowDecrease, members)
	c.updateNodeExpected(members)
	c.areWeQuorate(total)
}
