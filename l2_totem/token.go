package totem

// This file holds the ordering half of the protocol: the token visit (retransmissions, new
// frames, aru, flow control, recovery progress, token hold), multicast receipt and delivery.

func (n *Node) onToken(m *Message) {
	n.stats.OrfTokenRx++
	if (n.state != StateOperational && n.state != StateRecovery) || m.Ring != n.ring {
		n.stats.RxDropped++
		return
	}
	if m.TokenSeq <= n.lastTokenSeq {
		n.stats.RxDropped++ // a retransmitted copy of a token already handled
		return
	}
	n.processToken(m)
}

// processToken is one token visit. tok is modified in place and forwarded.
func (n *Node) processToken(tok *Message) {
	c := n.cur
	n.lastTokenSeq = tok.TokenSeq
	n.visits.received(n.now)
	n.t.tokenLoss = n.now + n.token
	n.t.tokenRetransmit = 0

	// Every member had every frame up to min(aru now, aru one rotation ago): the token has
	// been round once since, and any member missing one would have lowered the aru.
	if n.haveFwdAru {
		n.stable = max(n.stable, min(tok.Aru, n.lastFwdAru))
	}

	// The token is here, so it is not held elsewhere: frames the hook submits need no
	// hold cancel. The guess is made again at the end of the visit.
	n.holdBelieved = false
	if n.onVisit != nil && n.state == StateOperational {
		n.onVisit()
	}

	// Flow control: the ring's window, this node's per-visit limit, and its backlog share.
	allowed := 0
	if fcc := int(tok.FCC); fcc < n.cfg.WindowSize {
		allowed = min(n.cfg.MaxMessages, n.cfg.WindowSize-fcc)
	}
	backlog := n.sendable()
	if n.state == StateRecovery {
		backlog = len(n.recoveryQueue)
	}
	n.visits.backlog(backlog)
	if total := int(tok.Backlog) - int(n.myBL) + backlog; total > n.cfg.WindowSize && backlog > 0 {
		allowed = min(allowed, max(1, n.cfg.WindowSize*backlog/total))
	}

	// Retransmissions first; they use the same budget.
	sent := 0
	rtr := n.rtrScratch[:0]
	for _, s := range tok.RTR {
		if sent < allowed {
			if f := c.get(s); f != nil {
				n.sendFrame(f)
				n.stats.McastRetx++
				sent++
				continue
			}
		}
		if !containsSeq(rtr, s) {
			rtr = append(rtr, s)
		}
	}

	// New frames (operational) or old-ring frames (recovery).
	seqBefore := tok.Seq
	firstMcast := len(n.rd.Packets)
	windowTop := tok.Aru + uint64(len(c.slots)/2)
	for sent < allowed && tok.Seq+1 <= windowTop && c.fits(tok.Seq+1) {
		if n.state == StateOperational {
			if n.sendable() == 0 {
				break
			}
			p := n.popSendable()
			flags := uint8(0)
			if p.safe {
				flags = FlagSafe
			}
			tok.Seq++
			f := c.put(tok.Seq)
			f.sender, f.flags = n.id, flags
			// Hand the pending buffer to the frame instead of copying.
			n.bufs.put(f.data)
			f.data = p.data
			n.sendFrame(f)
		} else {
			if len(n.recoveryQueue) == 0 {
				break
			}
			o := n.old.get(n.recoveryQueue[0])
			n.recoveryQueue = n.recoveryQueue[1:]
			if o == nil {
				continue
			}
			tok.Seq++
			f := c.put(tok.Seq)
			f.sender, f.flags = n.id, FlagEncapsulated
			f.oldRing, f.oldSeq, f.oldSender, f.oldFlags = n.old.ring, o.seq, o.sender, o.flags
			f.data = append(f.data, o.data...)
			n.sendFrame(f)
		}
		n.stats.McastTx++
		sent++
	}

	// Ask for what this node still misses, once it has been missing for a few visits (it may
	// merely be in flight).
	for s := c.aru + 1; s <= seqBefore && s <= c.aru+1024; s++ {
		f := c.missingSlot(s)
		if f == nil {
			continue
		}
		if f.miss < 255 {
			f.miss++
		}
		if int(f.miss) >= n.cfg.MissCountConst && len(rtr) < retransmitEntriesMax && !containsSeq(rtr, s) {
			rtr = append(rtr, s)
			n.stats.RetransmitRequests++
		}
	}
	n.rtrScratch = rtr
	tok.RTR = append(tok.RTR[:0], rtr...)

	// Fail to receive: the aru has not moved for too long and this node is what holds it back.
	if n.state == StateOperational {
		if tok.AruAddr == n.id && tok.Aru == n.lastRecvAru && tok.Aru < seqBefore {
			n.failRecvCount++
		} else {
			n.failRecvCount = 0
		}
		n.lastRecvAru = tok.Aru
	}

	// The aru: lowered by any node missing frames, raised only by the node that lowered it.
	if c.aru < tok.Aru || tok.AruAddr == n.id || tok.AruAddr == 0 {
		tok.Aru = c.aru
		if tok.Aru == tok.Seq {
			tok.AruAddr = 0
		} else {
			tok.AruAddr = n.id
		}
	}

	// This node's contribution to the ring's flow-control counters replaces its previous one.
	tok.FCC = subClamp(tok.FCC, n.myFCC) + uint32(sent)
	n.myFCC = uint32(sent)
	remaining := uint32(n.sendable())
	if n.state == StateRecovery {
		remaining = uint32(len(n.recoveryQueue))
	}
	tok.Backlog = subClamp(tok.Backlog, n.myBL) + remaining
	n.myBL = remaining

	install := false
	if n.state == StateRecovery {
		install = n.recoveryProgress(tok)
	}

	// Idle ring: the representative holds the token instead of spinning it.
	if tok.Seq == n.lastSeenSeq {
		n.seqUnchanged++
	} else {
		n.seqUnchanged = 0
		n.holdCancelSent = false
	}
	n.lastSeenSeq = tok.Seq
	idle := n.seqUnchanged > n.cfg.SeqnoUnchangedConst
	n.holdBelieved = idle && !n.isRep()
	hold := idle && n.isRep() && n.state == StateOperational && n.sendable() == 0 &&
		len(tok.RTR) == 0 && tok.Aru == tok.Seq

	if n.failRecvCount > n.cfg.FailRecvConst {
		n.stats.FailedToReceive++
		n.event("FAILED TO RECEIVE")
		n.enterGather("failed to receive", true)
		return
	}

	n.forwardToken(tok, hold, firstMcast)
	if install {
		n.install()
	}
	if n.state == StateOperational {
		n.deliverReady()
	}
}

// recoveryProgress updates the retransmission flag and reports when recovery is complete:
// two rotations with no node re-sending old-ring frames, then two more in which this node
// holds everything up to the sequence number seen then.
func (n *Node) recoveryProgress(tok *Message) bool {
	if len(n.recoveryQueue) > 0 {
		tok.RetransFlag = true
		n.retransFlagSet = true
	} else if tok.RetransFlag && n.retransFlagSet {
		tok.RetransFlag = false
		n.retransFlagSet = false
	}
	if tok.RetransFlag {
		n.retransCount = 0
	} else {
		n.retransCount++
	}
	if n.retransCount == 2 {
		n.installSeq = tok.Seq
	}
	if n.retransCount >= 2 && n.cur.aru >= n.installSeq {
		n.rotationCount++
	} else {
		n.rotationCount = 0
	}
	return n.rotationCount >= 2
}

// forwardToken encodes the token and sends it to the successor (or holds it).
func (n *Node) forwardToken(tok *Message, hold bool, firstMcast int) {
	tok.TokenSeq++
	n.lastFwdAru, n.haveFwdAru = tok.Aru, true
	n.stats.OrfTokenTx++
	n.visits.sent(n.now)
	b := AppendToken(n.pktBuf(), n.id, tok)
	n.tokenCopy = append(n.tokenCopy[:0], b...)
	n.tokenCopyTo = n.successor()
	if hold {
		n.heldToken = n.tokenCopy
		n.t.hold = n.now + n.cfg.Hold
		if n.t.merge == 0 {
			n.t.merge = n.now + n.cfg.Merge
		}
		return
	}
	n.emit(n.tokenCopyTo, b)
	if n.cfg.AcceleratedRing && firstMcast < len(n.rd.Packets)-1 {
		// Put the token ahead of this visit's multicasts so the successor starts its turn
		// while they are still in flight.
		last := len(n.rd.Packets) - 1
		tp := n.rd.Packets[last]
		tb := n.pktBufs[last]
		copy(n.rd.Packets[firstMcast+1:], n.rd.Packets[firstMcast:last])
		copy(n.pktBufs[firstMcast+1:last+1], n.pktBufs[firstMcast:last])
		n.rd.Packets[firstMcast] = tp
		n.pktBufs[firstMcast] = tb
	}
	if n.tokenCopyTo != n.id {
		n.t.tokenRetransmit = n.now + n.cfg.TokenRetransmit
	}
}

// releaseHeldToken sends a token the representative was holding on an idle ring.
func (n *Node) releaseHeldToken() {
	if n.heldToken == nil {
		return
	}
	n.heldToken = nil
	n.t.hold = 0
	n.emit(n.tokenCopyTo, append(n.pktBuf(), n.tokenCopy...))
	if n.tokenCopyTo != n.id {
		n.t.tokenRetransmit = n.now + n.cfg.TokenRetransmit
	}
}

func (n *Node) dropHeldToken() {
	n.heldToken = nil
	n.t.hold = 0
}

func (n *Node) onHoldCancel(m *Message) {
	n.stats.CancelRx++
	if n.state == StateOperational && m.Ring == n.ring {
		n.releaseHeldToken()
	}
}

func (n *Node) onTokenRetransmit() {
	if n.state == StateGather || len(n.tokenCopy) == 0 {
		return
	}
	n.stats.TokenRetransmits++
	n.emit(n.tokenCopyTo, append(n.pktBuf(), n.tokenCopy...))
	n.t.tokenRetransmit = n.now + n.cfg.TokenRetransmit
}

func (n *Node) onTokenLoss() {
	if n.state == StateGather {
		return
	}
	switch n.state {
	case StateOperational:
		n.stats.TokenLosses++
	case StateCommit:
		n.stats.CommitTokenLost++
	case StateRecovery:
		n.stats.RecoveryTokenLost++
	}
	if n.state == StateOperational {
		n.event("A processor failed, forming new configuration: token timed out (%dms), waiting %dms for consensus.",
			n.token.Milliseconds(), n.cfg.Consensus.Milliseconds())
	} else {
		n.event("The token was lost in the %s state.", n.state)
	}
	n.enterGather("token loss", true)
}

// sendFrame broadcasts a frame of the current ring.
func (n *Node) sendFrame(f *frame) {
	o := &n.mc
	o.Ring, o.Seq, o.Flags, o.Payload = n.ring, f.seq, f.flags, f.data
	o.OldRing, o.OldSeq, o.OldSender, o.OldFlags = f.oldRing, f.oldSeq, f.oldSender, f.oldFlags
	sender := f.sender
	n.emit(Broadcast, AppendMcast(n.pktBuf(), sender, o))
	o.Payload = nil
}

func (n *Node) onMcast(m *Message) {
	n.stats.McastRx++
	if m.Ring == n.ring && n.cur != nil {
		n.t.tokenRetransmit = 0 // someone after us holds the token
		f := n.cur.put(m.Seq)
		if f == nil {
			return // duplicate or outside the window
		}
		f.sender, f.flags = m.Sender, m.Flags
		f.oldRing, f.oldSeq, f.oldSender, f.oldFlags = m.OldRing, m.OldSeq, m.OldSender, m.OldFlags
		f.data = append(f.data, m.Payload...)
		if m.Flags&FlagEncapsulated != 0 && n.state == StateRecovery && m.OldRing == n.oldRing {
			if o := n.old.put(m.OldSeq); o != nil {
				o.sender, o.flags = m.OldSender, m.OldFlags
				o.data = append(o.data, m.Payload...)
			}
		}
		if n.state == StateOperational {
			n.deliverReady()
		}
		return
	}
	if n.old != nil && m.Ring == n.oldRing && !n.old.frozen && m.Flags&FlagEncapsulated == 0 {
		// A late frame of the ring being left still helps recovery.
		if f := n.old.put(m.Seq); f != nil {
			f.sender, f.flags = m.Sender, m.Flags
			f.data = append(f.data, m.Payload...)
		}
		return
	}
	if n.state == StateOperational && !contains(n.members, m.Sender) {
		n.proc = insertSorted(n.proc, m.Sender)
		n.enterGather("message from a foreign ring", true)
		return
	}
	n.stats.RxDropped++
}

// deliverReady delivers contiguous frames of the current ring: agreed ones at once, safe ones
// once stable; a safe frame holds back everything after it, which keeps the total order.
func (n *Node) deliverReady() {
	c := n.cur
	for c.delivered < c.aru {
		f := c.get(c.delivered + 1)
		if f.flags&FlagEncapsulated == 0 {
			if f.flags&FlagSafe != 0 && f.seq > n.stable {
				return
			}
			n.deliverFrame(f, c.ring)
		}
		c.delivered++
	}
}

func containsSeq(list []uint64, s uint64) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func subClamp(a, b uint32) uint32 {
	if a < b {
		return 0
	}
	return a - b
}
