package transport

// replayWindowPackets is how far behind the newest sequence number a packet may arrive and
// still be accepted once. Reordering between links (active and rr modes) stays well inside.
const replayWindowPackets = 1024

// replayWindow accepts each sequence number at most once, within a sliding window behind
// the highest seen (RFC 6479's bitmap scheme).
type replayWindow struct {
	top    uint64 // highest accepted sequence number; 0 = none yet (sequences start at 1)
	bitmap [replayWindowPackets / 64]uint64
}

// check reports whether seq is fresh, without recording it: callers check before
// authenticating and record after, so forged packets cannot move the window.
func (w *replayWindow) check(seq uint64) bool {
	if seq == 0 {
		return false
	}
	if seq > w.top {
		return true
	}
	if w.top-seq >= replayWindowPackets {
		return false
	}
	return w.bitmap[(seq/64)%uint64(len(w.bitmap))]&(1<<(seq%64)) == 0
}

// record marks seq as seen; seq must have passed check.
func (w *replayWindow) record(seq uint64) {
	words := uint64(len(w.bitmap))
	if seq > w.top {
		// Clear the words the window slides over.
		from, to := w.top/64+1, seq/64
		if to-from+1 >= words || w.top == 0 {
			w.bitmap = [replayWindowPackets / 64]uint64{}
		} else {
			for i := from; i <= to; i++ {
				w.bitmap[i%words] = 0
			}
		}
		w.top = seq
	}
	w.bitmap[(seq/64)%words] |= 1 << (seq % 64)
}
