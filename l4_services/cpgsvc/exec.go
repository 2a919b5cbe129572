package cpgsvc

import (
	"errors"
	"fmt"
	"slices"

	"github.com/corosync-go/corosync/ipc/cpg"
	"github.com/corosync-go/corosync/ipc/mar"
)

// Exec message ids (corosync's enum cpg_message_req_types).
const (
	execProcJoin     = 0
	execProcLeave    = 1
	execJoinList     = 2
	execMcast        = 3
	execDownListOld  = 4
	execDownList     = 5
	execPartialMcast = 6
	execMsgIDs       = 7
)

// processorCountMax is corosync's PROCESSOR_COUNT_MAX, the bound of a downlist.
const processorCountMax = 384

// ErrBadMessage is wrapped by every error about an exec message that does not decode.
var ErrBadMessage = errors.New("cpgsvc: malformed exec message")

func bad(what string, err error) error { return fmt.Errorf("%w: %s: %w", ErrBadMessage, what, err) }

// Our encoding of corosync's exec structs: little-endian, no padding. A group name is a u16
// length (at most cpg.NameMax) and its bytes.

func putGroup(e *mar.Encoder, g string) {
	e.U16(uint16(len(g)))
	e.Bytes([]byte(g))
}

func group(d *mar.Decoder) string {
	n := d.U16()
	if d.Err() != nil {
		return ""
	}
	if n > cpg.NameMax {
		d.Fail(fmt.Errorf("group name of %d bytes, at most %d", n, cpg.NameMax))
		return ""
	}
	return string(d.Bytes(int(n)))
}

func finish(d *mar.Decoder, what string) error {
	if err := d.Err(); err != nil {
		return bad(what, err)
	}
	if d.Remaining() != 0 {
		return bad(what, fmt.Errorf("%d bytes after the message", d.Remaining()))
	}
	return nil
}

// procMsg is req_exec_cpg_procjoin (PROCJOIN and PROCLEAVE).
type procMsg struct {
	Group  string
	PID    uint32
	Reason cpg.Reason
}

func (m procMsg) encode() []byte {
	e := mar.NewEncoder(2 + len(m.Group) + 8)
	putGroup(e, m.Group)
	e.U32(m.PID)
	e.U32(uint32(m.Reason))
	return e.B
}

func decodeProc(b []byte) (procMsg, error) {
	d := mar.NewDecoder(b)
	m := procMsg{Group: group(d), PID: d.U32(), Reason: cpg.Reason(d.U32())}
	return m, finish(d, "procjoin/procleave")
}

// joinEntry is one join_list_entry: a local process of the sender and its group.
type joinEntry struct {
	PID   uint32
	Group string
}

// syncRing names the ring a synchronisation message belongs to. corosync's joinlist and
// downlist carry none; ours do, because a message queued in a synchronisation that a new
// configuration cut short may still be sent, and delivered, in the next ring, where it must
// not count (the barrier messages of the executive are filtered the same way).
type syncRing struct {
	Rep   uint32
	Seq   uint64
	Epoch uint32
}

func putRing(e *mar.Encoder, r syncRing) {
	e.U32(r.Rep)
	e.U64(r.Seq)
	e.U32(r.Epoch)
}

func ring(d *mar.Decoder) syncRing { return syncRing{Rep: d.U32(), Seq: d.U64(), Epoch: d.U32()} }

func encodeJoinList(r syncRing, entries []joinEntry) []byte {
	e := mar.NewEncoder(20 + len(entries)*(6+cpg.NameMax))
	putRing(e, r)
	e.U32(uint32(len(entries)))
	for _, j := range entries {
		e.U32(j.PID)
		putGroup(e, j.Group)
	}
	return e.B
}

func decodeJoinList(b []byte) (syncRing, []joinEntry, error) {
	d := mar.NewDecoder(b)
	r := ring(d)
	n := d.U32()
	// Each entry takes at least 6 bytes: the count cannot promise more than the message holds.
	if d.Err() == nil && uint64(n)*6 > uint64(d.Remaining()) {
		return r, nil, bad("joinlist", fmt.Errorf("%d entries in %d bytes", n, d.Remaining()))
	}
	out := make([]joinEntry, 0, n)
	for i := uint32(0); i < n && d.Err() == nil; i++ {
		out = append(out, joinEntry{PID: d.U32(), Group: group(d)})
	}
	return r, out, finish(d, "joinlist")
}

// downList is req_exec_cpg_downlist: the sender's old member count and the nodes it saw
// leave.
type downList struct {
	Ring       syncRing
	OldMembers uint32
	Left       []uint32
}

func (m downList) encode() []byte {
	e := mar.NewEncoder(24 + 4*len(m.Left))
	putRing(e, m.Ring)
	e.U32(m.OldMembers)
	e.U32(uint32(len(m.Left)))
	for _, n := range m.Left {
		e.U32(n)
	}
	return e.B
}

func decodeDownList(b []byte) (downList, error) {
	d := mar.NewDecoder(b)
	m := downList{Ring: ring(d)}
	m.OldMembers = d.U32()
	n := d.U32()
	if d.Err() == nil && (n > processorCountMax || uint64(n)*4 != uint64(d.Remaining())) {
		return downList{}, bad("downlist", fmt.Errorf("%d nodes in %d bytes", n, d.Remaining()))
	}
	for i := uint32(0); i < n && d.Err() == nil; i++ {
		m.Left = append(m.Left, d.U32())
	}
	return m, finish(d, "downlist")
}

// source is mar_message_source_t: the node and connection a message came from.
type source struct {
	NodeID uint32
	Conn   uint64
}

// mcastMsg is req_exec_cpg_mcast, and req_exec_cpg_partial_mcast when Partial is set.
type mcastMsg struct {
	Group   string
	PID     uint32
	Source  source
	Partial bool
	// MsgLen is the whole message's length for a fragment (Msg is then the fragment).
	MsgLen uint32
	Type   cpg.PartialType
	Msg    []byte
}

func (m mcastMsg) encode() []byte { return m.appendTo(nil) }

// appendTo appends the encoding to b: the request path reuses one buffer per connection,
// since the ring copies what it is given.
func (m mcastMsg) appendTo(b []byte) []byte {
	e := &mar.Encoder{B: b}
	e.B = slices.Grow(e.B, 2+len(m.Group)+28+len(m.Msg))
	putGroup(e, m.Group)
	e.U32(m.PID)
	e.U32(m.Source.NodeID)
	e.U64(m.Source.Conn)
	if m.Partial {
		e.U32(m.MsgLen)
		e.U32(uint32(m.Type))
	}
	e.U32(uint32(len(m.Msg)))
	e.Bytes(m.Msg)
	return e.B
}

// decodeMcast decodes an MCAST (partial false) or PARTIAL_MCAST message; Msg is a view
// into b.
func decodeMcast(b []byte, partial bool) (mcastMsg, error) {
	what := "mcast"
	if partial {
		what = "partial mcast"
	}
	d := mar.NewDecoder(b)
	m := mcastMsg{Group: group(d), PID: d.U32(), Partial: partial}
	m.Source.NodeID = d.U32()
	m.Source.Conn = d.U64()
	if partial {
		m.MsgLen = d.U32()
		m.Type = cpg.PartialType(d.U32())
	}
	n := d.U32()
	if err := d.Err(); err != nil {
		return mcastMsg{}, bad(what, err)
	}
	if uint64(n) != uint64(d.Remaining()) {
		return mcastMsg{}, bad(what, fmt.Errorf("length %d, %d bytes follow", n, d.Remaining()))
	}
	if partial && (n > m.MsgLen || m.Type < cpg.PartialFirst || m.Type > cpg.PartialLast) {
		return mcastMsg{}, bad(what, fmt.Errorf("fragment of %d bytes of %d, type %d", n, m.MsgLen, m.Type))
	}
	m.Msg = d.Bytes(int(n))
	return m, finish(d, what)
}
