package cpgsvc

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/corosync-go/corosync/ipc/cpg"
	evs "github.com/corosync-go/corosync/l3_evs"
)

func TestExecRoundTrip(t *testing.T) {
	p := procMsg{Group: "g\x00\xffx", PID: 7, Reason: cpg.ReasonProcDown}
	if got, err := decodeProc(p.encode()); err != nil || got != p {
		t.Fatalf("proc %+v %v", got, err)
	}
	jl := []joinEntry{{PID: 1, Group: "a"}, {PID: 2, Group: ""}, {PID: 3, Group: string(make([]byte, cpg.NameMax))}}
	r := syncRing{Rep: 4, Seq: 1 << 40, Epoch: 7}
	if gotR, got, err := decodeJoinList(encodeJoinList(r, jl)); err != nil || !slices.Equal(got, jl) || gotR != r {
		t.Fatalf("joinlist %+v %v %v", got, gotR, err)
	}
	dl := downList{Ring: r, OldMembers: 3, Left: []uint32{2, 9}}
	if got, err := decodeDownList(dl.encode()); err != nil || got.OldMembers != 3 || !slices.Equal(got.Left, dl.Left) || got.Ring != r {
		t.Fatalf("downlist %+v %v", got, err)
	}
	for _, partial := range []bool{false, true} {
		m := mcastMsg{Group: "grp", PID: 4, Source: source{NodeID: 2, Conn: 99}, Partial: partial, Msg: []byte("hello")}
		if partial {
			m.MsgLen, m.Type = 10, cpg.PartialLast
		}
		got, err := decodeMcast(m.encode(), partial)
		if err != nil || got.Group != m.Group || got.PID != 4 || got.Source != m.Source || got.MsgLen != m.MsgLen || got.Type != m.Type || !bytes.Equal(got.Msg, m.Msg) {
			t.Fatalf("mcast %+v %v", got, err)
		}
	}
}

func TestExecDecodersRefuseBadInput(t *testing.T) {
	long := procMsg{Group: string(make([]byte, cpg.NameMax+1))}.encode()
	m := mcastMsg{Group: "g", Msg: []byte("abc")}.encode()
	frag := mcastMsg{Group: "g", Partial: true, MsgLen: 2, Type: cpg.PartialFirst, Msg: []byte("abc")}.encode()
	badType := mcastMsg{Group: "g", Partial: true, MsgLen: 9, Type: 4, Msg: []byte("abc")}.encode()
	for name, err := range map[string]error{
		"long name":     func() error { _, err := decodeProc(long); return err }(),
		"short proc":    func() error { _, err := decodeProc([]byte{1, 0, 'a'}); return err }(),
		"proc trailing": func() error { _, err := decodeProc(append(procMsg{}.encode(), 0)); return err }(),
		"joinlist count": func() error {
			_, _, err := decodeJoinList(append(make([]byte, 16), 0xff, 0xff, 0xff, 0xff))
			return err
		}(),
		"downlist too many":  func() error { _, err := decodeDownList(downList{Left: make([]uint32, 385)}.encode()); return err }(),
		"downlist short":     func() error { _, err := decodeDownList(append(make([]byte, 20), 2, 0, 0, 0, 1)); return err }(),
		"mcast length":       func() error { _, err := decodeMcast(m[:len(m)-1], false); return err }(),
		"fragment too long":  func() error { _, err := decodeMcast(frag, true); return err }(),
		"fragment type":      func() error { _, err := decodeMcast(badType, true); return err }(),
		"mcast as a partial": func() error { _, err := decodeMcast(m, true); return err }(),
	} {
		if !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: %v, want ErrBadMessage", name, err)
		}
	}
}

func FuzzExecDecoders(f *testing.F) {
	f.Add(uint16(execProcJoin), procMsg{Group: "g", PID: 1, Reason: 1}.encode())
	f.Add(uint16(execJoinList), encodeJoinList(syncRing{Rep: 1}, []joinEntry{{PID: 1, Group: "abc"}}))
	f.Add(uint16(execDownList), downList{OldMembers: 2, Left: []uint32{3}}.encode())
	f.Add(uint16(execMcast), mcastMsg{Group: "g", Msg: []byte("x")}.encode())
	f.Add(uint16(execPartialMcast), mcastMsg{Group: "g", Partial: true, MsgLen: 3, Type: cpg.PartialFirst, Msg: []byte("x")}.encode())
	f.Add(uint16(9), []byte{})
	f.Fuzz(func(t *testing.T, id uint16, b []byte) {
		// Every decoder on every input: an error wraps ErrBadMessage, never a panic.
		check := func(err error) {
			if err != nil && !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
		}
		_, err := decodeProc(b)
		check(err)
		_, _, err = decodeJoinList(b)
		check(err)
		_, err = decodeDownList(b)
		check(err)
		_, err = decodeMcast(b, false)
		check(err)
		_, err = decodeMcast(b, true)
		check(err)
		// The engine drops and counts what does not decode.
		s := New(Config{NodeID: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		s.Bind(nopSender{})
		out := &recorder{}
		c := s.connect(out, nil, 0)
		c.state, c.group, c.pid = stateJoinCompleted, "g", 5
		s.procs = []proc{{node: 2, pid: 1, group: "g"}}
		before := s.BadMessages()
		s.Deliver(2, id%8, b)
		if id%8 == execMcast {
			if _, err := decodeMcast(b, false); err != nil && s.BadMessages() != before+1 {
				t.Fatal("a bad mcast was not counted")
			}
		}
	})
}

// FuzzRequests feeds arbitrary requests to the IPC half: every request gets its answer
// (except MCAST), and nothing panics.
func FuzzRequests(f *testing.F) {
	j, _ := cpg.JoinRequest{Group: "g", PID: 3}.Encode()
	f.Add(j)
	f.Add(cpg.McastRequest{Guarantee: cpg.TypeAgreed, Msg: []byte("m")}.Encode())
	f.Add(cpg.PartialMcastRequest{MsgLen: 2, Type: cpg.PartialFirst, Frag: []byte("m")}.Encode())
	ii, _ := cpg.IterationInitializeRequest{Type: cpg.IterationAll}.Encode()
	f.Add(ii)
	f.Add(cpg.IterationNextRequest{Handle: 1}.Encode())
	f.Add(cpg.ZCExecuteRequest{ServerAddress: 1}.Encode())
	zc, _ := cpg.ZCAllocRequest{MapSize: 4096, Path: "/etc/passwd"}.Encode()
	f.Add(zc)
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) < 16 {
			return
		}
		id := int32(uint32(msg[0]) | uint32(msg[1])<<8 | uint32(msg[2])<<16 | uint32(msg[3])<<24)
		s := New(Config{NodeID: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ShmDir: t.TempDir()})
		s.Bind(nopSender{})
		out := &recorder{}
		c := s.connect(out, nil, 0)
		s.request(c, id, msg)
		if id != cpg.ReqMcast && len(out.responses) != 1 {
			t.Fatalf("request %d got %d answers", id, len(out.responses))
		}
		s.disconnect(c)
	})
}

type nopSender struct{}

func (nopSender) Send(uint16, []byte, evs.Guarantee) error     { return nil }
func (nopSender) SendSync(uint16, []byte, evs.Guarantee) error { return nil }

// recorder is a connection's sink that keeps what it is sent.
type recorder struct {
	responses, events [][]byte
}

func (r *recorder) Respond(b []byte) error {
	r.responses = append(r.responses, bytes.Clone(b))
	return nil
}
func (r *recorder) Event(b []byte) error { r.events = append(r.events, bytes.Clone(b)); return nil }
