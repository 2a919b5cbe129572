package cpg

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
)

// testRawLayouts talks to the server with requests laid out by hand at the offsets gcc
// gives 3.1.7's structs, and checks the answers and events byte by byte, independently of
// this package's encoders and decoders.
func testRawLayouts(t *testing.T, ns *target) {
	ctx := testCtx(t)
	var c *ipc.Client
	if err := ns.Do(func() (err error) { c, err = ipc.Dial(ctx, "cpg"); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u32 := func(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	put := func(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
	call := func(req []byte, id int32, size int, cs ipc.CS) []byte {
		t.Helper()
		res, err := c.Request(ctx, req)
		if err != nil {
			t.Fatalf("request %d: %v", u32(req, 0), err)
		}
		checkHeader(t, res, id, size, cs)
		return append([]byte(nil), res...)
	}
	// The error field of an event is not checked: corosync 3.1.7 leaves it uninitialised in
	// deliveries.
	event := func(id int32, size int) []byte {
		t.Helper()
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ev, err := c.Event(ectx)
		if err != nil {
			t.Fatalf("waiting for event %d: %v", id, err)
		}
		checkHeader(t, ev, id, size, ipc.ResponseError(ev))
		return append([]byte(nil), ev...)
	}
	const group = "go-raw"
	pid := self()
	groupAt := func(b []byte, off int) {
		t.Helper()
		if u32(b, off) != uint32(len(group)) || string(b[off+8:off+8+len(group)]) != group {
			t.Errorf("group name at %d: length %d, %q", off, u32(b, off), b[off+8:off+8+len(group)])
		}
	}

	// JOIN with the initial-totem-conf flag: a bare answer, then a confchg (one member,
	// one joined) and a totem confchg of 48 + 4 bytes.
	req := make([]byte, 168)
	ipc.PutRequestHeader(req, ReqJoin)
	put(req, 16, uint32(len(group)))
	copy(req[24:], group)
	put(req, 152, pid)
	put(req, 160, 1)
	call(req, ResJoin, 24, ipc.CSOk)
	ev := event(ResConfChgCallback, 184+2*24)
	groupAt(ev, 24)
	if u32(ev, 160) != 1 || u32(ev, 168) != 1 || u32(ev, 176) != 0 {
		t.Errorf("confchg counts members %d joined %d left %d", u32(ev, 160), u32(ev, 168), u32(ev, 176))
	}
	if u32(ev, 184) != 1 || u32(ev, 192) != pid || u32(ev, 208) != 1 || u32(ev, 216) != pid || u32(ev, 224) != uint32(ReasonJoin) {
		t.Errorf("confchg addresses % x", ev[184:])
	}
	ev = event(ResTotemConfChgCallback, 48+4)
	if u32(ev, 24) != 1 || binary.LittleEndian.Uint64(ev[32:]) == 0 || u32(ev, 40) != 1 || u32(ev, 44) != 1 {
		t.Errorf("totem confchg % x", ev[24:])
	}

	// MCAST: a 24-byte header, no answer; the delivery carries the message at 184.
	req = make([]byte, 40+5)
	ipc.PutRequestHeader(req, ReqMcast)
	put(req, 24, uint32(TypeAgreed))
	put(req, 32, 5)
	copy(req[40:], "hello")
	if err := c.Send(req); err != nil {
		t.Fatal(err)
	}
	ev = event(ResDeliverCallback, 184+5)
	groupAt(ev, 24)
	if u32(ev, 160) != 5 || u32(ev, 168) != 1 || u32(ev, 176) != pid || string(ev[184:]) != "hello" {
		t.Errorf("deliver % x", ev[160:])
	}

	// PARTIAL_MCAST in two fragments, each answered with PARTIAL_SEND (id 18).
	for _, f := range []struct {
		typ  PartialType
		data string
	}{{PartialFirst, "0123456789"}, {PartialLast, "abcde"}} {
		req = make([]byte, 56+len(f.data))
		ipc.PutRequestHeader(req, ReqPartialMcast)
		put(req, 24, uint32(TypeAgreed))
		put(req, 32, 15)
		put(req, 40, uint32(len(f.data)))
		put(req, 48, uint32(f.typ))
		copy(req[56:], f.data)
		call(req, ResPartialSend, 24, ipc.CSOk)
	}
	for _, f := range []struct {
		typ  PartialType
		data string
	}{{PartialFirst, "0123456789"}, {PartialLast, "abcde"}} {
		ev = event(ResPartialDeliver, 200+len(f.data))
		groupAt(ev, 24)
		if u32(ev, 160) != 15 || u32(ev, 168) != uint32(len(f.data)) || u32(ev, 176) != 1 || u32(ev, 184) != pid ||
			u32(ev, 192) != uint32(f.typ) || string(ev[200:]) != f.data {
			t.Errorf("partial deliver % x", ev[160:])
		}
	}

	// MEMBERSHIP: always 9248 bytes.
	req = make([]byte, 152)
	ipc.PutRequestHeader(req, ReqMembership)
	put(req, 16, uint32(len(group)))
	copy(req[24:], group)
	res := call(req, ResMembership, 9248, ipc.CSOk)
	if u32(res, 24) != 1 || u32(res, 32) != 1 || u32(res, 40) != pid {
		t.Errorf("membership % x", res[24:56])
	}

	// LOCAL_GET.
	req = make([]byte, 16)
	ipc.PutRequestHeader(req, ReqLocalGet)
	if res = call(req, ResLocalGet, 32, ipc.CSOk); u32(res, 24) != 1 {
		t.Errorf("local nodeid %d", u32(res, 24))
	}

	// Iteration of one group: handle at 24, entries of 168 bytes, then NO_SECTIONS.
	req = make([]byte, 160)
	ipc.PutRequestHeader(req, ReqIterationInitialize)
	put(req, 16, uint32(len(group)))
	copy(req[24:], group)
	put(req, 152, uint32(IterationOneGroup))
	res = call(req, ResIterationInitialize, 32, ipc.CSOk)
	handle := binary.LittleEndian.Uint64(res[24:])
	req = make([]byte, 24)
	ipc.PutRequestHeader(req, ReqIterationNext)
	binary.LittleEndian.PutUint64(req[16:], handle)
	res = call(req, ResIterationNext, 168, ipc.CSOk)
	groupAt(res, 24)
	if u32(res, 160) != 1 || u32(res, 164) != pid {
		t.Errorf("iteration entry % x", res[160:])
	}
	call(req, ResIterationNext, 168, ipc.CSErrNoSections)
	ipc.PutRequestHeader(req, ReqIterationFinalize)
	call(req, ResIterationFinalize, 24, ipc.CSOk)

	// An unknown request gets the generic refusal: id 0, CS_ERR_INVALID_PARAM.
	req = make([]byte, 16)
	ipc.PutRequestHeader(req, 42)
	call(req, 0, 24, ipc.CSErrInvalid)

	// FINALIZE.
	ipc.PutRequestHeader(req, ReqFinalize)
	call(req, ResFinalize, 24, ipc.CSOk)
}

func checkHeader(t *testing.T, b []byte, id int32, size int, cs ipc.CS) {
	t.Helper()
	if len(b) != size || int32(binary.LittleEndian.Uint32(b)) != id || int(binary.LittleEndian.Uint32(b[8:])) != size || ipc.ResponseError(b) != cs {
		t.Fatalf("got id %d, %d bytes (header says %d), %v; want id %d, %d bytes, %v",
			int32(binary.LittleEndian.Uint32(b)), len(b), binary.LittleEndian.Uint32(b[8:]), ipc.ResponseError(b), id, size, cs)
	}
}
