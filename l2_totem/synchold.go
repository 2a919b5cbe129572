package totem

// This file holds the synchronisation hold, corosync's waiting_trans_ack: once a new ring
// is installed, frames submitted with Submit wait until the layer above has synchronised
// its state for that ring (ReleaseSync), and only frames submitted with SubmitSync are
// sent meanwhile. Without it, messages queued before a configuration change would be
// delivered in the new ring before the services' synchronisation has made the members'
// state alike, and two members could apply them to different states.

// EnableSyncHold turns the hold on: from now on (the first ring included) every installed
// ring holds Submit's frames until ReleaseSync names it. Off by default, for drivers that
// run no synchronisation.
func (n *Node) EnableSyncHold() {
	n.syncHoldOn = true
	n.syncHeld = true
}

// SyncHeld reports whether Submit's frames are being held for synchronisation.
func (n *Node) SyncHeld() bool { return n.syncHeld }

// SubmitSync queues a synchronisation frame: while the hold is on it is sent at once (in
// its own FIFO, ahead of held frames); otherwise it is queued as Submit queues it.
func (n *Node) SubmitSync(payload []byte, safe bool) error {
	if !n.syncHeld {
		return n.Submit(payload, safe)
	}
	if n.stopped {
		return ErrStopped
	}
	if len(payload) > n.cfg.FrameBytesMax {
		return ErrFrameTooLarge
	}
	if n.SyncRoom() == 0 {
		return ErrQueueFull
	}
	n.syncQ = append(n.syncQ, pendingFrame{safe: safe, data: append(n.bufs.get(), payload...)})
	n.wake()
	return nil
}

// SyncRoom is how many more frames SubmitSync accepts while the hold is on.
func (n *Node) SyncRoom() int { return len(n.pending) - (len(n.syncQ) - n.syncHead) }

// ReleaseSync ends the hold of ring, once the layer above has synchronised for it. A
// release for any other ring (a synchronisation that completed after the next ring was
// installed) changes nothing.
func (n *Node) ReleaseSync(ring RingID) {
	if !n.syncHeld || n.state != StateOperational || ring != n.ring {
		return
	}
	n.syncHeld = false
	if n.sendable() > 0 {
		n.wake()
	}
}

// holdForSync starts the hold for a ring being installed.
func (n *Node) holdForSync() {
	if n.syncHoldOn {
		n.syncHeld = true
	}
}

// sendable is how many queued frames a token visit may take now.
func (n *Node) sendable() int {
	k := len(n.syncQ) - n.syncHead
	if !n.syncHeld {
		k += n.pendingCount
	}
	return k
}

// popSendable takes the next frame to send: synchronisation frames first (after a release
// only those queued during the hold remain there), then the regular queue unless held.
// The caller has checked sendable.
func (n *Node) popSendable() pendingFrame {
	if n.syncHead < len(n.syncQ) {
		p := n.syncQ[n.syncHead]
		n.syncQ[n.syncHead] = pendingFrame{}
		n.syncHead++
		if n.syncHead == len(n.syncQ) {
			n.syncQ, n.syncHead = n.syncQ[:0], 0
		}
		return p
	}
	p := n.pending[n.pendingHead]
	n.pending[n.pendingHead] = pendingFrame{}
	n.pendingHead = (n.pendingHead + 1) % len(n.pending)
	n.pendingCount--
	return p
}

// wake makes an idle ring move for a frame that can be sent: the representative releases
// the token it holds, any other member asks it to.
func (n *Node) wake() {
	if n.state != StateOperational {
		return
	}
	if n.heldToken != nil {
		n.releaseHeldToken()
	} else if n.holdBelieved && !n.holdCancelSent {
		n.holdCancelSent = true
		n.stats.TokenHoldCancelTx++
		n.emit(Broadcast, AppendSimple(n.pktBuf(), MsgHoldCancel, n.id, n.ring))
	}
}
