package rdma

import (
	"net/netip"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

// testMTUBytes is the fake ports' MTU, RoCE's usual 1024 on a 1500-byte Ethernet.
const testMTUBytes = 1024

// received is a copy of one received datagram; the link's views die at the next Receive.
type received struct {
	data string
	from netip.AddrPort
}

// newFabric returns a fabric with one device per address, named "a", "b", .... When the
// test ends, after everything opened on it is closed, nothing may be left open.
func newFabric(t *testing.T, addrs ...string) *FakeFabric {
	t.Helper()
	f := NewFakeFabric()
	noLeaks(t, f)
	for i, a := range addrs {
		if err := f.AddDevice(string(rune('a'+i)), netip.MustParseAddr(a), testMTUBytes); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// noLeaks checks, when the test ends and after the cleanups registered later have closed
// everything, that nothing on f is left open.
func noLeaks(t *testing.T, f *FakeFabric) {
	t.Cleanup(func() {
		if n := f.LiveObjects(); n != 0 {
			t.Errorf("%d verbs objects left open", n)
		}
	})
}

// openLink opens a link on device with small rings and closes it when the test ends.
func openLink(t *testing.T, f *FakeFabric, device, local string, mod func(*Config)) *Link {
	t.Helper()
	cfg := Config{Local: netip.MustParseAddrPort(local), Device: device, RecvSlots: 16, SendSlots: 8}
	if mod != nil {
		mod(&cfg)
	}
	l, err := OpenWith(f, cfg)
	if err != nil {
		t.Fatalf("OpenWith(%s): %v", device, err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close(%s): %v", device, err)
		}
	})
	return l
}

// connect opens links on devices "a" and "b" of f that know each other's QPN: b from
// its Config, a through SetPeer.
func connect(t *testing.T, f *FakeFabric, localA, localB string, mod func(*Config)) (a, b *Link) {
	t.Helper()
	a = openLink(t, f, "a", localA, mod)
	b = openLink(t, f, "b", localB, func(c *Config) {
		if mod != nil {
			mod(c)
		}
		c.Peers = map[netip.Addr]uint32{a.LocalAddr().Addr(): a.QPN()}
	})
	a.SetPeer(b.LocalAddr().Addr(), b.QPN())
	return a, b
}

// batch builds messages to dst with the given payloads.
func batch(dst netip.AddrPort, payloads ...string) []link.Message {
	msgs := make([]link.Message, len(payloads))
	for i, p := range payloads {
		msgs[i] = link.Message{Buf: []byte(p), Addr: dst}
	}
	return msgs
}

// receiveN calls Receive until want datagrams have arrived, with room for room per call,
// failing the test after a second: a link that lost datagrams would otherwise block.
func receiveN(t *testing.T, l *Link, want, room int) []received {
	t.Helper()
	type result struct {
		got []received
		err error
	}
	done := make(chan result, 1)
	go func() {
		var got []received
		msgs := make([]link.Message, room)
		for len(got) < want {
			n, err := l.Receive(msgs)
			if err != nil {
				done <- result{got, err}
				return
			}
			for _, m := range msgs[:n] {
				got = append(got, received{string(m.Buf), m.Addr})
			}
		}
		done <- result{got, nil}
	}()
	select {
	case r := <-done:
		if r.err != nil || len(r.got) != want {
			t.Fatalf("received %d of %d datagrams, error %v", len(r.got), want, r.err)
		}
		return r.got
	case <-time.After(time.Second):
		t.Fatalf("timed out waiting for %d datagrams", want)
		return nil
	}
}

// rawPort is a bare UD queue pair on a fake device, for sending what a Link never would.
type rawPort struct {
	qp  QueuePair
	scq CompletionQueue
	mr  MemoryRegion
	ah  AddressHandle
}

// newRawPort makes a ready-to-send queue pair on device that addresses dst's GID.
func newRawPort(t *testing.T, f *FakeFabric, device string, dst netip.Addr) *rawPort {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, err := f.OpenDevice(device)
	must(err)
	pd, err := ctx.AllocPD()
	must(err)
	scq, err := ctx.CreateCQ(4)
	must(err)
	rcq, err := ctx.CreateCQ(4)
	must(err)
	qp, err := pd.CreateUDQP(QPConfig{SendCQ: scq, RecvCQ: rcq, SendWRs: 4, RecvWRs: 4})
	must(err)
	must(qp.ModifyToInit(1, 0, WellKnownQKey))
	must(qp.ModifyToRTR())
	must(qp.ModifyToRTS(0))
	mr, err := pd.AllocMemory(8192)
	must(err)
	ah, err := pd.CreateAH(AHConfig{Port: 1, DGID: GIDFromAddr(dst), SGIDIndex: 3, HopLimit: 64})
	must(err)
	t.Cleanup(func() {
		for _, c := range []interface{ Close() error }{ah, qp, mr, scq, rcq, pd, ctx} {
			must(c.Close())
		}
	})
	return &rawPort{qp: qp, scq: scq, mr: mr, ah: ah}
}

// send transmits b as is to queue pair qpn and waits for the send completion.
func (r *rawPort) send(t *testing.T, qpn uint32, b []byte) {
	t.Helper()
	n := copy(r.mr.Bytes(), b)
	err := r.qp.PostSend(SendRequest{Segment: Segment{Region: r.mr, Length: n}, AH: r.ah, RemoteQPN: qpn, RemoteQKey: WellKnownQKey})
	if err != nil {
		t.Fatal(err)
	}
	wc := make([]WorkCompletion, 1)
	if k, err := r.scq.Poll(wc); k != 1 || err != nil {
		t.Fatalf("raw send: %d completions, %v", k, err)
	}
}
