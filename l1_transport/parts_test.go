package transport

import (
	"bytes"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
)

func TestReplayWindow(t *testing.T) {
	var w replayWindow
	accept := func(seq uint64) bool {
		if !w.check(seq) {
			return false
		}
		w.record(seq)
		return true
	}
	if accept(0) {
		t.Fatal("sequence 0 accepted")
	}
	for _, s := range []uint64{1, 2, 5, 4, 3} {
		if !accept(s) {
			t.Fatalf("fresh %d refused", s)
		}
	}
	for _, s := range []uint64{1, 3, 5} {
		if accept(s) {
			t.Fatalf("replay of %d accepted", s)
		}
	}
	if !accept(5000) {
		t.Fatal("jump forward refused")
	}
	if accept(5000 - replayWindowPackets) {
		t.Fatal("packet older than the window accepted")
	}
	if !accept(5000 - replayWindowPackets + 1) {
		t.Fatal("oldest packet inside the window refused")
	}
	// After sliding by less than the window, the words it passed over are clear.
	if !accept(5000+100) || !accept(5000+50) || accept(5000+50) {
		t.Fatal("slide within the window broke the bitmap")
	}
}

func TestReassemblyEvictsAndBounds(t *testing.T) {
	r := reassembly{max: 100}
	out := make([]byte, 0, 100)
	// A message in three pieces, out of order and with a duplicate.
	pieces := [][]byte{[]byte("aaa"), []byte("bbb"), []byte("cc")}
	order := []uint16{2, 0, 0, 1}
	var whole []byte
	for _, i := range order {
		m, done, err := r.add(fragment{msgID: 7, index: i, count: 3}, 0, pieces[i], out)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			whole = m
		}
	}
	if string(whole) != "aaabbbcc" {
		t.Fatalf("rebuilt %q", whole)
	}
	// More messages in flight than slots: the oldest is evicted, the rest complete.
	for id := uint32(100); id < 100+reassemblySlots+1; id++ {
		r.add(fragment{msgID: id, index: 0, count: 2}, 0, []byte("x"), out)
	}
	if _, done, _ := r.add(fragment{msgID: 100, index: 1, count: 2}, 0, []byte("y"), out); done {
		t.Fatal("evicted message completed")
	}
	if m, done, _ := r.add(fragment{msgID: 100 + reassemblySlots, index: 1, count: 2}, 0, []byte("y"), out); !done || string(m) != "xy" {
		t.Fatal("newest message lost")
	}
	// A message larger than the bound is refused.
	r.add(fragment{msgID: 1, index: 0, count: 2}, 0, make([]byte, 60), out)
	if _, _, err := r.add(fragment{msgID: 1, index: 1, count: 2}, 0, make([]byte, 60), out); err == nil {
		t.Fatal("oversized message accepted")
	}
}

func TestPMTUSearch(t *testing.T) {
	for _, path := range []int{1472, 1400, 1000, 548, 9000} {
		var s pmtuSearch
		s.reset(1472)
		now := time.Duration(0)
		for round := 0; round < 40; round++ {
			now += time.Second
			size := s.next(now, 500*time.Millisecond, time.Hour)
			if size == 0 {
				continue
			}
			if size <= path {
				s.passed(size)
			}
			// A lost probe is noticed at the next call after the timeout.
		}
		want := min(path, 1472)
		if s.current() != want || !s.proven {
			t.Errorf("path %d: found %d (proven %v), want %d", path, s.current(), s.proven, want)
		}
	}
}

func TestCompressionRefusesBombs(t *testing.T) {
	for _, model := range []string{"s2", "lz4", "zstd", "zlib"} {
		c, err := newCompressor(CompressionConfig{Model: model, ThresholdBytes: 1})
		if err != nil {
			t.Fatal(err)
		}
		big := make([]byte, 200000) // zeros compress very well
		packed, id := c.compress(make([]byte, 0, 300000), big)
		if id == modelNone {
			t.Fatalf("%s did not compress zeros", model)
		}
		d := newDecompressor(65536)
		if _, err := d.decompress(make([]byte, 0, 65536), packed, id); err == nil {
			t.Fatalf("%s: a 200 kB expansion was accepted with a 64 kB limit", model)
		}
		small := bytes.Repeat([]byte("ab"), 1000)
		packed, id = c.compress(make([]byte, 0, 4096), small)
		out, err := d.decompress(make([]byte, 0, 65536), packed, id)
		if err != nil || !bytes.Equal(out, small) {
			t.Fatalf("%s round trip: %v", model, err)
		}
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	h := header{typ: typePong, flags: 0x31, link: 7, slot: 2, src: 0xdeadbeef, dst: 3, session: 1 << 60, seq: 42}
	b := make([]byte, headerBytes)
	putHeader(b, &h)
	var g header
	if err := decodeHeader(b, &g); err != nil || g != h {
		t.Fatalf("decoded %+v, %v", g, err)
	}
	for i, mut := range []func([]byte){
		func(b []byte) { b[0] = 0 },
		func(b []byte) { b[1] = 9 },
		func(b []byte) { b[2] = 0 },
		func(b []byte) { b[4] = MaxLinks },
		func(b []byte) { b[5] = maxSlot + 1 },
	} {
		c := append([]byte(nil), b...)
		mut(c)
		if decodeHeader(c, &g) == nil {
			t.Errorf("mutation %d accepted", i)
		}
	}
	if decodeHeader(b[:headerBytes-1], &g) != errTruncated {
		t.Error("short header accepted")
	}
	b[5] = 0xff
	if err := decodeHeader(b, &g); err != errBadSlot || dropReasonOf(err) != dropBadSlot {
		t.Errorf("slot 255: %v, counted as %s", err, dropNames[dropReasonOf(err)])
	}
}

func FuzzDecodeHeader(f *testing.F) {
	// Clear, slot 1, slot 2 and an out-of-range slot.
	for _, slot := range []uint8{slotClear, 1, 2} {
		b := make([]byte, headerBytes)
		putHeader(b, &header{typ: typeData, slot: slot, src: 1, dst: 2, session: 5, seq: 1})
		f.Add(b)
	}
	bad := make([]byte, headerBytes)
	putHeader(bad, &header{typ: typePing, src: 1, dst: 2, session: 5, seq: 1})
	bad[5] = maxSlot + 1
	f.Add(bad)
	f.Fuzz(func(t *testing.T, data []byte) {
		var h header
		if err := decodeHeader(data, &h); err != nil {
			if len(data) >= headerBytes && data[5] <= maxSlot && err == errBadSlot {
				t.Fatalf("slot %d refused", data[5])
			}
			return
		}
		if h.slot > maxSlot {
			t.Fatalf("slot %d accepted", h.slot)
		}
		// Whatever decodes re-encodes to the same header bytes (reserved bytes aside).
		out := make([]byte, headerBytes)
		putHeader(out, &h)
		if !bytes.Equal(out[8:], data[8:headerBytes]) || !bytes.Equal(out[:6], data[:6]) {
			t.Fatal("header does not round-trip")
		}
	})
}

func FuzzDecompress(f *testing.F) {
	c, _ := newCompressor(CompressionConfig{Model: "zstd", ThresholdBytes: 1})
	z, _ := c.compress(nil, bytes.Repeat([]byte("x"), 500))
	f.Add(z, modelZstd)
	f.Add([]byte{0xff, 0, 1}, modelS2)
	f.Add([]byte{0x10, 'a'}, modelLZ4)
	f.Fuzz(func(t *testing.T, data []byte, model uint8) {
		d := newDecompressor(4096)
		out, err := d.decompress(make([]byte, 0, 4096), data, model%5)
		if err == nil && len(out) > 4096 && model%5 != modelNone {
			t.Fatalf("expanded to %d bytes past the limit", len(out))
		}
	})
}

func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 2, 'a', 0, 0, 0, 1, 0, 1, 0, 2, 'b'})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := reassembly{max: 1000}
		out := make([]byte, 0, 1000)
		for len(data) >= fragmentHeaderLen+1 {
			n := int(data[fragmentHeaderLen]%32) + 1
			end := min(len(data), fragmentHeaderLen+n)
			fr, piece, err := decodeFragment(data[:end])
			data = data[end:]
			if err != nil {
				continue
			}
			m, _, _ := r.add(fr, 0, piece, out)
			if len(m) > 1000 {
				t.Fatal("message past the bound")
			}
		}
	})
}

// FuzzHandlePacket feeds arbitrary datagrams, from a configured peer's address, to a
// transport with crypto on (and a second configuration loaded) and one with it off, both with their link in group mode so that
// packets to the group (dst 0) take their own path; nothing may panic or be delivered
// unless it is well formed. Seeds include real packets of a sender: unicast and group,
// whole and fragmented.
func FuzzHandlePacket(f *testing.F) {
	seed := make([]byte, headerBytes+20)
	putHeader(seed, &header{typ: typeData, src: 1, dst: 2, session: 5, seq: 1})
	f.Add(seed, false)
	f.Add(seed, true)
	frag := append([]byte(nil), seed...)
	frag[3] = flagFragment | modelS2<<compressionShift
	f.Add(frag, false)
	group := append([]byte(nil), seed...)
	group[15] = 0 // dst 0
	f.Add(group, false)
	// Every key slot against both receivers: clear, loaded or not, and out of range.
	for slot := byte(0); slot <= maxSlot+1; slot++ {
		s := append([]byte(nil), seed...)
		s[5] = slot
		f.Add(s, false)
		f.Add(s, true)
	}
	for _, crypto := range []bool{false, true} {
		sender := fuzzTransport(f, 1, crypto, true)
		var gseq, useq uint64
		var fh [fragmentHeaderLen]byte
		putFragment(fh[:], fragment{msgID: 1, index: 0, count: 2})
		for _, p := range [][]byte{
			sender.build(Broadcast, &gseq, typeData, 0, 0, nil, []byte("to the group")),
			sender.build(Broadcast, &gseq, typeData, flagFragment, 0, fh[:], []byte("first half")),
			sender.build(2, &useq, typeData, 0, 0, nil, []byte("to node 2")),
			sender.build(Broadcast, &gseq, typePing, 0, 0, nil, make([]byte, 12)),
		} {
			f.Add(append([]byte(nil), p...), crypto)
		}
	}
	plain, sealed := fuzzTransport(f, 2, false, true), fuzzTransport(f, 2, true, true)
	// The sealed receiver is in the middle of a crypto change: both slots loaded.
	if err := sealed.CryptoLoad(CryptoConfig{Cipher: "chacha20poly1305", Key: testKey(2)}); err != nil {
		f.Fatal(err)
	}
	rxPlain, rxSealed := plain.newRxScratch(plain.links[0]), sealed.newRxScratch(sealed.links[0])
	f.Fuzz(func(t *testing.T, data []byte, crypto bool) {
		tr, r := plain, rxPlain
		if crypto {
			tr, r = sealed, rxSealed
		}
		tr.handlePacket(tr.links[0], link.Message{Buf: data, Addr: addrOf(1, 0)}, r)
	})
}
