// Package mem is an in-memory link.Link for tests and simulations: a Network of links that
// deliver to each other through bounded queues, with seeded faults (loss, duplication,
// links taken down, partitions between addresses).
package mem

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"

	link "github.com/corosync-go/corosync/l0_link"
)

// DefaultQueuePackets bounds each link's receive queue; a full queue drops, as a socket
// buffer would.
const DefaultQueuePackets = 4096

// Network joins links by address. The zero value is not usable; call NewNetwork.
type Network struct {
	mu        sync.Mutex
	rng       *rand.Rand
	links     map[netip.AddrPort]*Link
	lossRate  float64
	dupRate   float64
	blocked   map[[2]netip.Addr]bool
	maxBytes  int
	queueSize int
	tap       func(from, to netip.AddrPort, data []byte)
}

// NewNetwork returns an empty network whose random faults come from seed.
func NewNetwork(seed uint64) *Network {
	return &Network{
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		links:     map[netip.AddrPort]*Link{},
		blocked:   map[[2]netip.Addr]bool{},
		maxBytes:  link.MaxDatagramBytes,
		queueSize: DefaultQueuePackets,
	}
}

// SetLoss makes every datagram vanish with probability p (0..1).
func (n *Network) SetLoss(p float64) { n.mu.Lock(); n.lossRate = p; n.mu.Unlock() }

// SetDuplication delivers every datagram twice with probability p (0..1).
func (n *Network) SetDuplication(p float64) { n.mu.Lock(); n.dupRate = p; n.mu.Unlock() }

// SetMaxPayload sets the largest datagram links accept (an MTU stand-in).
func (n *Network) SetMaxPayload(bytes int) { n.mu.Lock(); n.maxBytes = bytes; n.mu.Unlock() }

// Block drops traffic from a to b (one direction) until Unblock.
func (n *Network) Block(from, to netip.Addr) {
	n.mu.Lock()
	n.blocked[[2]netip.Addr{from, to}] = true
	n.mu.Unlock()
}

// Unblock undoes Block.
func (n *Network) Unblock(from, to netip.Addr) {
	n.mu.Lock()
	delete(n.blocked, [2]netip.Addr{from, to})
	n.mu.Unlock()
}

// SetDown takes the link at addr down (it neither sends nor receives) or back up.
func (n *Network) SetDown(addr netip.AddrPort, down bool) {
	n.mu.Lock()
	if l := n.links[addr]; l != nil {
		l.down = down
	}
	n.mu.Unlock()
}

// Tap calls fn (under the network's lock, so it must not call back) with every datagram
// sent, before faults apply; tests use it to capture packets to replay.
func (n *Network) Tap(fn func(from, to netip.AddrPort, data []byte)) {
	n.mu.Lock()
	n.tap = fn
	n.mu.Unlock()
}

// Inject delivers data to the link at to as if sent from from (which need not exist):
// a forger on the wire.
func (n *Network) Inject(from, to netip.AddrPort, data []byte) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	dst := n.links[to]
	if dst == nil || dst.closed || len(dst.queue) >= n.queueSize {
		return false
	}
	dst.queue = append(dst.queue, link.Message{Buf: append([]byte(nil), data...), Addr: from})
	dst.cond.Broadcast()
	return true
}

// Listen creates a link bound to addr.
func (n *Network) Listen(addr netip.AddrPort) (*Link, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.links[addr]; ok {
		return nil, fmt.Errorf("mem: address %s already in use", addr)
	}
	l := &Link{net: n, addr: addr}
	l.cond = sync.NewCond(&n.mu)
	n.links[addr] = l
	return l, nil
}

// Link is one endpoint of a Network.
type Link struct {
	net    *Network
	addr   netip.AddrPort
	cond   *sync.Cond // on net.mu
	queue  []link.Message
	down   bool
	closed bool
	stats  link.Stats
}

var _ link.Link = (*Link)(nil)

// Send implements link.Link. Datagrams are copied, so msgs may be reused at once.
func (l *Link) Send(msgs []link.Message) (int, error) {
	n := l.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if l.closed {
		return 0, link.ErrClosed
	}
	l.stats.TxBatches++
	sent := 0
	var firstErr error
	for _, m := range msgs {
		if len(m.Buf) > n.maxBytes {
			l.stats.TxErrors++
			if firstErr == nil {
				firstErr = fmt.Errorf("mem: %d-byte datagram exceeds the %d-byte limit", len(m.Buf), n.maxBytes)
			}
			continue
		}
		sent++
		l.stats.TxPackets++
		l.stats.TxBytes += uint64(len(m.Buf))
		if n.tap != nil {
			n.tap(l.addr, m.Addr, m.Buf)
		}
		dst := n.links[m.Addr]
		if l.down || dst == nil || dst.down || dst.closed || n.blocked[[2]netip.Addr{l.addr.Addr(), m.Addr.Addr()}] {
			continue
		}
		if n.lossRate > 0 && n.rng.Float64() < n.lossRate {
			continue
		}
		copies := 1
		if n.dupRate > 0 && n.rng.Float64() < n.dupRate {
			copies = 2
		}
		for range copies {
			if len(dst.queue) >= n.queueSize {
				dst.stats.RxDropped++
				continue
			}
			dst.queue = append(dst.queue, link.Message{Buf: append([]byte(nil), m.Buf...), Addr: l.addr})
		}
		dst.cond.Broadcast()
	}
	return sent, firstErr
}

// Receive implements link.Link.
func (l *Link) Receive(msgs []link.Message) (int, error) {
	n := l.net
	n.mu.Lock()
	defer n.mu.Unlock()
	for len(l.queue) == 0 && !l.closed {
		l.cond.Wait()
	}
	if l.closed {
		return 0, link.ErrClosed
	}
	k := copy(msgs, l.queue)
	l.queue = l.queue[k:]
	l.stats.RxBatches++
	for _, m := range msgs[:k] {
		l.stats.RxPackets++
		l.stats.RxBytes += uint64(len(m.Buf))
	}
	return k, nil
}

// LocalAddr implements link.Link.
func (l *Link) LocalAddr() netip.AddrPort { return l.addr }

// MaxPayloadBytes implements link.Link.
func (l *Link) MaxPayloadBytes() int {
	l.net.mu.Lock()
	defer l.net.mu.Unlock()
	return l.net.maxBytes
}

// Kind implements link.Link.
func (l *Link) Kind() string { return "mem" }

// Stats implements link.Link.
func (l *Link) Stats() link.Stats {
	l.net.mu.Lock()
	defer l.net.mu.Unlock()
	return l.stats
}

// Close implements link.Link.
func (l *Link) Close() error {
	n := l.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if !l.closed {
		l.closed = true
		delete(n.links, l.addr)
		l.cond.Broadcast()
	}
	return nil
}
