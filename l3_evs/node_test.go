package evs

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
	"time"

	totem "github.com/corosync-go/corosync/l2_totem"
)

// soloRing drives one node, alone on its ring (its token loops back), until idle.
func soloNode(t testing.TB) (*Node, func() []Event) { return soloNodeWith(t, false) }

// soloNodeWith is soloNode with the synchronisation hold on or off.
func soloNodeWith(t testing.TB, holdForSync bool) (*Node, func() []Event) {
	c := totem.DefaultConfig(1, time.Second)
	c.WindowFramesMax = 1024
	n, err := NewNode(Config{Totem: c, MessageBytesMax: 1 << 20, HoldForSync: holdForSync}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Duration(0)
	var got []Event
	// step runs the node for 200ms of virtual time, ticking at every deadline.
	step := func() []Event {
		got = got[:0]
		end := now + 200*time.Millisecond
		for i := 0; i < 1_000_000 && now < end; i++ {
			rd := n.Ready()
			for _, e := range rd.Events {
				e.Payload = append([]byte(nil), e.Payload...)
				got = append(got, e)
			}
			n.Advance()
			d := n.NextDeadline()
			if d == 0 || d > end {
				d = end
			}
			now = max(now, d)
			n.Tick(now)
		}
		return got
	}
	for n.Totem().State() != totem.StateOperational {
		step()
	}
	return n, step
}

func TestPackAndFragmentRoundTrip(t *testing.T) {
	n, step := soloNode(t)
	step()
	rng := rand.New(rand.NewSource(1))
	var sent [][]byte
	var got []Event
	collect := func() {
		for _, e := range step() {
			if e.Kind == EventMessage {
				got = append(got, e)
			}
		}
	}
	for i := 0; i < 300; i++ {
		size := rng.Intn(100)
		if i%25 == 0 {
			size = 5000 + rng.Intn(200000)
		}
		m := make([]byte, size)
		rng.Read(m)
		g := Agreed
		if i%3 == 0 {
			g = Safe
		}
		for n.Submit(uint16(i%5), m, g) == ErrTryAgain {
			collect()
		}
		sent = append(sent, m)
	}
	for k := 0; k < 50 && len(got) < len(sent); k++ {
		collect()
	}
	if len(got) != len(sent) {
		t.Fatalf("delivered %d of %d", len(got), len(sent))
	}
	for i := range sent {
		if !bytes.Equal(got[i].Payload, sent[i]) || got[i].Service != uint16(i%5) || got[i].Safe != (i%3 == 0) {
			t.Fatalf("message %d differs (len %d vs %d, service %d, safe %v)", i, len(got[i].Payload), len(sent[i]), got[i].Service, got[i].Safe)
		}
	}
	if s := n.Stats(); s.FragmentsSent == 0 || s.FramesPacked == 0 {
		t.Fatalf("expected both packing and fragmentation: %+v", s)
	}
}

func TestSubmitLimits(t *testing.T) {
	n, _ := soloNode(t)
	if err := n.Submit(1, make([]byte, 1<<20+1), Agreed); err != ErrMessageTooLarge {
		t.Fatalf("oversize message: %v", err)
	}
}

// FuzzDeliverFrame: any frame payload from any sender is either parsed into bounded
// messages or counted as bad; it never panics.
func FuzzDeliverFrame(f *testing.F) {
	f.Add(appendRecord([]byte{frameVersion}, recordWhole, 3, 0, []byte("abc")), []byte{})
	f.Add(appendRecord([]byte{frameVersion}, recordFirst, 3, 10, []byte("abcd")),
		appendRecord(appendRecord([]byte{frameVersion}, recordMiddle, 3, 0, []byte("ef")), recordLast, 3, 0, []byte("ghij")))
	f.Add([]byte{2, 0, 0, 0}, []byte{frameVersion})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		c := totem.DefaultConfig(1, time.Second)
		n, err := NewNode(Config{Totem: c, MessageBytesMax: 4096}, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range [][]byte{a, b} {
			bad := n.stats.BadFrames
			n.deliverFrame(&totem.Delivery{Kind: totem.DeliverMessage, Sender: totem.NodeID(2 + i%2), Payload: p})
			for _, e := range n.rd.Events {
				if len(e.Payload) > 4096 {
					t.Fatalf("message of %d bytes beyond the bound", len(e.Payload))
				}
			}
			if _, err := newFrameReader(p, 4096); err != nil && n.stats.BadFrames != bad+1 {
				t.Fatal(fmt.Sprint("bad frame not counted: ", err))
			}
		}
	})
}

// TestPackedFrameWaitsForToken: on an idle ring (the token held) a message goes out at
// once; while a token visit is on its way, messages keep filling the open frame and the
// visit takes them together in one frame, as corosync's totempg does.
func TestPackedFrameWaitsForToken(t *testing.T) {
	n, step := soloNode(t)
	step() // idle: the representative holds the token
	if n.Totem().TokenExpected() {
		t.Fatal("an idle solo ring expects a token visit")
	}
	if err := n.Submit(1, []byte("a"), Agreed); err != nil {
		t.Fatal(err)
	}
	n.Ready()
	n.Advance()
	if got := n.Stats().FramesPacked; got != 1 {
		t.Fatalf("idle ring: %d frames handed to the ring, want 1 at once", got)
	}
	if !n.Totem().TokenExpected() {
		t.Fatal("the held token was not released by the submit")
	}
	for _, m := range []string{"b", "c", "d"} {
		if err := n.Submit(1, []byte(m), Agreed); err != nil {
			t.Fatal(err)
		}
		n.Ready()
		n.Advance()
	}
	if got := n.Stats().FramesPacked; got != 1 {
		t.Fatalf("token on its way: %d frames handed to the ring, want the open frame kept", got)
	}
	n.Tick(n.NextDeadline()) // the token's visit
	if got := n.Stats().FramesPacked; got != 2 {
		t.Fatalf("after the token visit: %d frames handed to the ring, want 2", got)
	}
	var msgs []Event
	for _, e := range step() {
		if e.Kind == EventMessage {
			msgs = append(msgs, e)
		}
	}
	if len(msgs) != 4 {
		t.Fatalf("delivered %d messages, want 4", len(msgs))
	}
	if msgs[1].Seq != msgs[2].Seq || msgs[2].Seq != msgs[3].Seq || msgs[0].Seq == msgs[1].Seq {
		t.Fatalf("frames of a b c d: %d %d %d %d; want a alone and b c d together", msgs[0].Seq, msgs[1].Seq, msgs[2].Seq, msgs[3].Seq)
	}
}

// TestSyncHold: with HoldForSync, a new ring sends only SubmitSync's messages (packed and
// fragmented) until ReleaseSync names that ring; Submit's wait, and then go in order.
// After the release SubmitSync is Submit, in one FIFO with it.
func TestSyncHold(t *testing.T) {
	n, step := soloNodeWith(t, true)
	payloads := func(evs []Event) []string {
		var out []string
		for _, e := range evs {
			if e.Kind == EventMessage {
				out = append(out, string(e.Payload[:min(len(e.Payload), 8)]))
			}
		}
		return out
	}
	if !n.SyncHeld() {
		t.Fatal("a new ring is not held")
	}
	big := bytes.Repeat([]byte("B"), 3*n.cfg.Totem.FrameBytesMax)
	for _, m := range []string{"a1", "a2"} {
		if err := n.Submit(1, []byte(m), Agreed); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.SubmitSync(2, []byte("s1"), Agreed); err != nil {
		t.Fatal(err)
	}
	if err := n.SubmitSync(2, big, Safe); err != nil {
		t.Fatal(err)
	}
	if err := n.SubmitSync(2, []byte("s2"), Agreed); err != nil {
		t.Fatal(err)
	}
	if got := payloads(step()); fmt.Sprint(got) != "[s1 BBBBBBBB s2]" {
		t.Fatalf("while held: delivered %v, want the synchronisation messages only", got)
	}
	ring, _ := n.Totem().Ring()
	other := ring
	other.Seq--
	n.ReleaseSync(other)
	if got := payloads(step()); len(got) != 0 || !n.SyncHeld() {
		t.Fatalf("a release for another ring let %v go (held %v)", got, n.SyncHeld())
	}
	n.ReleaseSync(ring)
	if got := payloads(step()); fmt.Sprint(got) != "[a1 a2]" {
		t.Fatalf("after the release: delivered %v, want a1 a2", got)
	}
	for i, m := range []string{"b", "c", "d"} {
		submit := n.Submit
		if i == 1 {
			submit = n.SubmitSync
		}
		if err := submit(1, []byte(m), Agreed); err != nil {
			t.Fatal(err)
		}
	}
	if got := payloads(step()); fmt.Sprint(got) != "[b c d]" {
		t.Fatalf("unheld: delivered %v, want b c d in order", got)
	}
}
