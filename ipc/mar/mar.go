// Package mar encodes and decodes corosync's marshalled IPC structures (the mar_* types of
// include/corosync/mar_gen.h and the ipc_*.h message structs): little-endian fields at
// the offsets gcc gives them on amd64. Decoding is bounds-checked and never panics: the
// first short read makes the Decoder's Err non-nil and every later read return zero.
package mar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrShort is wrapped by decode errors for a message shorter than its structure.
var ErrShort = errors.New("mar: message too short")

// Encoder appends fields to a byte slice.
type Encoder struct {
	B []byte
}

// NewEncoder returns an encoder with room for size bytes.
func NewEncoder(size int) *Encoder { return &Encoder{B: make([]byte, 0, size)} }

// U8 appends one byte.
func (e *Encoder) U8(v uint8) { e.B = append(e.B, v) }

// U16 appends a little-endian uint16.
func (e *Encoder) U16(v uint16) { e.B = binary.LittleEndian.AppendUint16(e.B, v) }

// U32 appends a little-endian uint32.
func (e *Encoder) U32(v uint32) { e.B = binary.LittleEndian.AppendUint32(e.B, v) }

// U64 appends a little-endian uint64.
func (e *Encoder) U64(v uint64) { e.B = binary.LittleEndian.AppendUint64(e.B, v) }

// I32 appends a little-endian int32.
func (e *Encoder) I32(v int32) { e.U32(uint32(v)) }

// F64 appends an IEEE double.
func (e *Encoder) F64(v float64) { e.U64(math.Float64bits(v)) }

// Bytes appends b as is.
func (e *Encoder) Bytes(b []byte) { e.B = append(e.B, b...) }

// Fixed appends b in a field of exactly n bytes, zero-padded (b must fit).
func (e *Encoder) Fixed(b []byte, n int) {
	if len(b) > n {
		b = b[:n]
	}
	e.B = append(e.B, b...)
	e.Zero(n - len(b))
}

// Zero appends n zero bytes.
func (e *Encoder) Zero(n int) {
	for ; n > 0; n-- {
		e.B = append(e.B, 0)
	}
}

// Align pads with zeros to a multiple of n bytes from the start.
func (e *Encoder) Align(n int) { e.Zero((n - len(e.B)%n) % n) }

// Decoder reads fields from a message in order.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder starts decoding b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err is the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset is the position of the next read.
func (d *Decoder) Offset() int { return d.off }

// Remaining is the number of bytes not read yet.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Fail records err (if none is recorded yet), for checks the caller makes on values.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = fmt.Errorf("%w: need %d bytes at offset %d, have %d", ErrShort, n, d.off, len(d.b))
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

// U8 reads one byte.
func (d *Decoder) U8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

// U16 reads a little-endian uint16.
func (d *Decoder) U16() uint16 {
	if p := d.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

// U32 reads a little-endian uint32.
func (d *Decoder) U32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

// U64 reads a little-endian uint64.
func (d *Decoder) U64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// I32 reads a little-endian int32.
func (d *Decoder) I32() int32 { return int32(d.U32()) }

// F64 reads an IEEE double.
func (d *Decoder) F64() float64 { return math.Float64frombits(d.U64()) }

// Bytes returns the next n bytes (a view into the message, not a copy).
func (d *Decoder) Bytes(n int) []byte { return d.take(n) }

// Skip passes over n bytes.
func (d *Decoder) Skip(n int) { d.take(n) }

// Align skips to a multiple of n bytes from the start.
func (d *Decoder) Align(n int) { d.take((n - d.off%n) % n) }
