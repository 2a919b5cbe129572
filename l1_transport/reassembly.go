package transport

// Bounds of reassembly, per sending node.
const (
	// maxFragments bounds the pieces of one message: 64 KiB totem frames over the
	// smallest IPv4 path MTU need about 120.
	maxFragments = 256
	// reassemblySlots is how many messages from one sender may be in pieces at once;
	// the oldest is evicted when a new one arrives, as a lost piece never comes back.
	reassemblySlots = 8
)

// reassembly rebuilds messages from fragments of one sender.
type reassembly struct {
	slots [reassemblySlots]slot
	clock uint64 // for least-recently-started eviction
	max   int    // largest message accepted
}

type slot struct {
	used    bool
	msgID   uint32
	count   uint16
	have    uint16
	started uint64
	pieces  [maxFragments]pieceRef
	data    []byte // pieces appended as they come; refs index into it
	flags   uint8
}

type pieceRef struct {
	off, n int32
	got    bool
}

// add stores one piece and returns the whole message (valid until the next add) when it
// completes. A piece that contradicts what is stored (count, flags) resets the slot.
func (r *reassembly) add(f fragment, flags uint8, piece []byte, out []byte) ([]byte, bool, error) {
	s := r.find(f.msgID)
	if s == nil || s.count != f.count || s.flags != flags {
		s = r.evict()
		r.clock++
		*s = slot{used: true, msgID: f.msgID, count: f.count, started: r.clock, data: s.data[:0], flags: flags}
	}
	ref := &s.pieces[f.index]
	if ref.got {
		return nil, false, nil // duplicate piece (active link mode)
	}
	if len(s.data)+len(piece) > r.max {
		s.used = false
		return nil, false, errBadFragment
	}
	ref.off, ref.n, ref.got = int32(len(s.data)), int32(len(piece)), true
	s.data = append(s.data, piece...)
	s.have++
	if s.have < s.count {
		return nil, false, nil
	}
	out = out[:0]
	for i := uint16(0); i < s.count; i++ {
		p := s.pieces[i]
		out = append(out, s.data[p.off:p.off+p.n]...)
	}
	s.used = false
	return out, true, nil
}

func (r *reassembly) find(id uint32) *slot {
	for i := range r.slots {
		if r.slots[i].used && r.slots[i].msgID == id {
			return &r.slots[i]
		}
	}
	return nil
}

func (r *reassembly) evict() *slot {
	var oldest *slot
	for i := range r.slots {
		s := &r.slots[i]
		if !s.used {
			return s
		}
		if oldest == nil || s.started < oldest.started {
			oldest = s
		}
	}
	return oldest
}
