package mar

import (
	"errors"
	"testing"
)

func TestRoundTripAndShortRead(t *testing.T) {
	e := NewEncoder(64)
	e.U8(7)
	e.Align(8)
	e.U64(1 << 40)
	e.I32(-3)
	e.Fixed([]byte("ab"), 6)
	e.F64(2.5)
	if len(e.B) != 8+8+4+6+8 {
		t.Fatalf("encoded %d bytes", len(e.B))
	}
	d := NewDecoder(e.B)
	if d.U8() != 7 {
		t.Fatal("u8")
	}
	d.Align(8)
	if d.U64() != 1<<40 || d.I32() != -3 || string(d.Bytes(6)) != "ab\x00\x00\x00\x00" || d.F64() != 2.5 {
		t.Fatal("values differ after a round trip")
	}
	if d.Err() != nil || d.Remaining() != 0 {
		t.Fatalf("err %v remaining %d", d.Err(), d.Remaining())
	}
	if d.U32() != 0 || !errors.Is(d.Err(), ErrShort) {
		t.Fatalf("reading past the end: err %v", d.Err())
	}
	if d.U8() != 0 || d.Bytes(-1) != nil {
		t.Fatal("reads after an error must return zero values")
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		d := NewDecoder(b)
		d.U8()
		d.Align(int(n%16) + 1)
		d.Bytes(int(n) - 8)
		d.U64()
		d.U16()
		if d.Err() == nil && d.Offset() > len(b) {
			t.Fatal("offset past the end without an error")
		}
	})
}
