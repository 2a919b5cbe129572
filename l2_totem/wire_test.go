package totem

import (
	"errors"
	"reflect"
	"testing"
)

func sampleMessages() []Message {
	r := RingID{Rep: 3, Seq: 0x1234, Epoch: 99}
	return []Message{
		{Header: Header{Type: MsgToken, Sender: 2, Ring: r}, TokenSeq: 7, Seq: 100, Aru: 90, AruAddr: 4, FCC: 12, Backlog: 3, RetransFlag: true, RTR: []uint64{91, 95}},
		{Header: Header{Type: MsgMcast, Sender: 2, Ring: r}, Seq: 5, Flags: FlagSafe, Payload: []byte("hello")},
		{Header: Header{Type: MsgMcast, Sender: 5, Ring: r}, Seq: 6, Flags: FlagEncapsulated, OldRing: RingID{Rep: 1, Seq: 8, Epoch: 1}, OldSeq: 44, OldSender: 9, OldFlags: FlagSafe, Payload: []byte{1, 2, 3}},
		{Header: Header{Type: MsgJoin, Sender: 1, Ring: r}, RingSeq: 40, Proc: []NodeID{1, 2, 3}, Failed: []NodeID{3}},
		{Header: Header{Type: MsgJoin, Sender: 1, Ring: r}, RingSeq: 40, Leave: true, Proc: []NodeID{}, Failed: []NodeID{1}},
		{Header: Header{Type: MsgCommit, Sender: 1, Ring: r}, TokenSeq: 2, MembIndex: 1, Memb: []MembEntry{{Node: 1, OldRing: r, Aru: 5, HighDelivered: 4, Received: true}, {Node: 2}}},
		{Header: Header{Type: MsgMergeDetect, Sender: 4, Ring: r}},
		{Header: Header{Type: MsgHoldCancel, Sender: 4, Ring: r}},
	}
}

func encode(m *Message) []byte {
	switch m.Type {
	case MsgToken:
		return AppendToken(nil, m.Sender, m)
	case MsgMcast:
		return AppendMcast(nil, m.Sender, m)
	case MsgJoin:
		return AppendJoin(nil, m.Sender, m)
	case MsgCommit:
		return AppendCommit(nil, m.Sender, m)
	default:
		return AppendSimple(nil, m.Type, m.Sender, m.Ring)
	}
}

func TestWireRoundTrip(t *testing.T) {
	for _, want := range sampleMessages() {
		b := encode(&want)
		var got Message
		if err := Decode(b, &got); err != nil {
			t.Fatalf("%v: %v", want.Type, err)
		}
		if want.Type == MsgJoin && want.Proc != nil && len(want.Proc) == 0 {
			got.Proc = []NodeID{}
		}
		if !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Fatalf("%v round trip:\n got %+v\nwant %+v", want.Type, got, want)
		}
	}
}

// normalize clears nil/empty slice differences.
func normalize(m Message) Message {
	for _, s := range []*[]NodeID{&m.Proc, &m.Failed} {
		if len(*s) == 0 {
			*s = nil
		}
	}
	if len(m.RTR) == 0 {
		m.RTR = nil
	}
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
	if len(m.Memb) == 0 {
		m.Memb = nil
	}
	return m
}

func TestWireErrors(t *testing.T) {
	msgs := sampleMessages()
	token := encode(&msgs[0])
	join := encode(&msgs[3])
	commit := encode(&msgs[5])
	mut := func(b []byte, f func([]byte)) []byte { c := append([]byte(nil), b...); f(c); return c }
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", token[:10], ErrShort},
		{"magic", mut(token, func(b []byte) { b[0] ^= 0xff }), ErrMagic},
		{"version", mut(token, func(b []byte) { b[2] = 9 }), ErrVersion},
		{"type 0", mut(token, func(b []byte) { b[3] = 0 }), ErrType},
		{"type unknown", mut(token, func(b []byte) { b[3] = 200 }), ErrType},
		{"sender 0", mut(token, func(b []byte) { b[4], b[5], b[6], b[7] = 0, 0, 0, 0 }), ErrSender},
		{"token truncated rtr", token[:len(token)-3], ErrShort},
		{"token trailing", append(append([]byte(nil), token...), 0), ErrTrailing},
		{"token too many rtr", mut(token, func(b []byte) { b[HeaderBytes+37] = 200 }), ErrListLength},
		{"token flag", mut(token, func(b []byte) { b[HeaderBytes+36] = 2 }), ErrFlags},
		{"mcast flags", mut(encode(&msgs[1]), func(b []byte) { b[HeaderBytes+8] = 0x80 }), ErrFlags},
		{"encap truncated", encode(&msgs[2])[:HeaderBytes+12], ErrShort},
		{"join truncated", join[:len(join)-1], ErrShort},
		{"join trailing", append(append([]byte(nil), join...), 1, 2, 3, 4), ErrTrailing},
		{"commit zero members", mut(commit, func(b []byte) { b[HeaderBytes+10], b[HeaderBytes+11] = 0, 0 }), ErrListLength},
		{"commit index beyond", mut(commit, func(b []byte) { b[HeaderBytes+8] = 9 }), ErrListLength},
		{"merge trailing", append(encode(&msgs[6]), 0), ErrTrailing},
	}
	for _, c := range cases {
		var m Message
		if err := Decode(c.b, &m); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	msgs := sampleMessages()
	token, mcast := encode(&msgs[0]), encode(&msgs[1])
	var m Message
	_ = Decode(token, &m)
	if n := testing.AllocsPerRun(100, func() {
		_ = Decode(token, &m)
		_ = Decode(mcast, &m)
	}); n != 0 {
		t.Fatalf("Decode allocates %.1f times", n)
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts re-encodes to the same bytes
// (the format is canonical) and decodes to the same message.
func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(encode(&m))
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x7c, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if err := Decode(b, &m); err != nil {
			return
		}
		again := encode(&m)
		if string(again) != string(b) {
			t.Fatalf("not canonical:\n in %x\nout %x", b, again)
		}
		var m2 Message
		if err := Decode(again, &m2); err != nil || !reflect.DeepEqual(normalize(m), normalize(m2)) {
			t.Fatalf("re-decode differs: %v", err)
		}
	})
}

// FuzzNodeReceive feeds arbitrary packets to a running node: it must never panic, and bad
// packets must be counted.
func FuzzNodeReceive(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(encode(&m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tn := newTestNet(t, 2)
		tn.run(200 * 1e6)
		n := tn.nodes[1]
		before := n.Stats().DecodeErrors
		var m Message
		bad := Decode(b, &m) != nil
		n.Receive(tn.now, b)
		tn.flush(1)
		if bad && n.Stats().DecodeErrors != before+1 {
			t.Fatal("malformed packet not counted")
		}
		tn.run(3 * 1e9)
	})
}
