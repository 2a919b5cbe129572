package rdma

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, payload := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte{0xab}, 1000)} {
		buf := make([]byte, frameHeaderBytes+len(payload)+7) // trailing room must be ignored
		n := encodeFrame(buf, 5405, payload)
		if n != frameHeaderBytes+len(payload) {
			t.Fatalf("encodeFrame used %d bytes, want %d", n, frameHeaderBytes+len(payload))
		}
		port, got, err := decodeFrame(buf)
		if err != nil || port != 5405 || !bytes.Equal(got, payload) {
			t.Fatalf("decodeFrame = %d, %q, %v; want 5405, %q, nil", port, got, err, payload)
		}
		if cap(got) != len(got) {
			t.Fatalf("payload view has spare capacity %d: appends would clobber the next slot", cap(got)-len(got))
		}
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	good := make([]byte, frameHeaderBytes+4)
	encodeFrame(good, 1, []byte("abcd"))
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, errFrameShort},
		{"short", good[:frameHeaderBytes-1], errFrameShort},
		{"magic", mutate(func(b []byte) []byte { b[0] = 0x41; return b }), errFrameMagic},
		{"version", mutate(func(b []byte) []byte { b[0] = frameMagic | 2; return b }), errFrameVersion},
		{"flags", mutate(func(b []byte) []byte { b[1] = 1; return b }), errFrameFlags},
		{"length", mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b[4:], 5); return b }), errFrameLength},
		{"truncated", good[:len(good)-1], errFrameLength},
	}
	for _, c := range cases {
		if _, _, err := decodeFrame(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: decodeFrame error %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzDecodeFrame checks that no input panics the decoder and that it accepts exactly the
// frames the header layout describes, returning the declared bytes.
func FuzzDecodeFrame(f *testing.F) {
	seed := make([]byte, frameHeaderBytes+3)
	encodeFrame(seed, 5405, []byte("abc"))
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{frameMagic | frameVersion, 0, 0, 1, 0xff, 0xff})
	f.Add(append(seed, 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		port, payload, err := decodeFrame(b)
		valid := len(b) >= frameHeaderBytes && b[0] == frameMagic|frameVersion && b[1] == 0 &&
			int(binary.BigEndian.Uint16(b[4:6])) <= len(b)-frameHeaderBytes
		if valid != (err == nil) {
			t.Fatalf("decodeFrame(%x) error %v, but the header is valid=%v", b, err, valid)
		}
		if err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(b[4:6]))
		if len(payload) != n || !bytes.Equal(payload, b[frameHeaderBytes:frameHeaderBytes+n]) {
			t.Fatalf("payload %x, want the %d bytes after the header of %x", payload, n, b)
		}
		re := make([]byte, frameHeaderBytes+n)
		encodeFrame(re, port, payload)
		if !bytes.Equal(re, b[:frameHeaderBytes+n]) {
			t.Fatalf("re-encoded %x, want %x", re, b[:frameHeaderBytes+n])
		}
	})
}
