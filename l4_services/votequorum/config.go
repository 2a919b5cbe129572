package votequorum

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	vq "github.com/corosync-go/corosync/ipc/votequorum"
)

// nodelistConfig is votequorum_read_nodelist_configuration: this node's votes, the node
// count and the sum of every node's quorum_votes (default 1). ok is false without a node
// list or when this node is not in it.
func (c *core) nodelistConfig() (votes, nodes, expected uint32, ok bool) {
	ourPos, ok := c.getU32("nodelist.local_node_pos")
	if !ok {
		c.log.Debug("No nodelist defined or our node is not in the nodelist")
		return 0, 0, 0, false
	}
	last := int64(-1)
	for _, k := range c.m.Keys("nodelist.node.") {
		rest := strings.TrimPrefix(k.Key, "nodelist.node.")
		dot := strings.IndexByte(rest, '.')
		if dot <= 0 || dot == len(rest)-1 {
			continue
		}
		pos, err := strconv.ParseUint(rest[:dot], 10, 32)
		if err != nil || int64(pos) == last {
			continue
		}
		last = int64(pos)
		nodes++
		v, ok := c.getU32(fmt.Sprintf("nodelist.node.%d.quorum_votes", pos))
		if !ok {
			v = 1
		}
		expected += v
		if uint32(pos) == ourPos {
			votes = v
		}
	}
	return votes, nodes, expected, true
}

// qdeviceConfigured is votequorum_qdevice_is_configured; votes is -1 when the model is
// set but quorum.device.votes is not.
func (c *core) qdeviceConfigured() (votes int64, ok bool) {
	model, _ := c.getString("quorum.device.model")
	if model == "" {
		return 0, false
	}
	votes = -1
	if v, ok := c.getU32("quorum.device.votes"); ok {
		votes = int64(v)
	}
	if v, ok := c.getU32("quorum.device.timeout"); ok {
		c.qdeviceTimeout = v
	} else {
		c.qdeviceTimeout = vq.QdeviceDefaultTimeout
	}
	if v, ok := c.getU32("quorum.device.sync_timeout"); ok {
		c.qdeviceSyncTimeout = v
	} else {
		c.qdeviceSyncTimeout = vq.QdeviceDefaultSyncTimeout
	}
	c.updateQdeviceCanOperate(true)
	return votes, true
}

// readConfig is votequorum_readconfig. At start-up (runtime false) a configuration error
// is returned; at run time it is logged and the current values stay.
func (c *core) readConfig(runtime bool) error {
	c.log.Debug(fmt.Sprintf("Reading configuration (runtime: %d)", b2i(runtime)))
	var expected uint32
	if runtime {
		c.twoNode = false
		c.atb = c.initialATB
		c.setU32("runtime.votequorum.atb_type", c.atb)
	}
	expected, _ = c.getU32("quorum.expected_votes")
	nodeVotes, nodeCount, nodeExpected, haveNodelist := c.nodelistConfig()
	qdeviceVotes, haveQdevice := c.qdeviceConfigured()
	if v, ok := c.getU8("quorum.two_node"); ok {
		c.twoNode = v != 0
	}
	// fail is a configuration error: fatal at start-up, logged with a fallback at run time.
	fail := func(msg string, runtimeFix func()) error {
		if !runtime {
			return errors.New(msg)
		}
		c.crit(msg)
		runtimeFix()
		return nil
	}
	disableQdevice := func() {
		c.crit("disabling quorum device operations")
		c.updateQdeviceCanOperate(false)
	}

	if !haveNodelist && expected == 0 {
		if !runtime {
			return errors.New("configuration error: nodelist or quorum.expected_votes must be configured!")
		}
		c.crit("configuration error: nodelist or quorum.expected_votes must be configured!")
		c.crit("will continue with current runtime data")
		return nil
	}
	if c.twoNode && haveQdevice {
		if err := fail("configuration error: two_node and quorum device cannot be configured at the same time!", func() {
			if c.us.flags&flagQdeviceRegistered != 0 {
				c.crit("quorum device is registered, disabling two_node")
				c.twoNode = false
			} else {
				c.crit("quorum device is not registered, allowing two_node")
				c.updateQdeviceCanOperate(false)
			}
		}); err != nil {
			return err
		}
	}
	if !runtime {
		if v, ok := c.getU8("quorum.allow_downscale"); ok {
			c.allowDownscale = v != 0
		}
		if v, ok := c.getU8("quorum.wait_for_all"); ok {
			c.waitForAll = v != 0
		} else {
			c.wfaAutoset = true
		}
		if v, ok := c.getU8("quorum.last_man_standing"); ok {
			c.lms = v != 0
		}
		if v, ok := c.getU32("quorum.last_man_standing_window"); ok {
			c.lmsWindow = v
		}
		if v, ok := c.getU8("quorum.expected_votes_tracking"); ok {
			c.evTracking = v != 0
		}
		atbOn, _ := c.getU8("quorum.auto_tie_breaker")
		atbString, haveATBString := c.getString("quorum.auto_tie_breaker_node")
		if atbOn != 0 {
			c.atb = atbLowest
			c.setU32("runtime.votequorum.atb_type", c.atb)
		} else {
			c.atb = atbNone
			if haveATBString {
				c.log.Warn("auto_tie_breaker_node: is meaningless if auto_tie_breaker is set to 0")
			}
		}
		if atbOn != 0 && haveATBString {
			c.parseATB(atbString)
		}
		c.initialATB = c.atb
		if c.allowDownscale {
			c.evTracking = true
		}
		if c.evTracking {
			if err := c.loadEVBarrier(); err != nil {
				return errors.New("Unable to load ev_tracking file!")
			}
			c.updateEVTrackingBarrier(c.evTrackingBarrier)
		}
	}
	if c.wfaAutoset {
		c.waitForAll = c.twoNode
	}
	if c.twoNode && c.atb != atbNone {
		c.crit("two_node and auto_tie_breaker are both specified but are not compatible.")
		c.crit("two_node has been disabled, please fix your corosync.conf")
		c.twoNode = false
	}
	if c.atb != atbNone && nodeExpected%2 == 1 && !c.waitForAll {
		if c.lms {
			c.crit("auto_tie_breaker is set, the cluster has an odd number of nodes\n")
			c.crit("and last_man_standing is also set. With this situation a better\n")
			c.crit("solution would be to disable LMS, leave ATB enabled, and also\n")
			c.crit("enable wait_for_all (mandatory for ATB in odd-numbered clusters).\n")
			c.crit("Due to this ambiguity, corosync will fail to start. Please fix your corosync.conf\n")
			return errors.New("configuration error: auto_tie_breaker & last_man_standing not available in odd sized cluster")
		}
		c.crit("auto_tie_breaker is set and the cluster has an odd number of nodes.\n")
		c.crit("wait_for_all needs to be set for this configuration but it is missing\n")
		c.crit("Therefore auto_tie_breaker has been disabled. Please fix your corosync.conf\n")
		c.atb = atbNone
		c.setU32("runtime.votequorum.atb_type", c.atb)
	}
	type check struct {
		bad bool
		msg string
	}
	for _, ch := range []check{
		{haveQdevice && c.lms, "configuration error: quorum.device is not compatible with last_man_standing"},
		{haveQdevice && c.atb != atbNone, "configuration error: quorum.device is not compatible with auto_tie_breaker"},
		{haveQdevice && c.allowDownscale, "configuration error: quorum.device is not compatible with allow_downscale"},
		{expected != 0 && haveQdevice && qdeviceVotes == -1, "configuration error: quorum.device.votes must be specified when quorum.expected_votes is set"},
		{haveQdevice && qdeviceVotes == -1 && haveNodelist && nodeCount != nodeExpected, "configuration error: quorum.device.votes must be specified when not all nodes votes 1"},
		{qdeviceVotes > 0 && expected != 0 && int32(expected-uint32(qdeviceVotes)) < 2, "configuration error: quorum.device.votes is too high or expected_votes is too low"},
	} {
		if ch.bad {
			if err := fail(ch.msg, disableQdevice); err != nil {
				return err
			}
		}
	}
	if haveQdevice && qdeviceVotes == -1 && expected == 0 && haveNodelist && nodeCount == nodeExpected {
		qdeviceVotes = int64(nodeExpected) - 1
		nodeExpected += uint32(qdeviceVotes)
	}
	c.log.Debug(fmt.Sprintf("ev_tracking=%d, ev_tracking_barrier = %d: expected_votes = %d\n", b2i(c.evTracking), c.evTrackingBarrier, expected))
	if c.evTracking {
		expected = c.evTrackingBarrier
	}
	if haveNodelist {
		c.us.votes = nodeVotes
		c.us.expected = nodeExpected
	} else {
		c.us.votes = 1
		if v, ok := c.getU32("quorum.votes"); ok {
			c.us.votes = v
		}
	}
	if expected != 0 {
		c.us.expected = expected
	}
	if !haveQdevice {
		c.qdevice.votes = 0
	}
	if qdeviceVotes != -1 {
		c.qdevice.votes = uint32(qdeviceVotes)
	}
	c.updateEVBarrier(c.us.expected)
	c.setU8("runtime.votequorum.two_node", c.twoNode)
	if c.waitForAll {
		if !runtime {
			c.updateWFAStatus(true)
		}
	} else if c.wfaAutoset && c.wfaStatus {
		c.updateWFAStatus(false)
	}
	return nil
}
