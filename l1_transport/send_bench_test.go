package transport

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

// discardLink counts what it is given and receives nothing until closed: the CPU cost of
// the send path without a network.
type discardLink struct {
	local   netip.AddrPort
	mu      sync.Mutex
	packets uint64
	closed  chan struct{}
	once    sync.Once
}

func newDiscardLink(a netip.AddrPort) *discardLink {
	return &discardLink{local: a, closed: make(chan struct{})}
}

func (l *discardLink) Send(msgs []link.Message) (int, error) {
	l.mu.Lock()
	l.packets += uint64(len(msgs))
	l.mu.Unlock()
	return len(msgs), nil
}

func (l *discardLink) Receive([]link.Message) (int, error) {
	<-l.closed
	return 0, link.ErrClosed
}

func (l *discardLink) LocalAddr() netip.AddrPort { return l.local }
func (l *discardLink) MaxPayloadBytes() int      { return 1472 }
func (l *discardLink) Kind() string              { return "discard" }
func (l *discardLink) Close() error              { l.once.Do(func() { close(l.closed) }); return nil }
func (l *discardLink) Stats() link.Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return link.Stats{TxPackets: l.packets}
}

// benchSender is node 1 of an n-node table over a discard link; tweak adjusts its
// configuration.
func benchSender(b testing.TB, n int, crypto string, tweak func(*Config)) (*Transport, *discardLink) {
	dl := newDiscardLink(addrOf(1, 0))
	var nodes []Node
	for i := 1; i <= n; i++ {
		nodes = append(nodes, Node{ID: NodeID(i), Addrs: [MaxLinks]netip.AddrPort{addrOf(i, 0)}})
	}
	cfg := Config{LocalNode: 1, Nodes: nodes, Links: []LinkSpec{{Number: 0, Link: dl}}, Token: time.Hour,
		Crypto: CryptoConfig{Cipher: "none", Hash: "none"}}
	if crypto != "none" {
		cfg.Crypto = CryptoConfig{Cipher: crypto, Key: testKey(1)}
	}
	if tweak != nil {
		tweak(&cfg)
	}
	tr, err := New(context.Background(), cfg, nil, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tr.Close() })
	return tr, dl
}

// BenchmarkSend is the CPU cost of Transport.Send per packet of 1,000 bytes, 64 per call:
// to one node, and broadcast to the two peers of a 3-node table as unicasts.
func BenchmarkSend(b *testing.B) {
	for _, crypto := range []string{"none", "aes256"} {
		for _, tc := range []struct {
			name  string
			nodes int
			to    NodeID
		}{{"unicast", 2, 2}, {"broadcast3", 3, Broadcast}} {
			b.Run(tc.name+"/"+crypto, func(b *testing.B) {
				tr, dl := benchSender(b, tc.nodes, crypto, nil)
				benchSend(b, tr, dl, tc.to)
			})
		}
	}
}

func benchSend(b *testing.B, tr *Transport, dl *discardLink, to NodeID) {
	batch := make([]Packet, 64)
	for i := range batch {
		batch[i] = Packet{To: to, Data: make([]byte, 1000)}
	}
	before := dl.Stats().TxPackets
	b.SetBytes(1000)
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += len(batch) {
		if err := tr.Send(batch[:min(len(batch), b.N-sent)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(dl.Stats().TxPackets-before)/float64(b.N), "pkts/op")
}

// TestSendDoesNotAllocate: sending, encrypted or not, unicast or broadcast, allocates
// nothing per packet (an escaping nonce once cost one allocation per encrypted packet).
func TestSendDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("skipping: allocation counts are meaningless under the race detector")
	}
	for _, crypto := range []string{"none", "aes256"} {
		for _, to := range []NodeID{2, Broadcast} {
			tr, _ := benchSender(t, 3, crypto, nil)
			batch := []Packet{{To: to, Data: make([]byte, 1000)}}
			if n := testing.AllocsPerRun(200, func() { tr.Send(batch) }); n != 0 {
				t.Errorf("crypto %s, to %d: %.1f allocations per Send", crypto, to, n)
			}
		}
	}
}
