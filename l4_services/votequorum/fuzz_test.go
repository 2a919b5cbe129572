package votequorum

import (
	"bytes"
	"errors"
	"testing"

	vq "github.com/corosync-go/corosync/ipc/votequorum"
)

// FuzzExecDecoders: every exec message decoder refuses what is not its exact layout with
// ErrBadMessage, and what it accepts encodes back to the same bytes.
func FuzzExecDecoders(f *testing.F) {
	f.Add(nodeInfo{NodeID: 1, Votes: 1, Expected: 3, Flags: flagQuorate}.encode())
	f.Add(reconfigure{NodeID: 2, Value: 5, Param: paramExpectedVotes}.encode())
	f.Add(qdeviceReg{Operation: 1, Name: "dev"}.encode())
	f.Add(qdeviceReconfigure{OldName: "a", NewName: "b"}.encode())
	f.Add(bytes.Repeat([]byte{'x'}, qdeviceRegBytes))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(err error, re []byte, canonical bool) {
			if err != nil {
				if !errors.Is(err, ErrBadMessage) {
					t.Fatalf("error %v does not wrap ErrBadMessage", err)
				}
				return
			}
			if canonical && !bytes.Equal(re, b) {
				t.Fatalf("re-encoded %x from %x", re, b)
			}
		}
		m1, err := decodeNodeInfo(b)
		check(err, m1.encode(), true)
		m2, err := decodeReconfigure(b)
		// Padding bytes are not kept.
		check(err, m2.encode(), len(b) == reconfigureBytes && b[9]|b[10]|b[11] == 0)
		m3, err := decodeQdeviceReg(b)
		check(err, m3.encode(), false)
		if err == nil && len(m3.Name) >= vq.QdeviceMaxNameLen {
			t.Fatalf("name of %d bytes", len(m3.Name))
		}
		m4, err := decodeQdeviceReconfigure(b)
		check(err, m4.encode(), false)
	})
}

// FuzzDeliver feeds arbitrary exec messages to a node of a formed cluster: no panic, bad
// ones are counted, and the node keeps answering GETINFO.
func FuzzDeliver(f *testing.F) {
	f.Add(uint16(execNodeInfo), uint32(2), nodeInfo{NodeID: 2, Votes: 3, Expected: 9, Flags: flagQuorate | flagLeaving}.encode())
	f.Add(uint16(execNodeInfo), uint32(2), nodeInfo{NodeID: 0, Votes: 3}.encode())
	f.Add(uint16(execReconfigure), uint32(1), reconfigure{NodeID: 1, Value: 1, Param: paramNodeVotes}.encode())
	f.Add(uint16(execReconfigure), uint32(3), reconfigure{Param: paramCancelWFA}.encode())
	f.Add(uint16(execQdeviceReg), uint32(1), qdeviceReg{Operation: 1, Name: "q"}.encode())
	f.Add(uint16(execQdeviceReconfigure), uint32(1), qdeviceReconfigure{OldName: "", NewName: "z"}.encode())
	f.Add(uint16(9), uint32(1), []byte{1, 2})
	f.Fuzz(func(t *testing.T, id uint16, sender uint32, msg []byte) {
		s := newSim(t, 3, nil, "quorum.wait_for_all=1", "quorum.auto_tie_breaker=1", "quorum.last_man_standing=1")
		s.start(1, 2, 3)
		s.form(1, 2, 3)
		before := s.nodes[1].c.badMessages
		s.nodes[1].c.deliver(sender, id, msg)
		valid := id <= execQdeviceReconfigure && len(msg) == map[uint16]int{execNodeInfo: nodeInfoBytes,
			execReconfigure: reconfigureBytes, execQdeviceReg: qdeviceRegBytes, execQdeviceReconfigure: qdeviceReconfigureBytes}[id]
		if !valid && s.nodes[1].c.badMessages != before+1 {
			t.Fatalf("bad message %d %x not counted", id, msg)
		}
		s.info(1)
		s.flush([]uint32{1})
	})
}

// FuzzRequest feeds arbitrary library requests: every one is answered (but a qdevice
// registration, answered on delivery), and nothing panics.
func FuzzRequest(f *testing.F) {
	f.Add(vq.ReqGetInfo, vq.GetInfoRequest{NodeID: 2}.Encode())
	f.Add(vq.ReqSetExpected, vq.SetExpectedRequest{ExpectedVotes: 4}.Encode())
	f.Add(vq.ReqSetVotes, vq.SetVotesRequest{NodeID: 1, Votes: 2}.Encode())
	f.Add(vq.ReqTrackStart, vq.TrackStartRequest{Context: 1, Flags: vq.TrackChanges}.Encode())
	f.Add(vq.ReqTrackStop, vq.EncodeHeaderRequest(vq.ReqTrackStop))
	reg, _ := vq.QdeviceRegisterRequest{Name: "d"}.Encode()
	f.Add(vq.ReqQdeviceRegister, reg)
	poll, _ := vq.QdevicePollRequest{Name: "d", CastVote: true}.Encode()
	f.Add(vq.ReqQdevicePoll, poll)
	f.Add(int32(77), []byte{1})
	f.Fuzz(func(t *testing.T, id int32, msg []byte) {
		s := newSim(t, 2, nil, "quorum.two_node=1")
		s.start(1, 2)
		s.form(1, 2)
		cl := &simClient{n: s.nodes[1]}
		s.nodes[1].c.request(&conn{c: cl}, id, msg)
		s.flush(s.ring)
		if len(cl.resp) != 1 {
			t.Fatalf("request %d %x: %d answers", id, msg, len(cl.resp))
		}
	})
}
