package transport

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

// captureLink keeps copies of what is sent on it and never receives: the data path's
// CPU cost can then be measured without system calls.
type captureLink struct {
	addr   netip.AddrPort
	mu     sync.Mutex
	keep   bool
	sent   []link.Message
	slab   []byte
	closed chan struct{}
	once   sync.Once
}

func newCaptureLink(addr netip.AddrPort, keep bool) *captureLink {
	return &captureLink{addr: addr, keep: keep, slab: make([]byte, 0, 1<<20), closed: make(chan struct{})}
}

func (l *captureLink) Send(msgs []link.Message) (int, error) {
	if !l.keep {
		return len(msgs), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range msgs {
		if len(l.slab)+len(m.Buf) > cap(l.slab) {
			l.slab = l.slab[:0]
			l.sent = l.sent[:0]
		}
		start := len(l.slab)
		l.slab = append(l.slab, m.Buf...)
		l.sent = append(l.sent, link.Message{Buf: l.slab[start:len(l.slab):len(l.slab)], Addr: l.addr})
	}
	return len(msgs), nil
}

// take returns the packets sent since the last call; they stay valid until the next Send.
func (l *captureLink) take(out []link.Message) []link.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	out = append(out[:0], l.sent...)
	l.sent = l.sent[:0]
	l.slab = l.slab[:0]
	return out
}

func (l *captureLink) Receive([]link.Message) (int, error) { <-l.closed; return 0, link.ErrClosed }
func (l *captureLink) LocalAddr() netip.AddrPort           { return l.addr }
func (l *captureLink) MaxPayloadBytes() int                { return 1500 }
func (l *captureLink) Kind() string                        { return "mem" }
func (l *captureLink) Stats() link.Stats                   { return link.Stats{} }
func (l *captureLink) Close() error                        { l.once.Do(func() { close(l.closed) }); return nil }

// BenchmarkDataPath measures the transport's CPU cost per data packet, sender and
// receiver together (build, compress, seal; then check, open, decompress), without
// system calls: packets go through capture links and into the receiver's handlePacket.
//
//	go test -run XXX -bench DataPath ./l1_transport
func BenchmarkDataPath(b *testing.B) {
	for _, cipher := range []string{"none", "aes256"} {
		for _, size := range []int{100, 1400} {
			b.Run(fmt.Sprintf("crypto=%s/size=%d", cipher, size), func(b *testing.B) {
				benchDataPath(b, cipher, size)
			})
		}
	}
}

func benchDataPath(b *testing.B, cipher string, size int) {
	nodes := []Node{{ID: 1, Addrs: [MaxLinks]netip.AddrPort{addrOf(1, 0)}}, {ID: 2, Addrs: [MaxLinks]netip.AddrPort{addrOf(2, 0)}}}
	crypto := CryptoConfig{Cipher: "none", Hash: "none"}
	if cipher != "none" {
		crypto = CryptoConfig{Cipher: cipher, Key: testKey(1)}
	}
	mk := func(id NodeID, l link.Link) *Transport {
		cfg := Config{LocalNode: id, Nodes: nodes, Links: []LinkSpec{{Number: 0, Link: l}}, Token: time.Hour, Crypto: crypto}
		tr, err := New(context.Background(), cfg, func(NodeID, []byte) {}, quietLog())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { tr.Close() })
		return tr
	}
	out := newCaptureLink(addrOf(1, 0), true)
	tx, rx := mk(1, out), mk(2, newCaptureLink(addrOf(2, 0), false))
	out.take(nil) // the first heartbeat
	scratch := rx.newRxScratch(rx.links[0])
	const batch = 64
	pkts := make([]Packet, batch)
	payload := randomBytes(size)
	for i := range pkts {
		pkts[i] = Packet{To: 2, Data: payload}
	}
	var got []link.Message
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		if err := tx.Send(pkts[:n]); err != nil {
			b.Fatal(err)
		}
		got = out.take(got)
		for _, m := range got {
			rx.handlePacket(rx.links[0], m, scratch)
		}
	}
}
