package totem

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Wire format (version 1), little-endian, our own: it is not corosync's, which carries raw host
// structs. Every packet starts with a 24-byte header:
//
//	magic u16 | version u8 | type u8 | sender u32 | ring.rep u32 | ring.seq u64 | ring.epoch u32
//
// followed by the type's body (see the encode functions). Decoders check every length before
// reading, bound every list, and never retain the input except for Mcast payloads, which alias it.

const (
	// Magic opens every totem packet of this implementation.
	Magic uint16 = 0x7C0A
	// WireVersion is the version this code writes and accepts.
	WireVersion uint8 = 1
	// HeaderBytes is the size of the common header.
	HeaderBytes = 24
	// MaxFrameBytes bounds a frame's payload (corosync's KNET_MAX_PACKET_SIZE less headers).
	MaxFrameBytes = 65000
	// MaxMembers bounds member, proc and failed lists (corosync's PROCESSOR_COUNT_MAX).
	MaxMembers = processorCountMax

	ringIDBytes     = 16
	tokenFixedBytes = 8 + 8 + 8 + 4 + 4 + 4 + 1 + 2
	mcastFixedBytes = 8 + 1
	encapBytes      = ringIDBytes + 8 + 4 + 1
	joinFixedBytes  = 8 + 2 + 2
	commitFixed     = 8 + 2 + 2
	commitEntry     = 4 + ringIDBytes + 8 + 8 + 1
)

// MsgType identifies a packet's kind.
type MsgType uint8

// The packet kinds of Totem SRP.
const (
	MsgToken       MsgType = 1 // the ordering token (ORF token)
	MsgMcast       MsgType = 2 // an ordered message
	MsgJoin        MsgType = 3 // membership join (or leave: Leave flag set)
	MsgCommit      MsgType = 4 // the commit token that installs a new ring
	MsgMergeDetect MsgType = 5 // an operational ring announcing itself
	MsgHoldCancel  MsgType = 6 // asks the representative to release a held token
	msgTypeEnd     MsgType = 7
)

// String names the kind as corosync's logs do.
func (t MsgType) String() string {
	switch t {
	case MsgToken:
		return "orf_token"
	case MsgMcast:
		return "mcast"
	case MsgJoin:
		return "memb_join"
	case MsgCommit:
		return "memb_commit_token"
	case MsgMergeDetect:
		return "memb_merge_detect"
	case MsgHoldCancel:
		return "token_hold_cancel"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Mcast flags.
const (
	// FlagSafe asks for safe delivery: only once every member of the configuration has it.
	FlagSafe uint8 = 1 << 0
	// FlagEncapsulated marks an old-ring message re-sent during recovery.
	FlagEncapsulated uint8 = 1 << 1
	mcastFlagsKnown        = FlagSafe | FlagEncapsulated
)

// Decode errors; they are counted by reason in Stats.
var (
	ErrShort      = errors.New("totem: packet truncated")
	ErrMagic      = errors.New("totem: bad magic")
	ErrVersion    = errors.New("totem: unsupported wire version")
	ErrType       = errors.New("totem: unknown message type")
	ErrListLength = errors.New("totem: list length out of bounds")
	ErrTrailing   = errors.New("totem: trailing bytes")
	ErrFlags      = errors.New("totem: unknown flags")
	ErrFrameSize  = errors.New("totem: frame larger than the maximum")
	ErrSender     = errors.New("totem: sender is node 0")
)

// Header is the part common to all packets.
type Header struct {
	Type   MsgType
	Sender NodeID
	Ring   RingID
}

// MembEntry is one member's line in the commit token: what it brings from its old ring.
type MembEntry struct {
	Node          NodeID
	OldRing       RingID
	Aru           uint64 // highest contiguous seq received on the old ring
	HighDelivered uint64 // highest old-ring seq delivered in the old regular configuration
	Received      bool   // the entry has been filled in
}

// Message is a decoded packet. Decode reuses its slices, so a Message can be kept and reused
// without allocating. Fields are valid for the Type only.
type Message struct {
	Header

	// Token and Commit.
	TokenSeq uint64
	// Token.
	Seq         uint64
	Aru         uint64
	AruAddr     NodeID
	FCC         uint32
	Backlog     uint32
	RetransFlag bool
	RTR         []uint64

	// Mcast (Seq too).
	Flags     uint8
	OldRing   RingID // encapsulated only
	OldSeq    uint64 // encapsulated only
	OldSender NodeID // encapsulated only
	OldFlags  uint8  // encapsulated only
	Payload   []byte // aliases the decoded buffer

	// Join.
	RingSeq uint64
	Leave   bool
	Proc    []NodeID
	Failed  []NodeID

	// Commit.
	MembIndex int
	Memb      []MembEntry
}

var le = binary.LittleEndian

func putHeader(b []byte, t MsgType, sender NodeID, ring RingID) []byte {
	b = le.AppendUint16(b, Magic)
	b = append(b, WireVersion, uint8(t))
	b = le.AppendUint32(b, uint32(sender))
	return appendRing(b, ring)
}

func appendRing(b []byte, r RingID) []byte {
	b = le.AppendUint32(b, uint32(r.Rep))
	b = le.AppendUint64(b, r.Seq)
	return le.AppendUint32(b, r.Epoch)
}

func readRing(b []byte) RingID {
	return RingID{Rep: NodeID(le.Uint32(b)), Seq: le.Uint64(b[4:]), Epoch: le.Uint32(b[12:])}
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// AppendToken appends an encoded token to b.
func AppendToken(b []byte, sender NodeID, m *Message) []byte {
	b = putHeader(b, MsgToken, sender, m.Ring)
	b = le.AppendUint64(b, m.TokenSeq)
	b = le.AppendUint64(b, m.Seq)
	b = le.AppendUint64(b, m.Aru)
	b = le.AppendUint32(b, uint32(m.AruAddr))
	b = le.AppendUint32(b, m.FCC)
	b = le.AppendUint32(b, m.Backlog)
	b = append(b, boolByte(m.RetransFlag))
	b = le.AppendUint16(b, uint16(len(m.RTR)))
	for _, s := range m.RTR {
		b = le.AppendUint64(b, s)
	}
	return b
}

// AppendMcast appends an encoded multicast. For an encapsulated message, m's Old* fields
// describe the original.
func AppendMcast(b []byte, sender NodeID, m *Message) []byte {
	b = putHeader(b, MsgMcast, sender, m.Ring)
	b = le.AppendUint64(b, m.Seq)
	b = append(b, m.Flags)
	if m.Flags&FlagEncapsulated != 0 {
		b = appendRing(b, m.OldRing)
		b = le.AppendUint64(b, m.OldSeq)
		b = le.AppendUint32(b, uint32(m.OldSender))
		b = append(b, m.OldFlags)
	}
	return append(b, m.Payload...)
}

// AppendJoin appends an encoded join (or leave).
func AppendJoin(b []byte, sender NodeID, m *Message) []byte {
	b = putHeader(b, MsgJoin, sender, m.Ring)
	b = le.AppendUint64(b, m.RingSeq)
	b = le.AppendUint16(b, uint16(len(m.Proc)))
	b = le.AppendUint16(b, uint16(len(m.Failed)))
	if m.Leave {
		b[len(b)-1] |= 0x80 // the leave bit is the failed count's high bit
	}
	for _, n := range m.Proc {
		b = le.AppendUint32(b, uint32(n))
	}
	for _, n := range m.Failed {
		b = le.AppendUint32(b, uint32(n))
	}
	return b
}

// AppendCommit appends an encoded commit token.
func AppendCommit(b []byte, sender NodeID, m *Message) []byte {
	b = putHeader(b, MsgCommit, sender, m.Ring)
	b = le.AppendUint64(b, m.TokenSeq)
	b = le.AppendUint16(b, uint16(m.MembIndex))
	b = le.AppendUint16(b, uint16(len(m.Memb)))
	for i := range m.Memb {
		e := &m.Memb[i]
		b = le.AppendUint32(b, uint32(e.Node))
		b = appendRing(b, e.OldRing)
		b = le.AppendUint64(b, e.Aru)
		b = le.AppendUint64(b, e.HighDelivered)
		b = append(b, boolByte(e.Received))
	}
	return b
}

// AppendSimple appends a merge-detect or token-hold-cancel packet, which carry only a header.
func AppendSimple(b []byte, t MsgType, sender NodeID, ring RingID) []byte {
	return putHeader(b, t, sender, ring)
}

// Decode parses one packet into m, reusing m's slices. On error m is left in an unspecified
// state and must not be used.
func Decode(b []byte, m *Message) error {
	if len(b) < HeaderBytes {
		return ErrShort
	}
	if le.Uint16(b) != Magic {
		return ErrMagic
	}
	if b[2] != WireVersion {
		return ErrVersion
	}
	m.Type = MsgType(b[3])
	if m.Type == 0 || m.Type >= msgTypeEnd {
		return ErrType
	}
	m.Sender = NodeID(le.Uint32(b[4:]))
	if m.Sender == 0 {
		return ErrSender
	}
	m.Ring = readRing(b[8:])
	body := b[HeaderBytes:]
	switch m.Type {
	case MsgToken:
		return decodeToken(body, m)
	case MsgMcast:
		return decodeMcast(body, m)
	case MsgJoin:
		return decodeJoin(body, m)
	case MsgCommit:
		return decodeCommit(body, m)
	default:
		if len(body) != 0 {
			return ErrTrailing
		}
		return nil
	}
}

func decodeToken(b []byte, m *Message) error {
	if len(b) < tokenFixedBytes {
		return ErrShort
	}
	m.TokenSeq = le.Uint64(b)
	m.Seq = le.Uint64(b[8:])
	m.Aru = le.Uint64(b[16:])
	m.AruAddr = NodeID(le.Uint32(b[24:]))
	m.FCC = le.Uint32(b[28:])
	m.Backlog = le.Uint32(b[32:])
	if b[36] > 1 {
		return ErrFlags
	}
	m.RetransFlag = b[36] == 1
	n := int(le.Uint16(b[37:]))
	if n > retransmitEntriesMax {
		return ErrListLength
	}
	b = b[tokenFixedBytes:]
	if len(b) != 8*n {
		if len(b) < 8*n {
			return ErrShort
		}
		return ErrTrailing
	}
	m.RTR = m.RTR[:0]
	for i := 0; i < n; i++ {
		m.RTR = append(m.RTR, le.Uint64(b[8*i:]))
	}
	return nil
}

func decodeMcast(b []byte, m *Message) error {
	if len(b) < mcastFixedBytes {
		return ErrShort
	}
	m.Seq = le.Uint64(b)
	m.Flags = b[8]
	if m.Flags&^mcastFlagsKnown != 0 {
		return ErrFlags
	}
	b = b[mcastFixedBytes:]
	if m.Flags&FlagEncapsulated != 0 {
		if len(b) < encapBytes {
			return ErrShort
		}
		m.OldRing = readRing(b)
		m.OldSeq = le.Uint64(b[ringIDBytes:])
		m.OldSender = NodeID(le.Uint32(b[ringIDBytes+8:]))
		m.OldFlags = b[ringIDBytes+12]
		if m.OldFlags&^FlagSafe != 0 {
			return ErrFlags
		}
		if m.OldSender == 0 {
			return ErrSender
		}
		b = b[encapBytes:]
	}
	if len(b) > MaxFrameBytes {
		return ErrFrameSize
	}
	m.Payload = b
	return nil
}

func decodeNodeList(b []byte, n int, into []NodeID) []NodeID {
	into = into[:0]
	for i := 0; i < n; i++ {
		into = append(into, NodeID(le.Uint32(b[4*i:])))
	}
	return into
}

func decodeJoin(b []byte, m *Message) error {
	if len(b) < joinFixedBytes {
		return ErrShort
	}
	m.RingSeq = le.Uint64(b)
	np := int(le.Uint16(b[8:]))
	nfRaw := le.Uint16(b[10:])
	m.Leave = nfRaw&0x8000 != 0
	nf := int(nfRaw &^ 0x8000)
	if np > MaxMembers || nf > MaxMembers {
		return ErrListLength
	}
	b = b[joinFixedBytes:]
	if want := 4 * (np + nf); len(b) != want {
		if len(b) < want {
			return ErrShort
		}
		return ErrTrailing
	}
	m.Proc = decodeNodeList(b, np, m.Proc)
	m.Failed = decodeNodeList(b[4*np:], nf, m.Failed)
	return nil
}

func decodeCommit(b []byte, m *Message) error {
	if len(b) < commitFixed {
		return ErrShort
	}
	m.TokenSeq = le.Uint64(b)
	m.MembIndex = int(le.Uint16(b[8:]))
	n := int(le.Uint16(b[10:]))
	if n == 0 || n > MaxMembers || m.MembIndex > n {
		return ErrListLength
	}
	b = b[commitFixed:]
	if want := n * commitEntry; len(b) != want {
		if len(b) < want {
			return ErrShort
		}
		return ErrTrailing
	}
	m.Memb = m.Memb[:0]
	for i := 0; i < n; i++ {
		e := b[i*commitEntry:]
		if e[commitEntry-1] > 1 {
			return ErrFlags
		}
		m.Memb = append(m.Memb, MembEntry{
			Node:          NodeID(le.Uint32(e)),
			OldRing:       readRing(e[4:]),
			Aru:           le.Uint64(e[4+ringIDBytes:]),
			HighDelivered: le.Uint64(e[12+ringIDBytes:]),
			Received:      e[commitEntry-1] == 1,
		})
	}
	return nil
}
