package quorumsvc

import (
	"bytes"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/quorum"
	evs "github.com/corosync-go/corosync/l3_evs"
)

type rec struct {
	events [][]byte
	resp   [][]byte
}

func (r *rec) event(msg []byte)   { r.events = append(r.events, msg) }
func (r *rec) respond(msg []byte) { r.resp = append(r.resp, msg) }

func newConn(model quorum.Model) (*conn, *rec) {
	r := &rec{}
	return &conn{c: r, model: model}, r
}

func nodes(ids ...uint32) []evs.NodeID {
	out := make([]evs.NodeID, len(ids))
	for i, id := range ids {
		out[i] = evs.NodeID(id)
	}
	return out
}

func TestNoProvider(t *testing.T) {
	s := New(Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	c, r := newConn(quorum.ModelV0)
	s.request(c, quorum.ReqGetType, quorum.EncodeHeaderRequest(quorum.ReqGetType))
	s.request(c, quorum.ReqGetQuorate, quorum.EncodeHeaderRequest(quorum.ReqGetQuorate))
	ty, _ := quorum.DecodeGetTypeResponse(r.resp[0])
	q, _ := quorum.DecodeGetQuorateResponse(r.resp[1])
	if ty.Type != quorum.TypeFree || !q.Quorate {
		t.Fatalf("type %v quorate %v, want free and quorate", ty.Type, q.Quorate)
	}
}

func TestModelsAndNotifications(t *testing.T) {
	var logs bytes.Buffer
	s := New(Config{Provider: "corosync_votequorum", Log: slog.New(slog.NewTextHandler(&logs, nil))})
	v0, r0 := newConn(quorum.ModelV0)
	v1, r1 := newConn(quorum.ModelV0)
	s.request(v1, quorum.ReqModelGetType, quorum.ModelGetTypeRequest{Model: quorum.ModelV1}.Encode())
	if r, _ := quorum.DecodeModelGetTypeResponse(r1.resp[0]); r.Error != ipc.CSOk || r.Type != quorum.TypeSet || v1.model != quorum.ModelV1 {
		t.Fatalf("model gettype %+v", r)
	}
	bad, rb := newConn(quorum.ModelV0)
	s.request(bad, quorum.ReqModelGetType, quorum.ModelGetTypeRequest{Model: 7}.Encode())
	if r, _ := quorum.DecodeModelGetTypeResponse(rb.resp[0]); r.Error != ipc.CSErrInvalid || r.Type != quorum.TypeSet {
		t.Fatalf("unknown model %+v", r)
	}
	for _, c := range []*conn{v0, v1} {
		s.request(c, quorum.ReqTrackStart, quorum.TrackStartRequest{Flags: quorum.TrackChanges}.Encode())
	}
	// Initial state: V0 gets a quorum notification, V1 a node list and a quorum one.
	if len(r0.events) != 1 || len(r1.events) != 2 {
		t.Fatalf("initial events: v0 %d, v1 %d", len(r0.events), len(r1.events))
	}
	r0.events, r1.events = nil, nil

	s.SyncInit(nil, nodes(1, 2, 3), evs.RingID{Rep: 1, Seq: 8})
	s.SyncActivate()
	s.SetQuorum([]uint32{1, 2, 3}, true, quorum.RingID{NodeID: 1, Seq: 8})
	s.SyncInit(nodes(1, 2), nodes(1, 2, 4), evs.RingID{Rep: 1, Seq: 12})
	s.SyncActivate()
	s.SetQuorum([]uint32{1, 2, 4}, true, quorum.RingID{NodeID: 1, Seq: 12})
	nl, err := quorum.DecodeNodelist(r1.events[2])
	if err != nil || !slices.Equal(nl.Members, []uint32{1, 2, 4}) || !slices.Equal(nl.Joined, []uint32{4}) || !slices.Equal(nl.Left, []uint32{3}) || nl.RingID.Seq != 12 {
		t.Fatalf("nodelist %+v %v", nl, err)
	}
	q, err := quorum.DecodeQuorum(r1.events[3])
	if err != nil || !q.Quorate || q.RingID != (quorum.RingID{NodeID: 1, Seq: 12}) {
		t.Fatalf("v1 quorum %+v %v", q, err)
	}
	n0, err := quorum.DecodeNotificationV0(r0.events[1])
	if err != nil || n0.RingSeq != 12 || len(r0.events) != 2 {
		t.Fatalf("v0 %+v %v (%d events)", n0, err, len(r0.events))
	}
	s.SetQuorum([]uint32{1}, false, quorum.RingID{NodeID: 1, Seq: 16})
	for _, l := range []string{"Members[3]: 1 2 3", "Sync members[3]: 1 2 4", "Sync joined[1]: 4", "Sync left[1]: 3",
		"This node is within the primary component and will provide service.",
		"This node is within the non-primary component and will NOT provide any services."} {
		if !strings.Contains(logs.String(), l) {
			t.Errorf("log lacks %q:\n%s", l, logs.String())
		}
	}
	// trackstop answers CS_OK even when not tracking (3.1.7 overwrites its error).
	s.request(v0, quorum.ReqTrackStop, quorum.EncodeHeaderRequest(quorum.ReqTrackStop))
	s.request(v0, quorum.ReqTrackStop, quorum.EncodeHeaderRequest(quorum.ReqTrackStop))
	for _, b := range r0.resp[1:] {
		if cs, _ := quorum.DecodeStatusResponse(b, quorum.ResTrackStop); cs != ipc.CSOk {
			t.Fatalf("trackstop %v", cs)
		}
	}
	r0.events = nil
	s.SetQuorum([]uint32{1, 2}, true, quorum.RingID{NodeID: 1, Seq: 20})
	if len(r0.events) != 0 {
		t.Fatal("notified after trackstop")
	}
}

// TestLongMemberList: corosync splits the list over lines of its 64-byte buffer.
func TestLongMemberList(t *testing.T) {
	var logs bytes.Buffer
	s := New(Config{Provider: "corosync_votequorum", Log: slog.New(slog.NewTextHandler(&logs, nil))})
	var ids []uint32
	for i := uint32(1000); i < 1020; i++ {
		ids = append(ids, i)
	}
	s.SetQuorum(ids, true, quorum.RingID{})
	if !strings.Contains(logs.String(), "Members[20]: 1000 1001 1002 1003 1004 1005 1006 1007 1008 1009 1010 1011\\") {
		t.Fatalf("log:\n%s", logs.String())
	}
}

// FuzzRequest: every request gets exactly one answer; nothing panics.
func FuzzRequest(f *testing.F) {
	f.Add(quorum.ReqGetQuorate, quorum.EncodeHeaderRequest(quorum.ReqGetQuorate))
	f.Add(quorum.ReqTrackStart, quorum.TrackStartRequest{Flags: quorum.TrackCurrent}.Encode())
	f.Add(quorum.ReqModelGetType, quorum.ModelGetTypeRequest{Model: 1}.Encode())
	f.Add(int32(9), []byte{0})
	f.Fuzz(func(t *testing.T, id int32, msg []byte) {
		s := New(Config{Provider: "corosync_votequorum", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		c, r := newConn(quorum.ModelV1)
		s.request(c, id, msg)
		if len(r.resp) != 1 {
			t.Fatalf("%d answers", len(r.resp))
		}
	})
}
