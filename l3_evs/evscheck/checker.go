// Package evscheck checks the Extended Virtual Synchrony properties over what the processes of
// a simulated cluster deliver. A simulator reports submissions, deliveries, configurations,
// crashes and starts; each call returns the first property it finds violated.
package evscheck

import (
	"fmt"
	"slices"
	"strings"

	totem "github.com/corosync-go/corosync/l2_totem"
)

// Proc is one incarnation of a node; a restart makes a new one.
type Proc struct {
	Node totem.NodeID
	Inc  uint32
}

func (p Proc) String() string { return fmt.Sprintf("node %d (incarnation %d)", p.Node, p.Inc) }

// MsgID identifies a submission; Counter increases per incarnation in submission order.
type MsgID struct {
	Node    totem.NodeID
	Inc     uint32
	Counter uint64
}

func (m MsgID) String() string { return fmt.Sprintf("msg %d/%d/%d", m.Node, m.Inc, m.Counter) }

// HasFrame reports whether node q's current incarnation holds frame seq of ring (has), and
// whether it has any state for that ring (knows).
type HasFrame func(q totem.NodeID, ring totem.RingID, seq uint64) (has, knows bool)

// configKey names a configuration: a regular one by its ring, a transitional one by its ring
// and members (members from different old rings get different transitional configurations).
type configKey struct {
	ring    totem.RingID
	trans   bool
	members string
}

func keyOf(c *totem.Configuration) configKey {
	k := configKey{ring: c.Ring, trans: c.Transitional}
	if c.Transitional {
		k.members = fmt.Sprint(c.Members)
	}
	return k
}

func (k configKey) String() string {
	if k.trans {
		return fmt.Sprintf("transitional %s %s", k.ring, k.members)
	}
	return "regular " + k.ring.String()
}

type submission struct {
	safe   bool
	digest uint64
}

type procState struct {
	proc      Proc
	alive     bool
	delivered map[MsgID]bool
	lastFrom  map[Proc]uint64 // FIFO: last counter delivered per sender incarnation
	cur       *totem.Configuration
	curKey    configKey
	prevReg   *totem.Configuration // the regular configuration before a transitional one
	regulars  map[totem.RingID]bool
	lastFrame struct {
		ring totem.RingID
		seq  uint64
	}
	inConfig  int    // deliveries in the current configuration
	setHash   uint64 // order-independent hash of messages delivered in the current configuration
	submitted []MsgID
	configs   int
}

type safeRecord struct {
	id      MsgID
	members []totem.NodeID
	ring    totem.RingID
}

// Checker accumulates observations and checks them. It is deterministic.
type Checker struct {
	// RingIDsPersist requires ring sequence numbers to increase across a node's incarnations
	// too (runs where every restart keeps the persisted ring sequence).
	RingIDsPersist bool

	hasFrame  HasFrame
	subs      map[MsgID]submission
	procs     map[Proc]*procState
	current   map[totem.NodeID]Proc
	canonical map[configKey][]MsgID
	moves     map[[2]configKey]moveRecord
	safes     []safeRecord
	lastRing  map[totem.NodeID]uint64
	stats     Stats
}

type moveRecord struct {
	proc  Proc
	count int
	hash  uint64
}

// Stats summarise what was checked.
type Stats struct {
	Messages, Configs, SafeChecks uint64
}

// New returns an empty checker.
func New() *Checker {
	return &Checker{
		subs: map[MsgID]submission{}, procs: map[Proc]*procState{}, current: map[totem.NodeID]Proc{},
		canonical: map[configKey][]MsgID{}, moves: map[[2]configKey]moveRecord{},
		lastRing: map[totem.NodeID]uint64{},
	}
}

// SetHasFrame installs the frame oracle used for the safe-delivery check.
func (c *Checker) SetHasFrame(f HasFrame) { c.hasFrame = f }

// Stats returns counters of what was checked.
func (c *Checker) Stats() Stats { return c.stats }

// Started records a new incarnation.
func (c *Checker) Started(p Proc) {
	c.procs[p] = &procState{proc: p, alive: true, delivered: map[MsgID]bool{}, lastFrom: map[Proc]uint64{},
		regulars: map[totem.RingID]bool{}}
	c.current[p.Node] = p
	if !c.RingIDsPersist {
		delete(c.lastRing, p.Node)
	}
}

// Crashed records that p stopped for good.
func (c *Checker) Crashed(p Proc) {
	if s := c.procs[p]; s != nil {
		s.alive = false
		s.delivered, s.lastFrom = nil, nil // free memory: a crashed incarnation is never checked again
	}
}

// Alive returns node's current incarnation if it runs.
func (c *Checker) Alive(node totem.NodeID) (Proc, bool) {
	p, ok := c.current[node]
	if !ok || !c.procs[p].alive {
		return Proc{}, false
	}
	return p, true
}

// Submitted records an accepted submission.
func (c *Checker) Submitted(p Proc, id MsgID, safe bool, digest uint64) {
	c.subs[id] = submission{safe: safe, digest: digest}
	if s := c.procs[p]; s != nil {
		s.submitted = append(s.submitted, id)
	}
}

func idHash(id MsgID) uint64 {
	// splitmix64 over the id: an order-independent set hash is the sum of these.
	x := uint64(id.Node)<<32 ^ uint64(id.Inc) ^ id.Counter*0x9E3779B97F4A7C15
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	return x ^ x>>31
}

func (c *Checker) state(p Proc) (*procState, error) {
	s := c.procs[p]
	if s == nil || !s.alive {
		return nil, fmt.Errorf("%v delivered while not running", p)
	}
	return s, nil
}

// Config records a configuration delivered by p and checks configuration order.
func (c *Checker) Config(p Proc, cfg totem.Configuration) error {
	c.stats.Configs++
	s, err := c.state(p)
	if err != nil {
		return err
	}
	cfg.Members = slices.Clone(cfg.Members)
	if !slices.Contains(cfg.Members, p.Node) {
		return fmt.Errorf("configuration order: %v delivered %s members %v without itself", p, keyOf(&cfg), cfg.Members)
	}
	if s.cur != nil {
		if cfg.Transitional == s.cur.Transitional {
			return fmt.Errorf("configuration order: %v delivered %s right after %s (regular and transitional must alternate)",
				p, keyOf(&cfg), s.curKey)
		}
		if cfg.Transitional && !subset(cfg.Members, s.cur.Members) {
			return fmt.Errorf("configuration order: %v transitional members %v not within previous regular %v",
				p, cfg.Members, s.cur.Members)
		}
		if !cfg.Transitional {
			if cfg.Ring != s.cur.Ring {
				return fmt.Errorf("configuration order: %v regular %s does not follow its transitional %s", p, cfg.Ring, s.curKey)
			}
			if !subset(s.cur.Members, cfg.Members) {
				return fmt.Errorf("configuration order: %v transitional members %v not within regular %v",
					p, s.cur.Members, cfg.Members)
			}
		}
		// Same set when moving together: all who go from this configuration to the same next
		// one delivered the same messages in it.
		move := [2]configKey{s.curKey, keyOf(&cfg)}
		rec := moveRecord{proc: p, count: s.inConfig, hash: s.setHash}
		if prev, ok := c.moves[move]; ok {
			if prev.count != rec.count || prev.hash != rec.hash {
				return fmt.Errorf("same set: %v and %v moved from %s to %s but delivered different messages there (%d vs %d)",
					prev.proc, p, move[0], move[1], prev.count, rec.count)
			}
		} else {
			c.moves[move] = rec
		}
	}
	if !cfg.Transitional {
		if last, ok := c.lastRing[p.Node]; ok && cfg.Ring.Seq <= last {
			return fmt.Errorf("ring ids increase: %v installed ring %s after seq %x", p, cfg.Ring, last)
		}
		c.lastRing[p.Node] = cfg.Ring.Seq
		s.regulars[cfg.Ring] = true
		s.prevReg = nil
	} else {
		s.prevReg = s.cur
	}
	cc := cfg
	s.cur, s.curKey = &cc, keyOf(&cc)
	s.inConfig, s.setHash = 0, 0
	s.configs++
	return nil
}

// Message records a delivery by p of message id, ordered as frame seq of ring.
func (c *Checker) Message(p Proc, id MsgID, safe bool, digest uint64, ring totem.RingID, seq uint64) error {
	c.stats.Messages++
	s, err := c.state(p)
	if err != nil {
		return err
	}
	sub, ok := c.subs[id]
	if !ok {
		return fmt.Errorf("no invention: %v delivered %v, which nobody submitted", p, id)
	}
	if sub.digest != digest || sub.safe != safe {
		return fmt.Errorf("no invention: %v delivered %v with different content or guarantee", p, id)
	}
	if s.delivered[id] {
		return fmt.Errorf("no duplicates: %v delivered %v twice", p, id)
	}
	s.delivered[id] = true
	from := Proc{Node: id.Node, Inc: id.Inc}
	if last, ok := s.lastFrom[from]; ok && id.Counter <= last {
		return fmt.Errorf("FIFO: %v delivered %v after counter %d of the same sender", p, id, last)
	}
	s.lastFrom[from] = id.Counter
	// Ring order: the frames of one ring are delivered in sequence order everywhere.
	if s.lastFrame.ring == ring && seq < s.lastFrame.seq {
		return fmt.Errorf("total order: %v delivered %v (frame %s/%d) after frame %d of the same ring", p, id, ring, seq, s.lastFrame.seq)
	}
	s.lastFrame.ring, s.lastFrame.seq = ring, seq
	// Delivery context: in the regular configuration of the ring the message was ordered on,
	// or in the transitional configuration that follows it.
	switch {
	case s.cur == nil:
		return fmt.Errorf("delivery context: %v delivered %v before any configuration", p, id)
	case !s.cur.Transitional && s.cur.Ring != ring:
		return fmt.Errorf("delivery context: %v delivered %v (ordered on ring %s) in regular configuration %s",
			p, id, ring, s.cur.Ring)
	case s.cur.Transitional && (s.prevReg == nil || s.prevReg.Ring != ring):
		// A process's first configuration may be transitional (a fresh start): nothing of an
		// old ring can be delivered in it.
		return fmt.Errorf("delivery context: %v delivered %v (ordered on ring %s) in %s, which does not follow that ring",
			p, id, ring, s.curKey)
	}
	// Total order within the configuration.
	canon := c.canonical[s.curKey]
	if s.inConfig < len(canon) {
		if canon[s.inConfig] != id {
			return fmt.Errorf("total order: %v delivered %v at position %d of %s where another process delivered %v",
				p, id, s.inConfig, s.curKey, canon[s.inConfig])
		}
	} else {
		c.canonical[s.curKey] = append(canon, id)
	}
	s.inConfig++
	s.setHash += idHash(id)
	// Safe delivery: in a regular configuration, every member holds the message.
	if safe && !s.cur.Transitional {
		c.stats.SafeChecks++
		if err := c.checkSafe(p, id, s.cur, ring, seq); err != nil {
			return err
		}
		c.safes = append(c.safes, safeRecord{id: id, members: s.cur.Members, ring: s.cur.Ring})
	}
	return nil
}

func (c *Checker) checkSafe(p Proc, id MsgID, cfg *totem.Configuration, ring totem.RingID, seq uint64) error {
	if c.hasFrame == nil {
		return nil
	}
	for _, q := range cfg.Members {
		if q == p.Node {
			continue
		}
		qp, ok := c.Alive(q)
		if !ok {
			continue
		}
		qs := c.procs[qp]
		if qs.delivered[id] {
			continue
		}
		has, knows := c.hasFrame(q, ring, seq)
		if has {
			continue
		}
		if knows || qs.regulars[cfg.Ring] {
			return fmt.Errorf("safe delivery: %v delivered safe %v in %s while member %v did not hold it",
				p, id, cfg.Ring, qp)
		}
	}
	return nil
}

// Final checks what must hold once the network healed and the cluster was quiet: self
// delivery, agreement on the last configuration and its messages, and that safe messages
// reached every surviving member.
func (c *Checker) Final(alive []Proc) []error {
	var errs []error
	add := func(err error) {
		if len(errs) < 20 {
			errs = append(errs, err)
		}
	}
	var nodes []totem.NodeID
	for _, p := range alive {
		nodes = append(nodes, p.Node)
	}
	slices.Sort(nodes)
	var ref *procState
	for _, p := range alive {
		s := c.procs[p]
		if s == nil || !s.alive {
			add(fmt.Errorf("final: %v is not running", p))
			continue
		}
		for _, id := range s.submitted {
			if !s.delivered[id] {
				add(fmt.Errorf("self delivery: %v never delivered its own %v", p, id))
				break
			}
		}
		if s.cur == nil || s.cur.Transitional || !slices.Equal(s.cur.Members, nodes) {
			add(fmt.Errorf("final agreement: %v ended in %s, want a regular configuration of %v", p, describe(s), nodes))
			continue
		}
		if ref == nil {
			ref = s
		} else if ref.curKey != s.curKey || ref.inConfig != s.inConfig || ref.setHash != s.setHash {
			add(fmt.Errorf("final agreement: %v ended in %s with %d messages, %v in %s with %d",
				ref.proc, ref.curKey, ref.inConfig, p, s.curKey, s.inConfig))
		}
	}
	for _, r := range c.safes {
		for _, q := range r.members {
			qp, ok := c.Alive(q)
			if !ok || !c.procs[qp].regulars[r.ring] {
				continue
			}
			if !c.procs[qp].delivered[r.id] {
				add(fmt.Errorf("safe delivery: %v was delivered safe in %s but member %v never delivered it", r.id, r.ring, qp))
			}
		}
	}
	return errs
}

func describe(s *procState) string {
	if s.cur == nil {
		return "no configuration"
	}
	return fmt.Sprintf("%s members %v", s.curKey, s.cur.Members)
}

func subset(a, b []totem.NodeID) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// Summary is a one-line description of what was checked.
func (c *Checker) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d messages, %d configurations, %d safe checks", c.stats.Messages, c.stats.Configs, c.stats.SafeChecks)
	return b.String()
}
