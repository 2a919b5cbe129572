package evs

import (
	"encoding/binary"
	"errors"
)

// A totem frame's payload, as l3 lays it out:
//
//	version u8 (=1) | record...
//	record := kind u8 | service u16 LE | length uvarint | [total uvarint, first fragments only] | data
//
// kind is whole, or first/middle/last fragment. Records of one frame come from one sender
// (totem frames are per sender); a sender's fragments are consecutive in its frame stream.

const (
	frameVersion   = 1
	recordWhole    = 0
	recordFirst    = 1
	recordMiddle   = 2
	recordLast     = 3
	frameHdrBytes  = 1
	minRecordBytes = 1 + 2 + 1
)

// Frame decode errors, counted by reason.
var (
	ErrFrameVersion = errors.New("evs: unknown frame version")
	ErrRecordKind   = errors.New("evs: unknown record kind")
	ErrRecordShort  = errors.New("evs: record truncated")
	ErrRecordLength = errors.New("evs: record length out of bounds")
	ErrEmptyFrame   = errors.New("evs: frame without records")
)

// record is one decoded record; data aliases the frame.
type record struct {
	kind    uint8
	service uint16
	total   int // first fragments: the whole message's length
	data    []byte
}

// appendRecord appends one record to a frame under construction.
func appendRecord(b []byte, kind uint8, service uint16, total int, data []byte) []byte {
	b = append(b, kind)
	b = binary.LittleEndian.AppendUint16(b, service)
	b = binary.AppendUvarint(b, uint64(len(data)))
	if kind == recordFirst {
		b = binary.AppendUvarint(b, uint64(total))
	}
	return append(b, data...)
}

// recordOverhead is the header size of a record with len bytes of data.
func recordOverhead(kind uint8, dataLen, total int) int {
	n := 1 + 2 + uvarintLen(uint64(dataLen))
	if kind == recordFirst {
		n += uvarintLen(uint64(total))
	}
	return n
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// frameReader iterates over a frame's records without allocating.
type frameReader struct {
	b          []byte
	maxMessage int
}

func newFrameReader(frame []byte, maxMessage int) (frameReader, error) {
	if len(frame) < frameHdrBytes+minRecordBytes {
		if len(frame) >= 1 && frame[0] != frameVersion {
			return frameReader{}, ErrFrameVersion
		}
		return frameReader{}, ErrEmptyFrame
	}
	if frame[0] != frameVersion {
		return frameReader{}, ErrFrameVersion
	}
	return frameReader{b: frame[frameHdrBytes:], maxMessage: maxMessage}, nil
}

// next decodes the next record; ok is false at the end of the frame.
func (r *frameReader) next(rec *record) (ok bool, err error) {
	if len(r.b) == 0 {
		return false, nil
	}
	if len(r.b) < minRecordBytes {
		return false, ErrRecordShort
	}
	rec.kind = r.b[0]
	if rec.kind > recordLast {
		return false, ErrRecordKind
	}
	rec.service = binary.LittleEndian.Uint16(r.b[1:])
	b := r.b[3:]
	l, k := binary.Uvarint(b)
	if k <= 0 {
		return false, ErrRecordShort
	}
	b = b[k:]
	rec.total = 0
	if rec.kind == recordFirst {
		t, k := binary.Uvarint(b)
		if k <= 0 {
			return false, ErrRecordShort
		}
		if t > uint64(r.maxMessage) || t <= l {
			return false, ErrRecordLength
		}
		rec.total = int(t)
		b = b[k:]
	}
	if l > uint64(len(b)) {
		return false, ErrRecordShort
	}
	if l > uint64(r.maxMessage) {
		return false, ErrRecordLength
	}
	rec.data = b[:l]
	r.b = b[l:]
	return true, nil
}
