package xdp

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/netns"
)

// Helpers of the namespace tests: building labs, opening links in them, and an exchange
// of checked datagrams between nodes.

const testPort = 5405

// newLab returns an empty lab removed at the end of the test, or skips the test.
func newLab(t *testing.T) *netns.Lab {
	t.Helper()
	if ok, why := netns.Available(); !ok {
		t.Skip("skipping AF_XDP namespace test: " + why)
	}
	lab := netns.NewLab()
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Error(err)
		}
	})
	return lab
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// star puts each node in its own namespace with a veth to a bridge in namespace hub and
// the address 10.77.0.<i+1>/24 on its end, named x<node>.
func star(t *testing.T, lab *netns.Lab, nodes ...string) {
	t.Helper()
	must(t, lab.AddNamespace("hub"))
	var ports []string
	for i, n := range nodes {
		must(t, lab.AddNamespace(n))
		must(t, lab.Veth(n, "x"+n, fmt.Sprintf("10.77.0.%d/24", i+1), "hub", "h"+n, ""))
		ports = append(ports, "h"+n)
	}
	must(t, lab.Bridge("hub", "br0", ports...))
}

// openIn opens a link inside namespace ns; it is closed when the test ends.
func openIn(t *testing.T, lab *netns.Lab, ns string, cfg Config) *Link {
	t.Helper()
	var l *Link
	if err := lab.Do(ns, func() (err error) { l, err = Open(cfg); return err }); err != nil {
		t.Fatalf("open in %s: %v", ns, err)
	}
	t.Cleanup(func() { l.Close() })
	t.Logf("%s: %s mode, zero-copy %v, %d queue(s), max payload %d", ns, l.Mode(), l.ZeroCopy(), l.Queues(), l.MaxPayloadBytes())
	return l
}

// watchdog closes the links if the test runs too long, which ends every Receive, so a
// broken link fails the test instead of hanging it.
func watchdog(t *testing.T, d time.Duration, links ...*Link) {
	timer := time.AfterFunc(d, func() {
		t.Errorf("watchdog: test still running after %v, closing the links", d)
		for _, l := range links {
			l.Close()
		}
	})
	t.Cleanup(func() { timer.Stop() })
}

// tag names one exchange datagram.
type tag struct{ from, seq int }

const exchangeMagic = 0xa5

// exchangePayload is datagram seq from node from: magic, sender, sequence, then a pattern
// the receiver checks byte by byte.
func exchangePayload(from, seq, size int) []byte {
	b := make([]byte, size)
	b[0], b[1] = exchangeMagic, byte(from)
	binary.BigEndian.PutUint16(b[2:], uint16(seq))
	for i := 4; i < size; i++ {
		b[i] = byte(from*31 + seq*7 + i)
	}
	return b
}

func parseExchange(b []byte) (tag, bool) {
	if len(b) < 4 || b[0] != exchangeMagic {
		return tag{}, false
	}
	tg := tag{from: int(b[1]), seq: int(binary.BigEndian.Uint16(b[2:]))}
	for i := 4; i < len(b); i++ {
		if b[i] != byte(tg.from*31+tg.seq*7+i) {
			return tg, false
		}
	}
	return tg, true
}

// node is a link with a goroutine receiving from it until it is closed.
type node struct {
	l     *Link
	mu    sync.Mutex
	got   map[tag]bool
	bad   []string
	other chan link.Message // datagrams that are not exchange traffic
	done  chan error        // Receive's last error
}

func startNode(l *Link) *node {
	n := &node{l: l, got: make(map[tag]bool), other: make(chan link.Message, 64), done: make(chan error, 1)}
	go func() {
		msgs := make([]link.Message, 32)
		for {
			k, err := l.Receive(msgs)
			if err != nil {
				n.done <- err
				return
			}
			for _, m := range msgs[:k] {
				if len(m.Buf) > 0 && m.Buf[0] != exchangeMagic {
					m.Buf = append([]byte(nil), m.Buf...)
					select {
					case n.other <- m:
					default:
					}
					continue
				}
				tg, ok := parseExchange(m.Buf)
				n.mu.Lock()
				if ok {
					n.got[tg] = true
				} else {
					n.bad = append(n.bad, fmt.Sprintf("%d bytes from %v", len(m.Buf), m.Addr))
				}
				n.mu.Unlock()
			}
		}
	}()
	return n
}

func (n *node) has(tg tag) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.got[tg]
}

// exchange has every node send datagrams first..first+count-1 to every other node, resending what has
// not arrived every 100 ms (the first datagrams go through the kernel while ARP resolves,
// and a burst can overflow a veth queue), until all arrived or the deadline passes.
func exchange(t *testing.T, nodes []*node, first, count int) {
	t.Helper()
	size := func(seq int) int {
		max := nodes[0].l.MaxPayloadBytes()
		switch seq % 4 {
		case 0:
			return max
		case 1:
			return 4
		default:
			return 4 + (seq*97)%(max-4)
		}
	}
	deadline := time.Now().Add(6 * time.Second)
	for round := 0; ; round++ {
		missing := 0
		for i, src := range nodes {
			var msgs []link.Message
			for j, dst := range nodes {
				for seq := first; seq < first+count && j != i; seq++ {
					if !dst.has(tag{i, seq}) {
						msgs = append(msgs, link.Message{Buf: exchangePayload(i, seq, size(seq)), Addr: dst.l.LocalAddr()})
					}
				}
			}
			missing += len(msgs)
			if len(msgs) > 0 {
				if _, err := src.l.Send(msgs); err != nil {
					t.Fatalf("round %d: node %d: %v", round, i, err)
				}
			}
		}
		if missing == 0 {
			t.Logf("all datagrams arrived; %d round(s) sent something", round)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d rounds %d datagrams are still missing", round, missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, n := range nodes {
		n.mu.Lock()
		if len(n.bad) > 0 {
			t.Errorf("node %d received %d corrupt datagrams, first %s", i, len(n.bad), n.bad[0])
		}
		n.mu.Unlock()
	}
}

// checkFastPath fails unless datagrams went through AF_XDP both ways, not only through
// the kernel's slow path.
func checkFastPath(t *testing.T, name string, l *Link) {
	t.Helper()
	s := l.Stats()
	fastTx := s.TxPackets - l.stats.txSlow.Load()
	fastRx := s.RxPackets - l.stats.rxSlow.Load()
	t.Logf("%s: %+v (through the kernel: tx %d, rx %d)", name, s, l.stats.txSlow.Load(), l.stats.rxSlow.Load())
	if fastTx == 0 || fastRx == 0 {
		t.Errorf("%s: AF_XDP path unused: %d sent and %d received through it", name, fastTx, fastRx)
	}
	if s.TxErrors != 0 || s.RxErrors != 0 {
		t.Errorf("%s: errors counted: %+v", name, s)
	}
}
