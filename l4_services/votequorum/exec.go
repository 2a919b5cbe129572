package votequorum

import (
	"fmt"
	"slices"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	vq "github.com/corosync-go/corosync/ipc/votequorum"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// --- sending

func (c *core) sendNodeInfo(id uint32) error {
	n := c.find(id)
	if n == nil {
		return fmt.Errorf("votequorum: no node %d", id)
	}
	if id != vq.QdeviceNodeID {
		c.log.Debug(decodeFlags(n.flags))
	}
	return c.fx.send(execNodeInfo, nodeInfo{NodeID: id, Votes: n.votes, Expected: n.expected, Flags: n.flags}.encode())
}

func (c *core) sendReconfigure(param uint8, id, value uint32) error {
	return c.fx.send(execReconfigure, reconfigure{NodeID: id, Value: value, Param: param}.encode())
}

func (c *core) sendQdeviceReg(op uint32, name string) error {
	return c.fx.send(execQdeviceReg, qdeviceReg{Operation: op, Name: name}.encode())
}

// sendQuorumNotification sends the quorum notification to one connection, or to every
// tracker with its own context.
func (c *core) sendQuorumNotification(to *conn, context uint64) {
	c.log.Debug(fmt.Sprintf("Sending quorum callback, quorate = %d", b2i(c.quorate)))
	q := vq.Quorum{Quorate: c.quorate, Context: context}
	for _, n := range c.nodes {
		q.Nodes = append(q.Nodes, vq.Node{NodeID: n.id, State: n.state})
	}
	if c.us.flags&flagQdeviceRegistered != 0 {
		q.Nodes = append(q.Nodes, vq.Node{NodeID: vq.QdeviceNodeID, State: c.qdevice.state})
	}
	if to != nil {
		to.c.event(q.Encode())
		return
	}
	for _, t := range c.trackers {
		q.Context = t.context
		t.c.event(q.Encode())
	}
}

func (c *core) sendNodelistNotification(to *conn, context uint64) {
	c.log.Debug(fmt.Sprintf("Sending nodelist callback. ring_id = %d.%d", c.ring.NodeID, c.ring.Seq))
	nl := vq.Nodelist{Context: context, RingID: c.ring, Members: slices.Clone(c.quorumMembers)}
	if to != nil {
		to.c.event(nl.Encode())
		return
	}
	for _, t := range c.trackers {
		nl.Context = t.context
		t.c.event(nl.Encode())
	}
}

func (c *core) sendExpectedNotification() {
	c.log.Debug("Sending expected votes callback")
	for _, t := range c.trackers {
		t.c.event(vq.ExpectedVotes{Context: t.context, ExpectedVotes: c.us.expected}.Encode())
	}
}

// --- exec messages

// deliver handles an ordered exec message; malformed ones are counted and dropped.
func (c *core) deliver(sender uint32, id uint16, msg []byte) {
	var err error
	switch id {
	case execNodeInfo:
		var m nodeInfo
		if m, err = decodeNodeInfo(msg); err == nil {
			c.nodeInfo(sender, m)
		}
	case execReconfigure:
		var m reconfigure
		if m, err = decodeReconfigure(msg); err == nil {
			c.reconfigure(sender, m)
		}
	case execQdeviceReg:
		var m qdeviceReg
		if m, err = decodeQdeviceReg(msg); err == nil {
			c.qdeviceRegMsg(sender, m)
		}
	case execQdeviceReconfigure:
		var m qdeviceReconfigure
		if m, err = decodeQdeviceReconfigure(msg); err == nil {
			c.qdeviceRename(sender, m)
		}
	default:
		err = fmt.Errorf("%w: unknown message id %d", ErrBadMessage, id)
	}
	if err != nil {
		c.badMessages++
		c.log.Debug("dropping an exec message", "sender", sender, "err", err)
	}
}

// nodeInfo is message_handler_req_exec_votequorum_nodeinfo.
func (c *core) nodeInfo(sender uint32, m nodeInfo) {
	c.log.Debug(fmt.Sprintf("got nodeinfo message from cluster node %d", sender))
	c.log.Debug(fmt.Sprintf("nodeinfo message[%d]: votes: %d, expected: %d flags: %d", m.NodeID, m.Votes, m.Expected, m.Flags))
	if m.NodeID != vq.QdeviceNodeID {
		c.log.Debug(decodeFlags(m.Flags))
	}
	n := c.find(m.NodeID)
	isNew := false
	if n == nil {
		if n = c.allocate(m.NodeID); n == nil {
			return
		}
		isNew = true
	}
	var oldVotes, oldExpected, oldFlags uint32
	oldState := vq.NodeStateDead
	if !isNew {
		oldVotes, oldExpected, oldFlags, oldState = n.votes, n.expected, n.flags, n.state
	}
	allowDowngrade, byNode := false, false
	if m.NodeID == vq.QdeviceNodeID {
		s := c.find(sender)
		if s == nil {
			return // corosync asserts: a device's votes come from a known node
		}
		if !c.quorate && s.flags&flagQuorate != 0 {
			n.votes = m.Votes
		} else {
			n.votes = max(n.votes, m.Votes)
		}
	} else {
		n.flags = m.Flags
		n.votes = m.Votes
		n.state = vq.NodeStateMember
		if n.flags&flagLeaving != 0 {
			n.state = vq.NodeStateLeaving
			allowDowngrade, byNode = true, true
		}
		if !c.quorate && n.flags&flagQuorate != 0 {
			allowDowngrade = true
			c.us.expected = m.Expected
		}
		if n.flags&flagQuorate != 0 || c.evTracking {
			n.expected = m.Expected
		} else {
			n.expected = c.us.expected
		}
		if c.lms && n.votes > 1 {
			c.log.Warn("Last Man Standing feature is supported only when allcluster nodes votes are set to 1. Disabling LMS.")
			c.lms = false
			if c.lmsTimerSet {
				c.fx.stopTimer(timerLMS)
				c.lmsTimerSet = false
			}
		}
	}
	if isNew || m.NodeID == c.us.id || n.flags&flagFirst != 0 || oldVotes != n.votes ||
		oldExpected != n.expected || oldFlags != n.flags || oldState != n.state {
		c.recalculate(allowDowngrade, byNode)
	}
	if c.waitForAll && n.flags&flagWFAStatus == 0 && n.flags&flagQuorate != 0 {
		c.updateWFAStatus(false)
	}
}

// reconfigure is message_handler_req_exec_votequorum_reconfigure.
func (c *core) reconfigure(sender uint32, m reconfigure) {
	c.log.Debug(fmt.Sprintf("got reconfigure message from cluster node %d for %d", sender, m.NodeID))
	switch m.Param {
	case paramExpectedVotes:
		c.updateNodeExpected(m.Value)
		c.sendExpectedNotification()
		c.updateEVBarrier(m.Value)
		if c.evTracking {
			c.us.expected = max(c.us.expected, c.evTrackingBarrier)
		}
		c.recalculate(true, false)
	case paramNodeVotes:
		n := c.find(m.NodeID)
		if n == nil {
			return
		}
		n.votes = m.Value
		c.recalculate(true, false)
	case paramCancelWFA:
		c.updateWFAStatus(false)
		c.log.Info(fmt.Sprintf("wait_for_all_status reset by user on node %d.", m.NodeID))
		c.recalculate(false, false)
	}
}

// qdeviceRegMsg is message_handler_req_exec_votequorum_qdevice_reg: a registration
// completes here, in the cluster's order, and answers the waiting connection.
func (c *core) qdeviceRegMsg(sender uint32, m qdeviceReg) {
	c.log.Debug(fmt.Sprintf("Received qdevice op %d req from node %d [%s]", m.Operation, sender, m.Name))
	switch m.Operation {
	case qdeviceOpRegister:
		if sender != c.us.id {
			if c.qdeviceName == "" {
				c.log.Debug("Remote qdevice name recorded")
				c.qdeviceName = m.Name
			}
			return
		}
		if c.us.flags&flagQdeviceRegistered != 0 {
			return
		}
		if c.qdeviceRegConn == nil {
			c.log.Warn("Unable to determine origin of the qdevice register call!")
			return
		}
		if c.qdeviceName == "" {
			c.qdeviceName = m.Name
		}
		cs := ipc.CSOk
		if m.Name == c.qdeviceName {
			c.us.flags |= flagQdeviceRegistered
			c.sendNodeInfo(vq.QdeviceNodeID)
			c.sendNodeInfo(c.us.id)
		} else {
			c.log.Warn(fmt.Sprintf("A new qdevice with different name (new: %s old: %s) is trying to register!", m.Name, c.qdeviceName))
			cs = ipc.CSErrExist
		}
		c.qdeviceRegConn.c.respond(vq.EncodeStatusResponse(cs))
		c.qdeviceRegConn = nil
	case qdeviceOpUnregister:
		wipe := true
		for _, n := range c.nodes {
			if n.state == vq.NodeStateMember && n.flags&flagQdeviceRegistered != 0 {
				wipe = false
			}
		}
		if wipe {
			c.qdeviceName = ""
		}
	}
}

func (c *core) qdeviceRename(sender uint32, m qdeviceReconfigure) {
	c.log.Debug(fmt.Sprintf("Received qdevice name change req from node %d [from: %s to: %s]", sender, m.OldName, m.NewName))
	if m.OldName == c.qdeviceName {
		c.log.Debug("Allowing qdevice rename")
		c.qdeviceName = m.NewName
	}
}

// leaving is votequorum_exec_exit_fn: with allow_downscale, tell the others this node
// leaves so that they lower expected votes.
func (c *core) leaving() bool {
	if !c.allowDownscale {
		return false
	}
	c.us.flags |= flagLeaving
	return c.sendNodeInfo(c.us.id) == nil
}

// --- timers

func (c *core) timerFired(k timerKind) {
	switch k {
	case timerLMS:
		if !c.lmsTimerSet {
			return
		}
		c.lmsTimerSet = false
		if c.quorate {
			c.recalculate(true, true)
		}
	case timerQdevice:
		if c.us.flags&flagQdeviceAlive == 0 || !c.qdeviceTimerSet {
			return
		}
		c.us.flags &^= flagQdeviceAlive | flagQdeviceCastVote
		c.log.Info(fmt.Sprintf("lost contact with quorum device %s", c.qdeviceName))
		c.sendNodeInfo(c.us.id)
		c.qdeviceTimerSet = false
		c.syncWaitPoll = false
	}
}

func ms(v uint32) time.Duration { return time.Duration(v) * time.Millisecond }

// --- synchronisation

func (c *core) syncInit(members []uint32, ring vq.RingID) {
	c.syncInProgress = true
	c.syncNodeinfoSent = false
	c.syncWaitPoll = false
	if len(members) > 1 {
		c.us.flags &^= flagFirst
	}
	left := false
	for _, id := range c.quorumMembers {
		if !slices.Contains(members, id) {
			left = true
			if n := c.find(id); n != nil {
				n.state = vq.NodeStateDead
			}
		}
	}
	if c.lms {
		entries := uint32(len(members))
		if (entries >= c.quorum && left) ||
			(entries <= c.quorum && c.atb != atbNone && c.memberWithID(c.lowestID)) {
			if c.lmsTimerSet {
				c.fx.stopTimer(timerLMS)
			}
			c.fx.startTimer(timerLMS, ms(c.lmsWindow))
			c.lmsTimerSet = true
		}
	}
	c.prevQuorumMembers = slices.Clone(c.quorumMembers)
	c.quorumMembers = slices.Clone(members)
	c.ring = ring
	if c.us.flags&flagQdeviceRegistered != 0 && c.us.flags&flagQdeviceAlive != 0 {
		if c.qdeviceTimerSet {
			c.fx.stopTimer(timerQdevice)
		}
		c.fx.startTimer(timerQdevice, ms(c.qdeviceSyncTimeout))
		c.qdeviceTimerSet = true
		c.syncWaitPoll = true
		c.log.Info(fmt.Sprintf("waiting for quorum device %s poll (but maximum for %d ms)", c.qdeviceName, c.qdeviceSyncTimeout))
	}
}

func (c *core) syncProcess() bool {
	if !c.syncNodeinfoSent {
		c.sendNodeInfo(c.us.id)
		c.sendNodeInfo(vq.QdeviceNodeID)
		if c.qdeviceName != "" {
			c.sendQdeviceReg(qdeviceOpRegister, c.qdeviceName)
		}
		c.sendNodelistNotification(nil, 0)
		c.syncNodeinfoSent = true
	}
	return !(c.us.flags&flagQdeviceRegistered != 0 && c.syncWaitPoll)
}

func (c *core) syncActivate() {
	c.recalculate(false, false)
	c.fx.setQuorum(slices.Clone(c.quorumMembers), c.quorate, c.ring)
	c.sendQuorumNotification(nil, 0)
	c.syncInProgress = false
}

// --- configuration reload (votequorum_refresh_config)

// reloading reports whether a configuration reload is under way (corosync ignores
// quorum.* and nodelist.* changes then, and re-reads everything when it ends).
func reloading(m *icmap.Map) bool {
	v, err := m.Get("config.totemconfig_reload_in_progress")
	return err == nil && v.Type() == cmap.TypeUint8 && v.Uint8() != 0
}

// refresh is votequorum_refresh_config for a change of key; reread says whether it read
// the configuration again.
func (c *core) refresh(key string) (reread bool) {
	if reloading(c.m) {
		return false
	}
	if key == "config.totemconfig_reload_in_progress" {
		if v, err := c.m.Get("config.reload_status"); err == nil && v.Type() == cmap.TypeInt32 && v.Int32() != int32(ipc.CSOk) {
			return false
		}
	}
	if key == "quorum.cancel_wait_for_all" {
		if v, ok := c.getU8(key); ok && v >= 1 {
			c.m.Set(key, cmap.Uint8(0))
			if c.sendReconfigure(paramCancelWFA, c.us.id, 0) != nil {
				c.log.Error("Failed to send Cancel WFA message to other nodes")
			}
			return false
		}
	}
	oldVotes, oldExpected := c.us.votes, c.us.expected
	c.readConfig(true)
	c.sendNodeInfo(c.us.id)
	c.sendNodeInfo(vq.QdeviceNodeID)
	if c.us.votes != oldVotes && c.sendReconfigure(paramNodeVotes, c.us.id, c.us.votes) != nil {
		c.log.Error("Failed to send new votes message to other nodes")
	}
	if c.us.expected != oldExpected && c.sendReconfigure(paramExpectedVotes, c.us.id, c.us.expected) != nil {
		c.log.Error("Failed to send expected votes message to other nodes")
	}
	return true
}
