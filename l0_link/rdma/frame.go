package rdma

import (
	"encoding/binary"
	"errors"
)

// Every UD message starts with a frame header:
//
//	byte 0     magic (high nibble 0xC) and version (low nibble, 1)
//	byte 1     flags, 0 for now
//	bytes 2-3  source port, big-endian: with the GRH's IP it makes the source AddrPort
//	bytes 4-5  payload length, big-endian
//
// The length guards against a datagram that arrives shorter than it was sent; UD messages
// never exceed the path MTU (4096 bytes), so 16 bits are plenty.
const (
	frameMagic       = 0xC0
	frameVersion     = 0x01
	frameHeaderBytes = 6
)

// Why a frame was refused. Each is counted as RxDropped; the reasons exist for tests and
// for whoever debugs a mixed-version cluster.
var (
	errFrameShort   = errors.New("rdma: frame shorter than its header")
	errFrameMagic   = errors.New("rdma: frame has a bad magic number")
	errFrameVersion = errors.New("rdma: frame has an unknown version")
	errFrameFlags   = errors.New("rdma: frame has unknown flags")
	errFrameLength  = errors.New("rdma: frame length exceeds the bytes received")
)

// encodeFrame writes the header and payload into dst and returns the bytes used. dst must
// have room for frameHeaderBytes+len(payload); payloads are at most link.MaxDatagramBytes,
// which fits the 16-bit length.
func encodeFrame(dst []byte, srcPort uint16, payload []byte) int {
	dst[0] = frameMagic | frameVersion
	dst[1] = 0
	binary.BigEndian.PutUint16(dst[2:4], srcPort)
	binary.BigEndian.PutUint16(dst[4:6], uint16(len(payload)))
	return frameHeaderBytes + copy(dst[frameHeaderBytes:], payload)
}

// decodeFrame validates a received frame and returns the sender's port and a view of the
// payload (capacity-limited so that appending to it cannot overwrite the next slot).
// Bytes after the declared payload are ignored.
func decodeFrame(b []byte) (srcPort uint16, payload []byte, err error) {
	if len(b) < frameHeaderBytes {
		return 0, nil, errFrameShort
	}
	if b[0]&0xf0 != frameMagic {
		return 0, nil, errFrameMagic
	}
	if b[0]&0x0f != frameVersion {
		return 0, nil, errFrameVersion
	}
	if b[1] != 0 {
		return 0, nil, errFrameFlags
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if n > len(b)-frameHeaderBytes {
		return 0, nil, errFrameLength
	}
	end := frameHeaderBytes + n
	return binary.BigEndian.Uint16(b[2:4]), b[frameHeaderBytes:end:end], nil
}
