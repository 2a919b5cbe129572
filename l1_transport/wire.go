package transport

import (
	"encoding/binary"
	"errors"
)

// Packet layout on a link (all integers big-endian):
//
//	0  magic      0xC5
//	1  version    1
//	2  type       data, ping, pong
//	3  flags      bit 0: fragment header follows; bits 4–7: compression model of the message
//	4  link       link number the sender used (0..7)
//	5  slot       key slot: 0 unprotected, 1 or 2 the crypto config slot that sealed it
//	6  reserved   0 (2 bytes)
//	8  src        sender node id
//	12 dst        receiver node id
//	16 session    sender's incarnation (wall-clock nanoseconds at its start)
//	24 seq        per-(sender, receiver) packet counter, never reused within a session
//	32 body       payload, then the 16-byte tag when authentication is on
//
// The header is authenticated (AEAD additional data) but not encrypted: a receiver needs
// slot, src and session to pick the key. The slot is knet's crypto config index: during a
// crypto change a node holds two configurations and says which one a packet uses. The nonce is dst‖seq, unique per key because each key
// belongs to one sender session.
const (
	headerBytes = 32
	wireMagic   = 0xC5
	wireVersion = 1

	flagFragment      = 1 << 0
	compressionShift  = 4
	fragmentHeaderLen = 8 // message id u32, index u16, count u16

	// slotClear marks an unprotected packet; crypto config slots are 1..maxSlot.
	slotClear = 0
	maxSlot   = 2
)

// packetType says what a packet carries.
type packetType uint8

const (
	typeData packetType = 1
	typePing packetType = 2
	typePong packetType = 3
)

// header is the decoded fixed part of a packet.
type header struct {
	typ     packetType
	flags   uint8
	link    uint8
	slot    uint8
	src     NodeID
	dst     NodeID
	session uint64
	seq     uint64
}

// Decoding errors, one per reason so that drops are counted by cause.
var (
	errTruncated  = errors.New("transport: packet shorter than its header")
	errBadMagic   = errors.New("transport: not one of our packets (bad magic)")
	errBadVersion = errors.New("transport: unsupported packet version")
	errBadType    = errors.New("transport: unknown packet type")
	errBadLink    = errors.New("transport: link number out of range")
	errBadSlot    = errors.New("transport: key slot out of range")
)

func putHeader(b []byte, h *header) {
	b[0] = wireMagic
	b[1] = wireVersion
	b[2] = byte(h.typ)
	b[3] = h.flags
	b[4] = h.link
	b[5] = h.slot
	b[6], b[7] = 0, 0
	binary.BigEndian.PutUint32(b[8:], uint32(h.src))
	binary.BigEndian.PutUint32(b[12:], uint32(h.dst))
	binary.BigEndian.PutUint64(b[16:], h.session)
	binary.BigEndian.PutUint64(b[24:], h.seq)
}

func decodeHeader(b []byte, h *header) error {
	if len(b) < headerBytes {
		return errTruncated
	}
	if b[0] != wireMagic {
		return errBadMagic
	}
	if b[1] != wireVersion {
		return errBadVersion
	}
	h.typ = packetType(b[2])
	if h.typ < typeData || h.typ > typePong {
		return errBadType
	}
	h.flags = b[3]
	h.link = b[4]
	if h.link >= MaxLinks {
		return errBadLink
	}
	h.slot = b[5]
	if h.slot > maxSlot {
		return errBadSlot
	}
	h.src = NodeID(binary.BigEndian.Uint32(b[8:]))
	h.dst = NodeID(binary.BigEndian.Uint32(b[12:]))
	h.session = binary.BigEndian.Uint64(b[16:])
	h.seq = binary.BigEndian.Uint64(b[24:])
	return nil
}

// fragment is the header of one piece of a message larger than the path MTU.
type fragment struct {
	msgID uint32
	index uint16
	count uint16
}

var errBadFragment = errors.New("transport: bad fragment header")

func putFragment(b []byte, f fragment) {
	binary.BigEndian.PutUint32(b, f.msgID)
	binary.BigEndian.PutUint16(b[4:], f.index)
	binary.BigEndian.PutUint16(b[6:], f.count)
}

func decodeFragment(b []byte) (fragment, []byte, error) {
	if len(b) < fragmentHeaderLen {
		return fragment{}, nil, errBadFragment
	}
	f := fragment{
		msgID: binary.BigEndian.Uint32(b),
		index: binary.BigEndian.Uint16(b[4:]),
		count: binary.BigEndian.Uint16(b[6:]),
	}
	if f.count < 2 || f.index >= f.count || f.count > maxFragments {
		return fragment{}, nil, errBadFragment
	}
	return f, b[fragmentHeaderLen:], nil
}

// ping bodies: the sender's clock reading, echoed back in the pong, then padding up to
// the probed size for path-MTU discovery.
const pingBodyBytes = 8
