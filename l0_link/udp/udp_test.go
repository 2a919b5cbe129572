package udp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

func openPair(t *testing.T, cfg Config) (a, b *Link) {
	t.Helper()
	cfg.Local = netip.MustParseAddrPort("127.0.0.1:0")
	a, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err = Open(cfg)
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// payload returns a datagram of size bytes that carries its sequence number.
func payload(seq, size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(seq + i)
	}
	if size >= 4 {
		binary.BigEndian.PutUint32(p, uint32(seq))
	}
	return p
}

// receiveAll reads until want datagrams arrived or the deadline passes, closing the link
// then so that Receive cannot hang the test.
func receiveAll(t *testing.T, l *Link, want int) [][]byte {
	t.Helper()
	timer := time.AfterFunc(10*time.Second, func() { l.Close() })
	defer timer.Stop()
	var got [][]byte
	msgs := make([]link.Message, 16)
	for len(got) < want {
		n, err := l.Receive(msgs)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), want, err)
		}
		for _, m := range msgs[:n] {
			got = append(got, append([]byte(nil), m.Buf...))
		}
	}
	return got
}

func TestBatchRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"offloads", Config{}},
		{"no-offloads", Config{DisableGSO: true, DisableGRO: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := openPair(t, tc.cfg)
			if tc.cfg.DisableGSO && a.GSO() {
				t.Fatal("GSO on although disabled")
			}
			t.Logf("gso=%v gro=%v", a.GSO(), b.GRO())
			// Mixed sizes: trains of equal sizes, short tails, zero-length and large ones.
			sizes := []int{1400, 1400, 1400, 700, 1400, 64, 64, 64, 9000, 0, 1400}
			var want [][]byte
			var msgs []link.Message
			for round := 0; round < 20; round++ {
				for _, s := range sizes {
					p := payload(len(want), s)
					want = append(want, p)
					msgs = append(msgs, link.Message{Buf: p, Addr: b.LocalAddr()})
				}
			}
			n, err := a.Send(msgs)
			if err != nil || n != len(msgs) {
				t.Fatalf("Send = %d, %v; want %d", n, err, len(msgs))
			}
			got := receiveAll(t, b, len(want))
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("datagram %d: got %d bytes, want %d (order or content differs)", i, len(got[i]), len(want[i]))
				}
			}
			st := a.Stats()
			if st.TxPackets != uint64(len(msgs)) {
				t.Errorf("TxPackets = %d, want %d", st.TxPackets, len(msgs))
			}
			if a.GSO() && st.TxBatches >= uint64(len(msgs)) {
				t.Errorf("GSO on but %d system calls for %d datagrams", st.TxBatches, len(msgs))
			}
			if rs := b.Stats(); rs.RxPackets != uint64(len(want)) {
				t.Errorf("RxPackets = %d, want %d", rs.RxPackets, len(want))
			}
		})
	}
}

func TestSendToSeveralPeers(t *testing.T) {
	a, b := openPair(t, Config{})
	c, err := Open(Config{Local: netip.MustParseAddrPort("127.0.0.1:0")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var msgs []link.Message
	for i := 0; i < 100; i++ {
		dst := b.LocalAddr()
		if i%3 == 0 {
			dst = c.LocalAddr()
		}
		msgs = append(msgs, link.Message{Buf: payload(i, 1200), Addr: dst})
	}
	if n, err := a.Send(msgs); n != 100 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	gotB := receiveAll(t, b, 66)
	gotC := receiveAll(t, c, 34)
	for _, g := range gotB {
		if binary.BigEndian.Uint32(g)%3 == 0 {
			t.Fatalf("datagram %d reached the wrong peer", binary.BigEndian.Uint32(g))
		}
	}
	for _, g := range gotC {
		if binary.BigEndian.Uint32(g)%3 != 0 {
			t.Fatalf("datagram %d reached the wrong peer", binary.BigEndian.Uint32(g))
		}
	}
}

func TestSendErrorSkipsOnlyTheBadDatagram(t *testing.T) {
	a, b := openPair(t, Config{})
	msgs := []link.Message{
		{Buf: payload(0, 100), Addr: b.LocalAddr()},
		{Buf: make([]byte, 70000), Addr: b.LocalAddr()}, // larger than any UDP datagram
		{Buf: payload(2, 100), Addr: b.LocalAddr()},
	}
	n, err := a.Send(msgs)
	if n != 2 || err == nil {
		t.Fatalf("Send = %d, %v; want 2 and an error", n, err)
	}
	if a.Stats().TxErrors != 1 {
		t.Fatalf("TxErrors = %d, want 1", a.Stats().TxErrors)
	}
	got := receiveAll(t, b, 2)
	if binary.BigEndian.Uint32(got[1]) != 2 {
		t.Fatal("the datagram after the bad one was lost")
	}
}

func TestCloseUnblocksReceive(t *testing.T) {
	a, _ := openPair(t, Config{})
	done := make(chan error)
	go func() {
		_, err := a.Receive(make([]link.Message, 4))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	a.Close()
	select {
	case err := <-done:
		if !errors.Is(err, link.ErrClosed) {
			t.Fatalf("Receive after Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Receive still blocked after Close")
	}
	if _, err := a.Send([]link.Message{{Buf: []byte{1}, Addr: a.LocalAddr()}}); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Send after Close = %v", err)
	}
}

func TestIPv6Loopback(t *testing.T) {
	l, err := Open(Config{Local: netip.MustParseAddrPort("[::1]:0")})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer l.Close()
	if _, err := l.Send([]link.Message{{Buf: []byte("six"), Addr: l.LocalAddr()}}); err != nil {
		t.Fatal(err)
	}
	got := receiveAll(t, l, 1)
	if string(got[0]) != "six" {
		t.Fatalf("got %q", got[0])
	}
}

func TestTrainLength(t *testing.T) {
	p := netip.MustParseAddrPort("10.0.0.1:1")
	q := netip.MustParseAddrPort("10.0.0.2:1")
	m := func(size int, to netip.AddrPort) link.Message { return link.Message{Buf: make([]byte, size), Addr: to} }
	for _, tc := range []struct {
		name string
		msgs []link.Message
		want int
	}{
		{"equal", []link.Message{m(100, p), m(100, p), m(100, p)}, 3},
		{"short tail ends", []link.Message{m(100, p), m(50, p), m(100, p)}, 2},
		{"longer breaks", []link.Message{m(100, p), m(200, p)}, 1},
		{"other peer breaks", []link.Message{m(100, p), m(100, q)}, 1},
		{"empty first", []link.Message{m(0, p), m(0, p)}, 1},
		{"byte limit", func() []link.Message {
			var ms []link.Message
			for i := 0; i < 60; i++ {
				ms = append(ms, m(9000, p))
			}
			return ms
		}(), gsoMaxBytes / 9000},
	} {
		if got := trainLength(tc.msgs, 64); got != tc.want {
			t.Errorf("%s: trainLength = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func FuzzSegments(f *testing.F) {
	f.Add([]byte("abcdefghij"), 3)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, data []byte, seg int) {
		out := appendSegments(make([]link.Message, 0, 4096), data, seg, netip.AddrPort{})
		var joined []byte
		for _, m := range out {
			if seg > 0 && len(m.Buf) > seg {
				t.Fatalf("segment of %d bytes exceeds %d", len(m.Buf), seg)
			}
			joined = append(joined, m.Buf...)
		}
		if len(out) < 4096 && !bytes.Equal(joined, data) {
			t.Fatal("segments do not add up to the datagram")
		}
	})
}

func FuzzGROControl(f *testing.F) {
	b := make([]byte, 64)
	putSegmentCmsg(b, 1400)
	f.Add(b)
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, ctrl []byte) {
		_ = groSegmentBytes(ctrl) // must not panic or loop
	})
}
