package totem

// frame is one slot of a ring's message window.
type frame struct {
	seq     uint64
	present bool
	sender  NodeID
	flags   uint8
	miss    uint8 // token visits on which this seq was seen missing
	// The original identity of an encapsulated (recovery) frame.
	oldRing   RingID
	oldSeq    uint64
	oldSender NodeID
	oldFlags  uint8
	data      []byte // capacity is kept across reuse so the steady state does not allocate
}

// store holds one ring's frames in a power-of-two window indexed by sequence number.
// Sequence numbers start at 1; base is the lowest one still held.
type store struct {
	ring      RingID
	slots     []frame
	mask      uint64
	base      uint64 // seqs below base are released (delivered and stable)
	aru       uint64 // all received up to: every seq in [1, aru] has been received
	high      uint64 // highest seq received
	delivered uint64 // highest seq delivered to the layer above (or skipped as encapsulated)
	frozen    bool   // recovery snapshot taken: no more direct (non-recovery) frames
	// pool holds the node's spare frame buffers. Released frames return theirs and new ones
	// take from it, so live buffers track the frames in flight rather than the window size and
	// the steady state does not allocate.
	pool *bufPool
}

// bufPool is a LIFO of spare frame buffers shared by a node's stores and send queue.
type bufPool struct{ bufs [][]byte }

func (p *bufPool) get() []byte {
	if k := len(p.bufs); k > 0 {
		b := p.bufs[k-1]
		p.bufs = p.bufs[:k-1]
		return b[:0]
	}
	return nil
}

func (p *bufPool) put(b []byte) {
	if cap(b) > 0 {
		p.bufs = append(p.bufs, b[:0])
	}
}

func newStore(ring RingID, windowFrames int, pool *bufPool) *store {
	return &store{ring: ring, slots: make([]frame, windowFrames), mask: uint64(windowFrames - 1), base: 1, pool: pool}
}

// reset readies a recycled store for a new ring, keeping slot buffers.
func (s *store) reset(ring RingID) {
	for i := range s.slots {
		s.pool.put(s.slots[i].data)
		s.slots[i] = frame{}
	}
	s.ring, s.base, s.aru, s.high, s.delivered, s.frozen = ring, 1, 0, 0, 0, false
}

// fits reports whether seq can be stored in the window.
func (s *store) fits(seq uint64) bool {
	return seq >= s.base && seq < s.base+uint64(len(s.slots))
}

// get returns the frame for seq if it is held.
func (s *store) get(seq uint64) *frame {
	if !s.fits(seq) {
		return nil
	}
	f := &s.slots[seq&s.mask]
	if !f.present || f.seq != seq {
		return nil
	}
	return f
}

// put stores a frame unless it is a duplicate or outside the window; it returns the slot to
// fill (payload still to be copied by the caller) or nil.
func (s *store) put(seq uint64) *frame {
	if seq == 0 || seq <= s.aru || !s.fits(seq) {
		return nil
	}
	f := &s.slots[seq&s.mask]
	if f.present && f.seq == seq {
		return nil
	}
	data := f.data[:0]
	if data == nil {
		data = s.pool.get()
	}
	*f = frame{seq: seq, present: true, data: data}
	if seq > s.high {
		s.high = seq
	}
	for {
		n := s.get(s.aru + 1)
		if n == nil {
			break
		}
		s.aru++
	}
	return f
}

// release frees frames up to and including seq.
func (s *store) release(upTo uint64) {
	for s.base <= upTo && s.base <= s.aru {
		f := &s.slots[s.base&s.mask]
		f.present = false
		s.pool.put(f.data)
		f.data = nil
		s.base++
	}
}

// missing returns whether seq is absent but within reach (for retransmit requests), and its
// slot for miss counting.
func (s *store) missingSlot(seq uint64) *frame {
	if seq <= s.aru || !s.fits(seq) {
		return nil
	}
	f := &s.slots[seq&s.mask]
	if f.present && f.seq == seq {
		return nil
	}
	if f.seq != seq {
		*f = frame{seq: seq, data: f.data[:0]}
	}
	return f
}
