package cpg

import (
	"fmt"
	"github.com/corosync-go/corosync/ipc/frame"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/mar"
)

// Event is what Client.Events carries: a Deliver, ConfChg, TotemConfChg or FlowControl.
type Event interface {
	isEvent()
}

func (Deliver) isEvent()      {}
func (ConfChg) isEvent()      {}
func (TotemConfChg) isEvent() {}
func (FlowControl) isEvent()  {}

// Deliver is a message multicast to the group (res_lib_cpg_deliver_callback), sent by
// process PID on node NodeID. The Client also delivers reassembled fragmented messages
// as Deliver.
type Deliver struct {
	Group  string
	NodeID uint32
	PID    uint32
	Msg    []byte
}

// Encode returns the event's bytes.
func (v Deliver) Encode() ([]byte, error) {
	if err := checkName(v.Group); err != nil {
		return nil, err
	}
	e := frame.Response(DeliverCallbackBytes + len(v.Msg))
	putName(e, v.Group)
	e.U32(uint32(len(v.Msg)))
	e.Zero(4)
	e.U32(v.NodeID)
	e.Zero(4)
	e.U32(v.PID)
	e.Zero(4)
	e.Bytes(v.Msg)
	return frame.FinishResponse(e, ResDeliverCallback, ipc.CSOk), nil
}

// DecodeDeliver decodes a DELIVER_CALLBACK event; msglen must be what follows the fixed
// part. Msg is a view into msg.
func DecodeDeliver(msg []byte) (Deliver, error) {
	const what = "deliver callback"
	d, _, err := responseDecoder(msg, ResDeliverCallback, DeliverCallbackBytes, what)
	if err != nil {
		return Deliver{}, err
	}
	v := Deliver{Group: name(d)}
	n := d.U32()
	d.Skip(4)
	v.NodeID = d.U32()
	d.Skip(4)
	v.PID = d.U32()
	d.Skip(4)
	if d.Err() == nil && uint64(n) != uint64(d.Remaining()) {
		return Deliver{}, malformed(what, fmt.Errorf("msglen %d, %d bytes follow", n, d.Remaining()))
	}
	v.Msg = d.Bytes(int(n))
	return v, done(d, what)
}

// PartialDeliver is one fragment of a message of MsgLen bytes
// (res_lib_cpg_partial_deliver_callback). Fragments of one sender arrive in order, first
// to last; libcpg reassembles them per (NodeID, PID).
type PartialDeliver struct {
	Group  string
	MsgLen uint32
	NodeID uint32
	PID    uint32
	Type   PartialType
	Frag   []byte
}

// Encode returns the event's bytes.
func (v PartialDeliver) Encode() ([]byte, error) {
	if err := checkName(v.Group); err != nil {
		return nil, err
	}
	e := frame.Response(PartialDeliverCallbackBytes + len(v.Frag))
	putName(e, v.Group)
	e.U32(v.MsgLen)
	e.Zero(4)
	e.U32(uint32(len(v.Frag)))
	e.Zero(4)
	e.U32(v.NodeID)
	e.Zero(4)
	e.U32(v.PID)
	e.Zero(4)
	e.U32(uint32(v.Type))
	e.Zero(4)
	e.Bytes(v.Frag)
	return frame.FinishResponse(e, ResPartialDeliver, ipc.CSOk), nil
}

// DecodePartialDeliver decodes a PARTIAL_DELIVER_CALLBACK event: fraglen must be what
// follows the fixed part and no more than msglen. Frag is a view into msg.
func DecodePartialDeliver(msg []byte) (PartialDeliver, error) {
	const what = "partial deliver callback"
	d, _, err := responseDecoder(msg, ResPartialDeliver, PartialDeliverCallbackBytes, what)
	if err != nil {
		return PartialDeliver{}, err
	}
	v := PartialDeliver{Group: name(d), MsgLen: d.U32()}
	d.Skip(4)
	n := d.U32()
	d.Skip(4)
	v.NodeID = d.U32()
	d.Skip(4)
	v.PID = d.U32()
	d.Skip(4)
	v.Type = PartialType(d.U32())
	d.Skip(4)
	if err := done(d, what); err != nil {
		return PartialDeliver{}, err
	}
	if err := checkFragment(v.Type, v.MsgLen, n, d.Remaining()); err != nil {
		return PartialDeliver{}, malformed(what, err)
	}
	v.Frag = d.Bytes(int(n))
	return v, done(d, what)
}

// ConfChg is a change of a group's membership (res_lib_cpg_confchg_callback): Members is
// the group after the change, Left and Joined the processes that left or joined, with the
// reason.
type ConfChg struct {
	Group   string
	Members []Address
	Left    []Address
	Joined  []Address
}

// Encode returns the event's bytes. Note the order: the header counts members, joined,
// left, but the lists follow as members, left, joined.
func (v ConfChg) Encode() ([]byte, error) {
	if err := checkName(v.Group); err != nil {
		return nil, err
	}
	n := len(v.Members) + len(v.Left) + len(v.Joined)
	e := frame.Response(ConfChgCallbackBytes + n*addressBytes)
	putName(e, v.Group)
	for _, c := range []int{len(v.Members), len(v.Joined), len(v.Left)} {
		e.U32(uint32(c))
		e.Zero(4)
	}
	for _, l := range [][]Address{v.Members, v.Left, v.Joined} {
		for _, a := range l {
			putAddress(e, a)
		}
	}
	return frame.FinishResponse(e, ResConfChgCallback, ipc.CSOk), nil
}

// DecodeConfChg decodes a CONFCHG_CALLBACK event; the three counts must account for
// exactly the addresses that follow.
func DecodeConfChg(msg []byte) (ConfChg, error) {
	const what = "confchg callback"
	d, _, err := responseDecoder(msg, ResConfChgCallback, ConfChgCallbackBytes, what)
	if err != nil {
		return ConfChg{}, err
	}
	v := ConfChg{Group: name(d)}
	var counts [3]uint32 // members, joined, left
	for i := range counts {
		counts[i] = d.U32()
		d.Skip(4)
	}
	if err := done(d, what); err != nil {
		return ConfChg{}, err
	}
	total := (uint64(counts[0]) + uint64(counts[1]) + uint64(counts[2])) * addressBytes
	if total != uint64(d.Remaining()) {
		return ConfChg{}, malformed(what, fmt.Errorf("%d+%d+%d addresses, %d bytes follow", counts[0], counts[2], counts[1], d.Remaining()))
	}
	v.Members = addresses(d, counts[0])
	v.Left = addresses(d, counts[2])
	v.Joined = addresses(d, counts[1])
	return v, done(d, what)
}

// TotemConfChg is a change of the totem membership: the nodes of ring RingID
// (res_lib_cpg_totem_confchg_callback).
type TotemConfChg struct {
	RingID  RingID
	Members []uint32
}

// Encode returns the event's bytes, 48 + 4n of them as the daemon sends it.
func (v TotemConfChg) Encode() []byte {
	e := frame.Response(TotemConfChgCallbackBytes + 4*len(v.Members))
	putRingID(e, v.RingID)
	e.U32(uint32(len(v.Members)))
	for _, m := range v.Members {
		e.U32(m)
	}
	e.Zero(4)
	return frame.FinishResponse(e, ResTotemConfChgCallback, ipc.CSOk)
}

// DecodeTotemConfChg decodes a TOTEM_CONFCHG_CALLBACK event, which must be 48 + 4n bytes
// as the daemon sends it (a 44 + 4n form would be ambiguous with one member fewer).
func DecodeTotemConfChg(msg []byte) (TotemConfChg, error) {
	const what = "totem confchg callback"
	d, _, err := responseDecoder(msg, ResTotemConfChgCallback, TotemConfChgCallbackBytes, what)
	if err != nil {
		return TotemConfChg{}, err
	}
	v := TotemConfChg{RingID: ringID(d)}
	n := uint64(d.U32())
	if err := done(d, what); err != nil {
		return TotemConfChg{}, err
	}
	if uint64(len(msg)) != TotemConfChgCallbackBytes+4*n {
		return TotemConfChg{}, malformed(what, fmt.Errorf("%d members in %d bytes", n, len(msg)))
	}
	if n > 0 {
		v.Members = make([]uint32, n)
		for i := range v.Members {
			v.Members[i] = d.U32()
		}
	}
	return v, done(d, what)
}

func putRingID(e *mar.Encoder, r RingID) {
	e.U32(r.NodeID)
	e.Zero(4)
	e.U64(r.Seq)
}

func ringID(d *mar.Decoder) RingID {
	r := RingID{NodeID: d.U32()}
	d.Skip(4)
	r.Seq = d.U64()
	return r
}

// FlowControl is res_lib_cpg_flowcontrol_callback. corosync 3.1.7 never sends it (and
// libcpg would fail its dispatch on it); it is here for completeness.
type FlowControl struct {
	State FlowControlState
}

// FlowControlState is cpg_flow_control_state_t.
type FlowControlState uint32

// The flow-control states.
const (
	FlowControlDisabled FlowControlState = 0
	FlowControlEnabled  FlowControlState = 1
)

// Encode returns the event's bytes.
func (v FlowControl) Encode() []byte {
	e := frame.Response(FlowControlCallbackBytes)
	e.U32(uint32(v.State))
	e.Zero(4)
	return frame.FinishResponse(e, ResFlowControlCallback, ipc.CSOk)
}

// DecodeFlowControl decodes a FLOWCONTROL_CALLBACK event.
func DecodeFlowControl(msg []byte) (FlowControl, error) {
	const what = "flow control callback"
	d, _, err := responseDecoder(msg, ResFlowControlCallback, FlowControlCallbackBytes, what)
	if err != nil {
		return FlowControl{}, err
	}
	v := FlowControl{State: FlowControlState(d.U32())}
	return v, done(d, what)
}
