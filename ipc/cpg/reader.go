package cpg

import (
	"bytes"
	"context"
	"encoding/binary"
)

// maxPrealloc bounds the buffer reserved up front for a fragmented message, so a bogus
// msglen cannot make the reader allocate gigabytes before any fragment has come.
const maxPrealloc = 16 << 20

// readEvents turns the daemon's events into Events until the client is closed or the
// daemon goes away.
func (c *Client) readEvents(ctx context.Context) {
	defer close(c.done)
	defer close(c.events)
	asm := assembler{}
	for {
		msg, err := c.conn.Event(ctx)
		if err != nil {
			return
		}
		ev := decodeEvent(msg, asm)
		if ev == nil {
			continue
		}
		select {
		case c.events <- ev:
		case <-ctx.Done():
			return
		}
	}
}

// decodeEvent turns one event message into an Event, or nil when there is nothing to
// deliver yet (a fragment) or the message is unknown or malformed: libcpg fails its
// dispatch on those, skipping them keeps the client usable.
func decodeEvent(msg []byte, asm assembler) Event {
	if len(msg) < 4 {
		return nil
	}
	switch int32(binary.LittleEndian.Uint32(msg)) {
	case ResDeliverCallback:
		v, err := DecodeDeliver(msg)
		if err != nil {
			return nil
		}
		v.Msg = bytes.Clone(v.Msg) // msg is reused by the next Event call
		if v.Msg == nil {
			v.Msg = []byte{}
		}
		return v
	case ResPartialDeliver:
		v, err := DecodePartialDeliver(msg)
		if err != nil {
			return nil
		}
		if d, ok := asm.add(v); ok {
			return d
		}
	case ResConfChgCallback:
		v, err := DecodeConfChg(msg)
		if err != nil {
			return nil
		}
		asm.forget(v.Left)
		return v
	case ResTotemConfChgCallback:
		if v, err := DecodeTotemConfChg(msg); err == nil {
			return v
		}
	case ResFlowControlCallback:
		if v, err := DecodeFlowControl(msg); err == nil {
			return v
		}
	}
	return nil
}

// sender identifies the source of fragments, as libcpg keys its assemblies.
type sender struct{ nodeID, pid uint32 }

type assembly struct {
	msgLen uint32
	buf    []byte
}

// assembler rebuilds fragmented messages, one per sender at a time, as libcpg does.
type assembler map[sender]*assembly

// add takes one fragment and returns the whole message once its last fragment is in. A
// first fragment drops an unfinished assembly of the same sender (that send was cut
// short); fragments that do not add up to the announced length are dropped.
func (a assembler) add(p PartialDeliver) (Deliver, bool) {
	key := sender{p.NodeID, p.PID}
	if p.Type == PartialFirst {
		a[key] = &assembly{msgLen: p.MsgLen, buf: make([]byte, 0, min(int(p.MsgLen), maxPrealloc))}
	}
	as := a[key]
	if as == nil {
		return Deliver{}, false // a continuation without its start, as libcpg ignores it
	}
	if p.MsgLen != as.msgLen || uint64(len(as.buf))+uint64(len(p.Frag)) > uint64(as.msgLen) {
		delete(a, key)
		return Deliver{}, false
	}
	as.buf = append(as.buf, p.Frag...)
	if p.Type != PartialLast {
		return Deliver{}, false
	}
	delete(a, key)
	if len(as.buf) != int(as.msgLen) {
		return Deliver{}, false
	}
	return Deliver{Group: p.Group, NodeID: p.NodeID, PID: p.PID, Msg: as.buf}, true
}

// forget drops the assemblies of processes that left the group mid-message.
func (a assembler) forget(left []Address) {
	for _, l := range left {
		delete(a, sender{l.NodeID, l.PID})
	}
}
