package votequorum

import (
	"fmt"

	"github.com/corosync-go/corosync/ipc"
	vq "github.com/corosync-go/corosync/ipc/votequorum"
)

// The library handlers (message_handler_req_lib_votequorum_*). Each answers the
// connection; a qdevice registration answers later, when its exec message is delivered.

func (c *core) getInfo(to *conn, req vq.GetInfoRequest) {
	id := req.NodeID
	if id == vq.QdeviceNodeID {
		id = c.us.id
	}
	n := c.find(id)
	if n == nil {
		// 3.1.7 sends the struct's other fields uninitialised; ours are zero.
		b, _ := vq.GetInfoResponse{Error: ipc.CSErrNotExist}.Encode()
		to.c.respond(b)
		return
	}
	var highest, total uint32
	for _, m := range c.nodes {
		if m.state == vq.NodeStateMember {
			highest = max(highest, m.expected)
			total += m.votes
		}
	}
	if n.flags&flagQdeviceCastVote != 0 {
		total += c.qdevice.votes
	}
	i := vq.Info{
		NodeID: n.id, State: n.state, Votes: n.votes, ExpectedVotes: n.expected,
		HighestExpected: highest, TotalVotes: total, Quorum: c.quorum,
		QdeviceVotes: c.qdevice.votes, QdeviceName: c.qdeviceName,
	}
	for _, f := range []struct {
		on bool
		f  vq.InfoFlags
	}{
		{c.twoNode, vq.InfoTwoNode}, {c.quorate, vq.InfoQuorate}, {c.waitForAll, vq.InfoWaitForAll},
		{c.lms, vq.InfoLastManStanding}, {c.atb != atbNone, vq.InfoAutoTieBreaker},
		{c.allowDownscale, vq.InfoAllowDownscale},
		{n.flags&flagQdeviceRegistered != 0, vq.InfoQdeviceRegistered},
		{n.flags&flagQdeviceAlive != 0, vq.InfoQdeviceAlive},
		{n.flags&flagQdeviceCastVote != 0, vq.InfoQdeviceCastVote},
		{n.flags&flagQdeviceMasterWins != 0, vq.InfoQdeviceMasterWins},
	} {
		if f.on {
			i.Flags |= f.f
		}
	}
	b, err := vq.GetInfoResponse{Error: ipc.CSOk, Info: i}.Encode()
	if err != nil { // a device name that cannot fit was refused at registration
		b, _ = vq.GetInfoResponse{Error: ipc.CSErrLibrary}.Encode()
	}
	to.c.respond(b)
}

func (c *core) setExpected(to *conn, req vq.SetExpectedRequest) {
	cs := ipc.CSOk
	saved := c.allowDownscale
	c.allowDownscale = false
	newQuorum, total := c.calculateQuorum(true, req.ExpectedVotes)
	c.allowDownscale = saved
	switch {
	case req.ExpectedVotes < total || (c.quorate && newQuorum > total):
		cs = ipc.CSErrInvalid
	default:
		c.updateNodeExpected(req.ExpectedVotes)
		if c.sendReconfigure(paramExpectedVotes, c.us.id, req.ExpectedVotes) != nil {
			cs = ipc.CSErrNoResources
		}
	}
	to.c.respond(vq.EncodeStatusResponse(cs))
}

func (c *core) setVotes(to *conn, req vq.SetVotesRequest) {
	cs := ipc.CSOk
	n := c.find(req.NodeID)
	if n == nil {
		to.c.respond(vq.EncodeStatusResponse(ipc.CSErrNameNotFound))
		return
	}
	saved := n.votes
	n.votes = req.Votes
	newQuorum, total := c.calculateQuorum(true, 0)
	if newQuorum < total/2 || newQuorum > total {
		n.votes = saved
		cs = ipc.CSErrInvalid
	} else if c.sendReconfigure(paramNodeVotes, req.NodeID, req.Votes) != nil {
		cs = ipc.CSErrNoResources
	}
	// 3.1.7 leaves the new votes in place on success until the reconfigure arrives.
	to.c.respond(vq.EncodeStatusResponse(cs))
}

func (c *core) trackStart(to *conn, req vq.TrackStartRequest) {
	if req.Flags&(vq.TrackCurrent|vq.TrackChanges) != 0 {
		c.log.Debug("sending initial status")
		c.sendNodelistNotification(to, req.Context)
		c.sendQuorumNotification(to, req.Context)
	}
	if to.tracking {
		to.c.respond(vq.EncodeStatusResponse(ipc.CSErrExist))
		return
	}
	if req.Flags&(vq.TrackChanges|vq.TrackChangesOnly) != 0 {
		to.flags = req.Flags
		to.tracking = true
		to.context = req.Context
		c.trackers = append([]*conn{to}, c.trackers...) // qb_list_add puts it first
	}
	to.c.respond(vq.EncodeStatusResponse(ipc.CSOk))
}

func (c *core) untrack(to *conn) {
	to.tracking = false
	for i, t := range c.trackers {
		if t == to {
			c.trackers = append(c.trackers[:i:i], c.trackers[i+1:]...)
			return
		}
	}
}

func (c *core) trackStop(to *conn) {
	cs := ipc.CSOk
	if to.tracking {
		c.untrack(to)
	} else {
		cs = ipc.CSErrNotExist
	}
	to.c.respond(vq.EncodeStatusResponse(cs))
}

// disconnected is quorum_lib_exit_fn, plus forgetting a registration in flight.
func (c *core) disconnected(to *conn) {
	if to.tracking {
		c.untrack(to)
	}
	if c.qdeviceRegConn == to {
		c.qdeviceRegConn = nil
	}
}

func (c *core) qdeviceRegister(to *conn, req vq.QdeviceRegisterRequest) {
	cs := ipc.CSOk
	switch {
	case !c.qdeviceCanOperate:
		c.log.Info("Registration of quorum device is disabled by incorrect corosync.conf. See logs for more information")
		cs = ipc.CSErrAccess
	case c.us.flags&flagQdeviceRegistered != 0:
		if req.Name != c.qdeviceName {
			c.log.Warn(fmt.Sprintf("A new qdevice with different name (new: %s old: %s) is trying to re-register!", req.Name, c.qdeviceName))
			cs = ipc.CSErrExist
		}
	case c.qdeviceRegConn != nil:
		c.log.Warn("Registration request already in progress")
		cs = ipc.CSErrTryAgain
	default:
		c.qdeviceRegConn = to
		if c.sendQdeviceReg(qdeviceOpRegister, req.Name) == nil {
			return // answered when the message is delivered
		}
		c.log.Warn("Unable to send qdevice registration request to cluster")
		cs = ipc.CSErrTryAgain
		c.qdeviceRegConn = nil
	}
	to.c.respond(vq.EncodeStatusResponse(cs))
}

func (c *core) qdeviceUnregister(to *conn, req vq.QdeviceUnregisterRequest) {
	cs := ipc.CSOk
	switch {
	case c.us.flags&flagQdeviceRegistered == 0:
		cs = ipc.CSErrNotExist
	case req.Name != c.qdeviceName:
		cs = ipc.CSErrInvalid
	default:
		if c.qdeviceTimerSet {
			c.fx.stopTimer(timerQdevice)
			c.qdeviceTimerSet = false
			c.syncWaitPoll = false
		}
		c.us.flags &^= flagQdeviceRegistered | flagQdeviceAlive | flagQdeviceCastVote | flagQdeviceMasterWins
		c.sendNodeInfo(c.us.id)
		c.sendQdeviceReg(qdeviceOpUnregister, req.Name)
	}
	to.c.respond(vq.EncodeStatusResponse(cs))
}

func (c *core) qdeviceUpdate(to *conn, req vq.QdeviceUpdateRequest) {
	cs := ipc.CSOk
	switch {
	case c.us.flags&flagQdeviceRegistered == 0:
		cs = ipc.CSErrNotExist
	case req.OldName != c.qdeviceName:
		cs = ipc.CSErrInvalid
	default:
		c.fx.send(execQdeviceReconfigure, qdeviceReconfigure{OldName: req.OldName, NewName: req.NewName}.encode())
	}
	to.c.respond(vq.EncodeStatusResponse(cs))
}

func (c *core) qdevicePoll(to *conn, req vq.QdevicePollRequest) {
	cs := ipc.CSOk
	switch {
	case !c.qdeviceCanOperate:
		cs = ipc.CSErrAccess
	case c.us.flags&flagQdeviceRegistered == 0:
		cs = ipc.CSErrNotExist
	case req.RingID != c.ring:
		c.log.Debug(fmt.Sprintf("Received poll ring id (%d.%d) != last sync ring id (%d.%d). Ignoring poll call.",
			req.RingID.NodeID, req.RingID.Seq, c.ring.NodeID, c.ring.Seq))
		cs = ipc.CSErrMessage
	case req.Name != c.qdeviceName:
		cs = ipc.CSErrInvalid
	default:
		if c.qdeviceTimerSet {
			c.fx.stopTimer(timerQdevice)
			c.qdeviceTimerSet = false
		}
		old := c.us.flags
		c.us.flags |= flagQdeviceAlive
		if req.CastVote {
			c.us.flags |= flagQdeviceCastVote
		} else {
			c.us.flags &^= flagQdeviceCastVote
		}
		if c.us.flags != old {
			c.sendNodeInfo(c.us.id)
		} else if c.syncWaitPoll {
			// The executive calls SyncProcess again after a delivery; the device's
			// unchanged nodeinfo is one that changes nothing (corosync's sync
			// service polls instead).
			c.sendNodeInfo(vq.QdeviceNodeID)
		}
		c.fx.startTimer(timerQdevice, ms(c.qdeviceTimeout))
		c.qdeviceTimerSet = true
		c.syncWaitPoll = false
	}
	to.c.respond(vq.EncodeStatusResponse(cs))
}

func (c *core) qdeviceMasterWinsReq(to *conn, req vq.QdeviceMasterWinsRequest) {
	cs := ipc.CSOk
	old := c.us.flags
	switch {
	case !c.qdeviceCanOperate:
		cs = ipc.CSErrAccess
	case c.us.flags&flagQdeviceRegistered == 0:
		cs = ipc.CSErrNotExist
	case req.Name != c.qdeviceName:
		cs = ipc.CSErrInvalid
	default:
		if req.Allow {
			c.us.flags |= flagQdeviceMasterWins
		} else {
			c.us.flags &^= flagQdeviceMasterWins
		}
		if c.us.flags != old {
			c.sendNodeInfo(c.us.id)
		}
		c.updateQdeviceMasterWins(req.Allow)
	}
	to.c.respond(vq.EncodeStatusResponse(cs))
}
