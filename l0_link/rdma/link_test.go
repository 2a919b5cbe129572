package rdma

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

func TestExchangeBothWays(t *testing.T) {
	for _, c := range []struct{ name, ipA, ipB string }{
		{"IPv4", "10.0.0.1", "10.0.0.2"},
		{"IPv6", "fd00::1", "fd00::2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFabric(t, c.ipA, c.ipB)
			a, b := connect(t, f, netip.AddrPortFrom(netip.MustParseAddr(c.ipA), 5405).String(),
				netip.AddrPortFrom(netip.MustParseAddr(c.ipB), 5406).String(), nil)
			if a.Kind() != "rdma" || a.MaxPayloadBytes() != testMTUBytes-frameHeaderBytes {
				t.Fatalf("Kind %q, MaxPayloadBytes %d", a.Kind(), a.MaxPayloadBytes())
			}
			if a.GIDIndex() != 3 {
				t.Errorf("GID index %d, want 3 (the RoCE v2 entry of the address)", a.GIDIndex())
			}

			big := strings.Repeat("z", a.MaxPayloadBytes())
			if n, err := a.Send(batch(b.LocalAddr(), "one", "", big)); n != 3 || err != nil {
				t.Fatalf("a.Send = %d, %v", n, err)
			}
			got := receiveN(t, b, 3, 8)
			for i, want := range []string{"one", "", big} {
				if got[i].data != want || got[i].from != a.LocalAddr() {
					t.Errorf("b got #%d %.10q from %s, want %.10q from %s", i, got[i].data, got[i].from, want, a.LocalAddr())
				}
			}

			if n, err := b.Send(batch(a.LocalAddr(), "back1", "back2")); n != 2 || err != nil {
				t.Fatalf("b.Send = %d, %v", n, err)
			}
			got = receiveN(t, a, 2, 8)
			if got[0] != (received{"back1", b.LocalAddr()}) || got[1] != (received{"back2", b.LocalAddr()}) {
				t.Errorf("a got %v", got)
			}

			sa, sb := a.Stats(), b.Stats()
			if sa.TxPackets != 3 || sa.TxBatches != 1 || sa.TxBytes != uint64(3+len(big)) || sa.TxErrors != 0 {
				t.Errorf("a stats %+v", sa)
			}
			if sb.RxPackets != 3 || sb.RxBytes != uint64(3+len(big)) || sb.RxBatches == 0 || sb.RxDropped != 0 {
				t.Errorf("b stats %+v", sb)
			}
		})
	}
}

func TestReceiveRepostsSlots(t *testing.T) {
	f := newFabric(t, "10.0.0.1", "10.0.0.2")
	const slots = 8
	a, b := connect(t, f, "10.0.0.1:5405", "10.0.0.2:5405", func(c *Config) { c.RecvSlots = slots })

	// Fill every slot: one Receive hands out at most half the ring, however much room.
	var want []string
	for i := range slots {
		want = append(want, fmt.Sprint("p", i))
	}
	if n, err := a.Send(batch(b.LocalAddr(), want...)); n != slots || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	msgs := make([]link.Message, 2*slots)
	if n, err := b.Receive(msgs); n != slots/2 || err != nil {
		t.Fatalf("first Receive = %d, %v; want %d", n, err, slots/2)
	}

	// Five times the ring over many Receive calls: only reposted slots can hold them.
	var got []string
	for _, m := range msgs[:slots/2] {
		got = append(got, string(m.Buf))
	}
	for _, r := range receiveN(t, b, slots/2, 3) {
		got = append(got, r.data)
	}
	for round := range 4 {
		var sent []string
		for i := range slots {
			sent = append(sent, fmt.Sprint("r", round, "-", i))
		}
		want = append(want, sent...)
		for len(sent) > 0 {
			k := min(3, len(sent))
			if n, err := a.Send(batch(b.LocalAddr(), sent[:k]...)); n != k || err != nil {
				t.Fatalf("Send = %d, %v", n, err)
			}
			for _, r := range receiveN(t, b, k, 3) {
				got = append(got, r.data)
			}
			sent = sent[k:]
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("received\n%v, want\n%v", got, want)
	}
	if d := f.Drops(); d.NoRecvBuffer != 0 {
		t.Fatalf("%d datagrams found no receive buffer", d.NoRecvBuffer)
	}
}

func TestSendQueueFull(t *testing.T) {
	f := newFabric(t, "10.0.0.1", "10.0.0.2")
	a, b := connect(t, f, "10.0.0.1:5405", "10.0.0.2:5405", func(c *Config) { c.SendSlots = 4 })

	f.HoldSendCompletions("a", true)
	msgs := batch(b.LocalAddr(), "0", "1", "2", "3", "4", "5")
	n, err := a.Send(msgs)
	if n != 4 || !errors.Is(err, ErrSendQueueFull) {
		t.Fatalf("Send with completions held = %d, %v; want 4, ErrSendQueueFull", n, err)
	}
	if s := a.Stats(); s.TxPackets != 4 || s.TxErrors != 0 {
		t.Fatalf("stats %+v: a full queue is back-pressure, not an error", s)
	}

	f.HoldSendCompletions("a", false)
	if n, err := a.Send(msgs[n:]); n != 2 || err != nil {
		t.Fatalf("Send after completions = %d, %v", n, err)
	}
	got := receiveN(t, b, 6, 8)
	for i, r := range got {
		if r.data != fmt.Sprint(i) {
			t.Fatalf("datagram %d is %q", i, r.data)
		}
	}
}

func TestSendErrorsCounted(t *testing.T) {
	f := newFabric(t, "10.0.0.1", "10.0.0.2")
	a, b := connect(t, f, "10.0.0.1:5405", "10.0.0.2:5405", nil)

	// Two sends fail in the device: they were posted (n counts them) but never arrive.
	f.FailSends("a", 2, WCGeneralError)
	if n, err := a.Send(batch(b.LocalAddr(), "lost1", "lost2", "kept")); n != 3 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	if s := a.Stats(); s.TxErrors != 2 || s.TxPackets != 3 {
		t.Fatalf("after injected failures: stats %+v, want TxErrors 2", s)
	}
	if got := receiveN(t, b, 1, 8); got[0].data != "kept" {
		t.Fatalf("b got %q", got[0].data)
	}

	// Refused datagrams are skipped, counted, and reported with the first error.
	stranger := netip.MustParseAddrPort("10.0.0.9:5405")
	tooBig := make([]byte, a.MaxPayloadBytes()+1)
	msgs := []link.Message{{Buf: tooBig, Addr: b.LocalAddr()}, {Buf: []byte("x"), Addr: stranger}, {Buf: []byte("ok"), Addr: b.LocalAddr()}}
	n, err := a.Send(msgs)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("Send = %d, %v; want 1 and the too-big error", n, err)
	}
	if s := a.Stats(); s.TxErrors != 4 {
		t.Fatalf("TxErrors %d, want 4", s.TxErrors)
	}
	if got := receiveN(t, b, 1, 8); got[0].data != "ok" {
		t.Fatalf("b got %q", got[0].data)
	}
}

func TestMalformedFramesDropped(t *testing.T) {
	f := NewFakeFabric()
	noLeaks(t, f)
	for _, d := range []struct {
		name, addr string
		mtu        int
	}{{"b", "10.0.0.2", testMTUBytes}, {"c", "10.0.0.3", 4096}} {
		if err := f.AddDevice(d.name, netip.MustParseAddr(d.addr), d.mtu); err != nil {
			t.Fatal(err)
		}
	}
	b := openLink(t, f, "b", "10.0.0.2:5405", nil)
	raw := newRawPort(t, f, "c", b.LocalAddr().Addr())

	good := make([]byte, frameHeaderBytes+2)
	encodeFrame(good, 7000, []byte("ok"))
	corrupt := func(f func([]byte)) []byte { c := bytes.Clone(good); f(c); return c }
	for _, bad := range [][]byte{
		good[:3],                                // shorter than the header
		corrupt(func(c []byte) { c[0] = 0x00 }), // bad magic
		corrupt(func(c []byte) { c[0] = frameMagic | 9 }),                  // unknown version
		corrupt(func(c []byte) { c[1] = 0x80 }),                            // unknown flags
		corrupt(func(c []byte) { binary.BigEndian.PutUint16(c[4:], 200) }), // longer than received
		{}, // empty datagram
	} {
		raw.send(t, b.QPN(), bad)
	}
	// Bigger than b's receive slots: the device reports a length error on b's side.
	raw.send(t, b.QPN(), make([]byte, 2000))
	raw.send(t, b.QPN(), good)

	got := receiveN(t, b, 1, 8)
	if want := (received{"ok", netip.MustParseAddrPort("10.0.0.3:7000")}); got[0] != want {
		t.Fatalf("got %+v, want %+v", got[0], want)
	}
	if s := b.Stats(); s.RxDropped != 6 || s.RxErrors != 1 || s.RxPackets != 1 {
		t.Fatalf("stats %+v, want RxDropped 6, RxErrors 1, RxPackets 1", s)
	}
}

func TestLearnsPeerQPN(t *testing.T) {
	f := newFabric(t, "10.0.0.1", "10.0.0.2")
	a := openLink(t, f, "a", "10.0.0.1:5405", nil)
	b := openLink(t, f, "b", "10.0.0.2:5405", func(c *Config) {
		c.Peers = map[netip.Addr]uint32{netip.MustParseAddr("::ffff:10.0.0.1"): a.QPN()}
	})

	if n, err := a.Send(batch(b.LocalAddr(), "early")); n != 0 || err == nil {
		t.Fatalf("Send to a peer of unknown QPN = %d, %v; want a refusal", n, err)
	}
	if n, err := b.Send(batch(a.LocalAddr(), "hello")); n != 1 || err != nil {
		t.Fatalf("b.Send = %d, %v", n, err)
	}
	receiveN(t, a, 1, 4)
	if n, err := a.Send(batch(b.LocalAddr(), "reply")); n != 1 || err != nil {
		t.Fatalf("reply after learning = %d, %v", n, err)
	}
	if got := receiveN(t, b, 1, 4); got[0].data != "reply" {
		t.Fatalf("b got %q", got[0].data)
	}
}

func TestCloseUnblocksReceive(t *testing.T) {
	f := newFabric(t, "10.0.0.1")
	a := openLink(t, f, "a", "10.0.0.1:5405", nil)
	done := make(chan error, 1)
	go func() {
		_, err := a.Receive(make([]link.Message, 4))
		done <- err
	}()
	time.Sleep(5 * time.Millisecond) // let Receive block; the test holds without it too
	start := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }() // Close waits for Receive, so a stuck one hangs it
	for _, c := range []struct {
		what string
		ch   chan error
		want error
	}{{"Receive", done, link.ErrClosed}, {"Close", closed, nil}} {
		select {
		case err := <-c.ch:
			if !errors.Is(err, c.want) {
				t.Fatalf("%s returned %v, want %v", c.what, err, c.want)
			}
		case <-time.After(time.Second):
			t.Fatalf("%s did not return after Close", c.what)
		}
	}
	// Close waits for Receive to let go of the queues; that must be prompt.
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("Close and Receive took %v to return", d)
	}
	if _, err := a.Send(batch(a.LocalAddr(), "x")); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if _, err := a.Receive(make([]link.Message, 1)); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Receive after Close: %v", err)
	}
	if n := f.LiveObjects(); n != 0 {
		t.Fatalf("%d verbs objects still open after Close", n)
	}
}

func TestOpenWithErrors(t *testing.T) {
	f := newFabric(t, "10.0.0.1")
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no device", Config{Local: netip.MustParseAddrPort("10.0.0.1:1"), Device: "zz"}, "no RDMA device"},
		{"not our address", Config{Local: netip.MustParseAddrPort("10.0.0.7:1"), Device: "a"}, "no GID for 10.0.0.7"},
		{"link-local GID forced", Config{Local: netip.MustParseAddrPort("10.0.0.1:1"), Device: "a", GIDIndex: 1}, "GID index 1 holds fe80::1"},
		{"one receive slot", Config{Local: netip.MustParseAddrPort("10.0.0.1:1"), Device: "a", RecvSlots: 1}, "receive and"},
		{"no port 2", Config{Local: netip.MustParseAddrPort("10.0.0.1:1"), Device: "a", Port: 2}, "no port 2"},
	}
	for _, c := range cases {
		l, err := OpenWith(f, c.cfg)
		if l != nil || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: OpenWith = %v, %v; want an error containing %q", c.name, l, err, c.want)
		}
	}
	// A forced index holding the right address is taken as is.
	l, err := OpenWith(f, Config{Local: netip.MustParseAddrPort("10.0.0.1:1"), Device: "a", GIDIndex: 2})
	if err != nil || l.GIDIndex() != 2 {
		t.Fatalf("forced GID index 2: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
