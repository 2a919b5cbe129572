package totem

import (
	"slices"
	"strings"
)

// This file holds the membership protocol: gather (agree on a member set), commit (install
// the new ring id on every member), recovery (exchange old-ring messages) and the move to
// operational with EVS deliveries.

// enterGather starts (or restarts) the gather state. fromRing is true when this node leaves
// a ring it was operational or forming on, whose members it keeps as candidates.
func (n *Node) enterGather(reason string, fromRing bool) {
	n.stats.GatherEntered++
	prev := n.state
	if prev == StateOperational {
		// The installed ring becomes the old ring whose messages recovery will exchange.
		n.oldRing, n.old = n.ring, n.cur
		n.oldMembers = slices.Clone(n.members)
		n.cur = nil
		n.dropHeldToken()
	} else if n.cur != nil && n.cur != n.old {
		// A ring that failed during recovery: its frames are worthless.
		n.retire(n.cur)
		n.cur = nil
	}
	if fromRing {
		n.proc = mergeSorted(n.proc, n.members)
	}
	n.state = StateGather
	n.failed = removeNode(n.failed, n.id)
	n.agreed = append(n.agreed[:0], n.id)
	n.t = timers{loopback: n.t.loopback}
	n.t.consensus = n.now + n.cfg.Consensus
	n.commitEntries = n.commitEntries[:0]
	n.loopbackPackets = nil
	n.event("entering GATHER state from %s", reason)
	// Consensus is checked when joins arrive and when the join timer fires, never here: a
	// node alone in its proc set would otherwise form a ring before hearing anyone.
	n.sendJoin()
}

// sendJoin broadcasts this node's proc and failed sets and re-arms the join timer.
func (n *Node) sendJoin() {
	if n.state != StateGather {
		return
	}
	n.stats.MembJoinTx++
	n.out = Message{Header: Header{Ring: n.ring}, RingSeq: n.maxRingSeq, Proc: n.proc, Failed: n.failed}
	n.emit(Broadcast, AppendJoin(n.pktBuf(), n.id, &n.out))
	n.t.join = n.now + n.cfg.Join
}

func (n *Node) onJoin(m *Message) {
	n.stats.MembJoinRx++
	if m.Leave {
		n.onLeave(m.Sender)
		return
	}
	switch n.state {
	case StateOperational:
		if contains(n.members, m.Sender) && m.RingSeq < n.ring.Seq {
			n.stats.RxDropped++ // a join from before this ring formed
			return
		}
		if !contains(n.members, m.Sender) && contains(m.Failed, n.id) {
			// The sender counts us as failed: leaving our ring for it would only form
			// another ring without it. Merge detection brings us together once it hears us.
			n.stats.RxDropped++
			return
		}
		n.enterGather("join message from "+itoa(m.Sender), true)
	case StateCommit, StateRecovery:
		if !contains(n.members, m.Sender) || m.RingSeq < n.ring.Seq {
			n.stats.RxDropped++
			return
		}
		n.enterGather("join message during "+strings.ToLower(n.state.String()), true)
	}
	n.mergeJoin(m)
}

// onLeave handles a node announcing its departure.
func (n *Node) onLeave(from NodeID) {
	if n.state == StateOperational && contains(n.members, from) {
		n.enterGather("leave message from "+itoa(from), true)
	}
	if n.state == StateGather && !contains(n.failed, from) {
		n.proc = insertSorted(n.proc, from)
		n.failed = insertSorted(n.failed, from)
		n.agreed = append(n.agreed[:0], n.id)
		n.t.consensus = n.now + n.cfg.Consensus
		n.sendJoin()
		n.checkConsensus()
	}
}

// mergeJoin applies a gather-state join with corosync's rules (memb_join_process): identical
// sets count as agreement; a join from a node we consider failed is ignored; a sender that
// counts us as failed joins our failed set; and a sender's failed set is believed only when the
// sender is a member of our ring, so that one isolated node cannot talk everyone else into
// failing each other.
func (n *Node) mergeJoin(m *Message) {
	if n.state != StateGather {
		return
	}
	if slices.Equal(m.Proc, n.proc) && slices.Equal(m.Failed, n.failed) {
		if !contains(n.agreed, m.Sender) {
			n.agreed = append(n.agreed, m.Sender)
		}
		n.checkConsensus()
		return
	}
	if contains(n.failed, m.Sender) {
		return
	}
	subsetOf := func(a, b []NodeID) bool {
		for _, x := range a {
			if !contains(b, x) {
				return false
			}
		}
		return true
	}
	if subsetOf(m.Proc, n.proc) && subsetOf(m.Failed, n.failed) && contains(n.proc, m.Sender) {
		return // the sender knows less than we do; our next join tells it
	}
	proc := insertSorted(n.proc, m.Sender)
	for _, p := range m.Proc {
		proc = insertSorted(proc, p)
	}
	failed := n.failed
	if contains(m.Failed, n.id) {
		failed = insertSorted(failed, m.Sender)
	} else if contains(n.members, m.Sender) {
		for _, f := range m.Failed {
			if f != n.id {
				failed = insertSorted(failed, f)
			}
		}
	}
	changed := !slices.Equal(proc, n.proc) || !slices.Equal(failed, n.failed)
	n.proc, n.failed = proc, failed
	if changed {
		// New sets start a new round of agreement, with a full consensus timeout as corosync
		// does (it re-enters gather): otherwise a timeout firing right after the reset would
		// fail the nodes that agreed a moment ago. Sets only grow within a gather, so this
		// restarts at most 2*nodes times.
		n.agreed = append(n.agreed[:0], n.id)
		n.t.consensus = n.now + n.cfg.Consensus
		n.sendJoin()
	}
	n.checkConsensus()
}

// candidates returns proc minus failed, sorted.
func (n *Node) candidates() []NodeID {
	var out []NodeID
	for _, p := range n.proc {
		if !contains(n.failed, p) {
			out = append(out, p)
		}
	}
	return out
}

func (n *Node) checkConsensus() {
	if n.state != StateGather {
		return
	}
	cand := n.candidates()
	for _, c := range cand {
		if !contains(n.agreed, c) {
			return
		}
	}
	if cand[0] != n.id {
		return // the lowest node id creates the commit token
	}
	n.createCommitToken(cand)
}

func (n *Node) onConsensusTimeout() {
	if n.state != StateGather {
		return
	}
	n.stats.ConsensusTimeouts++
	// corosync re-enters gather here, so it counts a gather entry and a lost "token" (the
	// consensus timer is its token timer in gather); several in a row without a ring
	// forming mean the network or a firewall is in the way.
	n.stats.GatherEntered++
	n.stats.GatherTokenLost++
	n.stats.ContinuousGather++
	var dropped []NodeID
	for _, c := range n.candidates() {
		if !contains(n.agreed, c) {
			n.failed = insertSorted(n.failed, c)
			dropped = append(dropped, c)
		}
	}
	if len(dropped) > 0 {
		n.event("consensus timeout: failed %s", nodeList(dropped))
	}
	n.agreed = append(n.agreed[:0], n.id)
	n.t.consensus = n.now + n.cfg.Consensus
	n.sendJoin()
	n.checkConsensus()
}

// createCommitToken starts a new ring with this node as representative.
func (n *Node) createCommitToken(members []NodeID) {
	ring := RingID{Rep: n.id, Seq: n.maxRingSeq + 4, Epoch: n.cfg.Incarnation}
	n.maxRingSeq = ring.Seq
	entries := make([]MembEntry, len(members))
	for i, m := range members {
		entries[i].Node = m
	}
	n.out = Message{Header: Header{Ring: ring}, TokenSeq: 0, Memb: entries}
	n.enterCommit(ring, members)
	n.fillCommitEntry(&n.out)
	n.forwardCommit(&n.out)
}

// onCommit handles the commit token in its two rotations: the first fills every member's
// entry, the second moves every member into recovery.
func (n *Node) onCommit(m *Message) {
	n.stats.CommitTokenRx++
	switch n.state {
	case StateGather:
		if m.MembIndex == len(m.Memb) || m.Ring.Seq <= n.oldRing.Seq {
			n.stats.RxDropped++
			return
		}
		members := make([]NodeID, len(m.Memb))
		for i := range m.Memb {
			members[i] = m.Memb[i].Node
		}
		if !slices.Equal(members, n.candidates()) || m.Memb[m.MembIndex].Node != n.id {
			n.stats.RxDropped++
			return
		}
		n.enterCommit(m.Ring, members)
		n.commitTokenSeq = m.TokenSeq
		n.fillCommitEntry(m)
		n.forwardCommit(m)
	case StateCommit:
		if m.Ring != n.ring || m.TokenSeq <= n.commitTokenSeq || m.MembIndex != len(m.Memb) {
			n.stats.RxDropped++
			return
		}
		if i := slices.IndexFunc(m.Memb, func(e MembEntry) bool { return e.Node == n.id }); i < 0 || m.Memb[i].OldRing != n.oldRing {
			// Our entry was filled by an earlier incarnation of this node (it restarted
			// while the commit token went round): this ring would misplace our history.
			n.enterGather("commit token filled by a previous incarnation", true)
			return
		}
		n.commitTokenSeq = m.TokenSeq
		n.enterRecovery(m.Memb)
		n.forwardCommit(m)
	case StateRecovery:
		if m.Ring != n.ring || m.TokenSeq <= n.commitTokenSeq || !n.isRep() {
			n.stats.RxDropped++
			return
		}
		// The second rotation is complete: every member is in recovery.
		n.commitTokenSeq = m.TokenSeq
		n.t.tokenRetransmit = 0
		n.originateToken()
	default:
		n.stats.RxDropped++
	}
}

func (n *Node) enterCommit(ring RingID, members []NodeID) {
	n.stats.ContinuousGather = 0
	n.stats.CommitEntered++
	n.state = StateCommit
	n.ring = ring
	n.members = members
	n.noteRingSeq(ring.Seq)
	n.t.join, n.t.consensus = 0, 0
	n.t.tokenLoss = n.now + n.token
}

func (n *Node) fillCommitEntry(m *Message) {
	e := &m.Memb[m.MembIndex]
	e.OldRing = n.oldRing
	e.Aru = n.old.aru
	e.HighDelivered = n.old.delivered
	e.Received = true
	m.MembIndex++
}

// forwardCommit sends the commit token to the next member and keeps a copy to retransmit.
func (n *Node) forwardCommit(m *Message) {
	if len(n.members) == 1 {
		// A ring of one: both rotations are done already.
		n.enterRecovery(m.Memb)
		n.originateToken()
		return
	}
	m.TokenSeq++
	n.commitTokenSeq = m.TokenSeq
	n.stats.CommitTokenTx++
	b := AppendCommit(n.pktBuf(), n.id, m)
	n.tokenCopy = append(n.tokenCopy[:0], b...)
	n.tokenCopyTo = n.successor()
	n.emit(n.tokenCopyTo, b)
	n.t.tokenRetransmit = n.now + n.cfg.TokenRetransmit
}

// enterRecovery starts exchanging old-ring messages on the new ring.
func (n *Node) enterRecovery(entries []MembEntry) {
	n.stats.ContinuousGather = 0
	n.stats.RecoveryEntered++
	n.state = StateRecovery
	n.commitEntries = append(n.commitEntries[:0], entries...)
	n.cur = n.takeStore(n.ring)
	n.transMembers = n.transMembers[:0]
	n.lowAru, n.cPoint = ^uint64(0), 0
	for _, e := range entries {
		if e.OldRing == n.oldRing {
			n.transMembers = append(n.transMembers, e.Node)
			n.lowAru = min(n.lowAru, e.Aru)
			n.cPoint = max(n.cPoint, e.HighDelivered)
		}
	}
	// From here on the old ring's frame set only grows through recovery, which every
	// transitional member sees alike.
	n.old.frozen = true
	n.recoveryQueue = n.recoveryQueue[:0]
	if len(n.transMembers) > 1 {
		for s := n.lowAru + 1; s <= n.old.high; s++ {
			if n.old.get(s) != nil {
				n.recoveryQueue = append(n.recoveryQueue, s)
			}
		}
	}
	n.lastTokenSeq, n.haveFwdAru, n.lastFwdAru = 0, false, 0
	n.lastSeenSeq, n.seqUnchanged, n.failRecvCount = 0, 0, 0
	n.myFCC, n.myBL = 0, 0
	n.retransFlagSet, n.retransCount, n.installSeq, n.rotationCount = false, 0, 0, 0
	n.stable, n.released = 0, 0
	n.holdBelieved, n.holdCancelSent = false, false
	n.t.tokenLoss = n.now + n.token
	n.event("entering RECOVERY state (ring %s, %d recovery messages)", n.ring, len(n.recoveryQueue))
}

// originateToken creates the new ring's first token at the representative.
func (n *Node) originateToken() {
	tok := Message{Header: Header{Type: MsgToken, Sender: n.id, Ring: n.ring}, TokenSeq: 1}
	n.processToken(&tok)
}

// install moves from recovery to operational and delivers, in EVS order: old-ring messages
// in the old regular configuration, the transitional configuration, the remaining recovered
// messages, and the new regular configuration.
func (n *Node) install() {
	n.stats.ContinuousGather = 0
	n.stats.OperationalEntered++
	n.stats.RingChanges++
	old := n.old
	deliverUpTo := func(limit uint64, agreedOnly bool) {
		for s := old.delivered + 1; s <= limit; s++ {
			f := old.get(s)
			if f == nil || (agreedOnly && f.flags&FlagSafe != 0) {
				return
			}
			n.deliverFrame(f, old.ring)
			old.delivered = s
		}
	}
	// 1. In the old regular configuration: everything some transitional member delivered
	// there, then agreed messages while they are contiguous.
	deliverUpTo(n.cPoint, false)
	deliverUpTo(old.high, true)
	// 2. The transitional configuration.
	trans := &Configuration{Transitional: true, Ring: n.ring, Members: slices.Clone(n.transMembers)}
	for _, m := range n.oldMembers {
		if !contains(n.transMembers, m) {
			trans.Left = append(trans.Left, m)
		}
	}
	n.deliverConfig(trans)
	// 3. The rest, which every transitional member holds alike after recovery.
	deliverUpTo(old.high, false)
	if !n.cfg.DropAfterGap {
		for s := old.delivered + 1; s <= old.high; s++ {
			if f := old.get(s); f != nil && contains(n.transMembers, f.sender) {
				n.deliverFrame(f, old.ring)
			}
		}
	}
	// 4. The new regular configuration.
	reg := &Configuration{Ring: n.ring, Members: slices.Clone(n.members)}
	for _, m := range n.members {
		if !contains(n.oldMembers, m) {
			reg.Joined = append(reg.Joined, m)
		}
	}
	n.deliverConfig(reg)

	var joined, left []NodeID
	joined, left = reg.Joined, trans.Left
	msg := "A new membership (" + n.ring.String() + ") was formed. Members"
	if len(joined) > 0 {
		msg += " joined: " + nodeList(joined)
	}
	if len(left) > 0 {
		msg += " left: " + nodeList(left)
	}
	n.event("%s", msg)

	n.retire(old)
	n.old = nil
	n.oldRing = n.ring
	n.oldMembers = slices.Clone(n.members)
	n.state = StateOperational
	n.holdForSync()
	n.proc = slices.Clone(n.members)
	n.failed = n.failed[:0]
	if n.isRep() {
		n.t.merge = n.now + n.cfg.Merge
	}
}

func (n *Node) onMergeDetect(m *Message) {
	n.stats.MergeDetectRx++
	if n.state == StateOperational && m.Ring != n.ring && !contains(n.members, m.Sender) {
		n.proc = insertSorted(n.proc, m.Sender)
		n.enterGather("merge during operational state", true)
	}
}

func (n *Node) onMergeTimer() {
	if n.state != StateOperational || !n.isRep() {
		return
	}
	n.stats.MergeDetectTx++
	n.emit(Broadcast, AppendSimple(n.pktBuf(), MsgMergeDetect, n.id, n.ring))
	n.t.merge = n.now + n.cfg.Merge
}

// takeStore returns a store for ring, recycling a retired one when possible.
func (n *Node) takeStore(ring RingID) *store {
	if s := n.spareStore; s != nil {
		n.spareStore = nil
		s.reset(ring)
		return s
	}
	return newStore(ring, n.cfg.WindowFramesMax, &n.bufs)
}

// retire hands a store back once the driver has consumed deliveries that point into it.
func (n *Node) retire(s *store) {
	if s != nil {
		n.retiredStores = append(n.retiredStores, s)
	}
}

func insertSorted(set []NodeID, n NodeID) []NodeID {
	i, found := slices.BinarySearch(set, n)
	if found {
		return set
	}
	return slices.Insert(slices.Clone(set), i, n)
}

func removeNode(set []NodeID, n NodeID) []NodeID {
	i, found := slices.BinarySearch(set, n)
	if !found {
		return set
	}
	return slices.Delete(slices.Clone(set), i, i+1)
}

func mergeSorted(a, b []NodeID) []NodeID {
	out := slices.Clone(a)
	for _, x := range b {
		out = insertSorted(out, x)
	}
	return out
}

func itoa(n NodeID) string { return nodeList([]NodeID{n}) }

func nodeList(ids []NodeID) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(uitoa(uint64(id)))
	}
	return b.String()
}

func uitoa(v uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(buf[i:])
}
