package cfg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc"
)

// The offsets below are those gcc gives 3.1.7's ipc_cfg.h and cfg.h structs on amd64
// (printed with offsetof from the real headers): request headers are 16 bytes and
// response headers 24, each struct is padded to a multiple of 8, cs_name_t is {u16
// length; u8 value[256]} (258 bytes), corosync_cfg_node_status_v1 is 4176 bytes with its
// links at 16, each corosync_knet_link_status_v1 520 bytes (mtu at 4, addresses at 8 and
// 264).

func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

func checkHeader(t *testing.T, b []byte, id int32, size int) {
	t.Helper()
	if len(b) != size || int32(u32(b, 0)) != id || int(u32(b, 8)) != size {
		t.Fatalf("%d bytes, id %d, size %d; want id %d, %d bytes", len(b), int32(u32(b, 0)), u32(b, 8), id, size)
	}
}

func TestRequestLayouts(t *testing.T) {
	for _, id := range []int32{ReqRingStatusGet, ReqRingReenable, ReqLocalGet, ReqReloadConfig, ReqReopenLogFiles, ReqTrackStop} {
		checkHeader(t, EncodeHeaderRequest(id), id, 16)
	}
	b, err := KillNodeRequest{NodeID: 3, Reason: "bye"}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, b, 2, 288)
	// libcfg counts the NUL in the length.
	if u32(b, 16) != 3 || binary.LittleEndian.Uint16(b[24:]) != 4 || string(b[26:30]) != "bye\x00" || bytes.Count(b[30:], []byte{0}) != 288-30 {
		t.Errorf("kill node: %x", b[16:40])
	}
	for id, b := range map[int32][]byte{
		ReqTryShutdown:     TryShutdownRequest{Flags: ShutdownImmediate}.Encode(),
		ReqReplyToShutdown: ReplyToShutdownRequest{Response: 2}.Encode(),
		ReqGetNodeAddrs:    GetNodeAddrsRequest{NodeID: 2}.Encode(),
	} {
		checkHeader(t, b, id, 24)
		if u32(b, 16) != 2 || u32(b, 20) != 0 {
			t.Errorf("request %d: %x", id, b[16:])
		}
	}
	b = TrackStartRequest{Flags: 0xab}.Encode()
	checkHeader(t, b, 10, 24)
	if b[16] != 0xab || bytes.Count(b[17:], []byte{0}) != 7 {
		t.Errorf("track start: %x", b[16:])
	}
	b = NodeStatusGetRequest{NodeID: 5, Version: 1}.Encode()
	checkHeader(t, b, 9, 32)
	if u32(b, 16) != 5 || u32(b, 24) != 1 {
		t.Errorf("node status request: %x", b[16:])
	}
}

func TestResponseLayouts(t *testing.T) {
	b := EncodeStatusResponse(ResStateTrackStart, ipc.CSErrBusy)
	checkHeader(t, b, 2, 24)
	if ipc.ResponseError(b) != ipc.CSErrBusy {
		t.Error("status code")
	}
	b, err := RingStatusResponse{Error: ipc.CSOk, Interfaces: []Interface{{"0 10.0.0.1", "nn"}, {"1 10.0.1.1", "n3"}}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, b, 0, 10272)
	if u32(b, 24) != 2 || string(b[32:43]) != "0 10.0.0.1\x00" || string(b[160:171]) != "1 10.0.1.1\x00" ||
		string(b[2080:2083]) != "nn\x00" || string(b[2592:2595]) != "n3\x00" {
		t.Errorf("ring status layout")
	}
	st := NodeStatus{NodeID: 7, Reachable: true, External: true, OnwireMin: 1, OnwireMax: 2, OnwireVer: 3}
	st.Links[1] = LinkStatus{Enabled: true, DynConnected: true, MTU: 1400, SrcAddr: "10.0.0.1", DstAddr: "10.0.0.7"}
	b, err = NodeStatusResponse{Error: ipc.CSOk, Version: 1, Status: &st}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, b, 16, 4200)
	l1 := 24 + 16 + 520
	if u32(b, 24) != 1 || u32(b, 28) != 7 || !bytes.Equal(b[32:40], []byte{1, 0, 1, 1, 2, 3, 0, 0}) ||
		!bytes.Equal(b[l1:l1+4], []byte{1, 0, 1, 0}) || u32(b, l1+4) != 1400 ||
		string(b[l1+8:l1+17]) != "10.0.0.1\x00" || string(b[l1+264:l1+273]) != "10.0.0.7\x00" {
		t.Errorf("node status layout: %x", b[24:48])
	}
	if NodeStatusResponseBytes-resHdr != nodeStatusBytes || linkStatusBytes*MaxLinks+16 != nodeStatusBytes {
		t.Error("node status sizes")
	}
	b, _ = NodeStatusResponse{Error: csNotFound, Version: 9}.Encode()
	checkHeader(t, b, 16, 32)
	if u32(b, 24) != 9 {
		t.Error("short node status")
	}
	b = NodeAddrsResponse{Error: ipc.CSOk, Family: 2, Addrs: [][16]byte{{127, 0, 0, 1}}, Slots: 2}.Encode()
	checkHeader(t, b, 11, 64)
	if u32(b, 24) != 2 || u32(b, 28) != 1 || !bytes.Equal(b[32:36], []byte{127, 0, 0, 1}) {
		t.Errorf("node addrs: %x", b[24:])
	}
	b = LocalGetResponse{Error: ipc.CSOk, NodeID: 42}.Encode()
	checkHeader(t, b, 12, 32)
	if u32(b, 24) != 42 {
		t.Error("local get")
	}
	b = TestShutdown{Error: ipc.CSErrTimeout, Flags: ShutdownRegardless}.Encode()
	checkHeader(t, b, 10, 32)
	if u32(b, 24) != 1 || ipc.ResponseError(b) != ipc.CSErrTimeout {
		t.Error("test shutdown")
	}
}

const csNotFound ipc.CS = 21

// TestDecodeHandBuilt decodes answers laid out by hand at the C offsets.
func TestDecodeHandBuilt(t *testing.T) {
	b := make([]byte, 4200)
	ipc.PutResponseHeader(b, 16, ipc.CSOk)
	binary.LittleEndian.PutUint32(b[24:], 1)
	binary.LittleEndian.PutUint32(b[28:], 1)
	b[32] = 1
	b[40], b[41] = 1, 1
	binary.LittleEndian.PutUint32(b[44:], 65535)
	copy(b[48:], "127.0.0.1")
	copy(b[304:], "127.0.0.1")
	r, err := DecodeNodeStatusResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := NodeStatus{NodeID: 1, Reachable: true}
	want.Links[0] = LinkStatus{Enabled: true, Connected: true, MTU: 65535, SrcAddr: "127.0.0.1", DstAddr: "127.0.0.1"}
	if r.Version != 1 || r.Status == nil || !reflect.DeepEqual(*r.Status, want) {
		t.Errorf("got %+v", r.Status)
	}
	// 3.1.7's answer for a known node: one slot per interface, only the live ones counted.
	b = make([]byte, 32+16*8)
	ipc.PutResponseHeader(b, 11, ipc.CSOk)
	binary.LittleEndian.PutUint32(b[24:], 10)
	binary.LittleEndian.PutUint32(b[28:], 1)
	b[32+15] = 1
	a, err := DecodeNodeAddrsResponse(b)
	if err != nil || a.Family != 10 || len(a.Addrs) != 1 || a.Addrs[0][15] != 1 || a.Slots != 8 {
		t.Errorf("node addrs: %+v, %v", a, err)
	}
	// An error answer's family and count are garbage in 3.1.7 and are not read.
	binary.LittleEndian.PutUint32(b[28:], 1000)
	ipc.PutResponseHeader(b, 11, ipc.CSErrNotExist)
	if a, err := DecodeNodeAddrsResponse(b); err != nil || a.Error != ipc.CSErrNotExist || a.Addrs != nil {
		t.Errorf("error answer: %+v, %v", a, err)
	}
	k := make([]byte, 288)
	ipc.PutRequestHeader(k, 2)
	binary.LittleEndian.PutUint32(k[16:], 4)
	binary.LittleEndian.PutUint16(k[24:], 4)
	copy(k[26:], "why")
	if r, err := DecodeKillNodeRequest(k); err != nil || r != (KillNodeRequest{NodeID: 4, Reason: "why"}) {
		t.Errorf("kill node: %+v, %v", r, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	ring, _ := RingStatusResponse{Error: ipc.CSOk, Interfaces: []Interface{{"a", "b"}}}.Encode()
	bad := bytes.Clone(ring)
	binary.LittleEndian.PutUint32(bad[24:], 17)
	if _, err := DecodeRingStatusResponse(bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("17 interfaces: %v", err)
	}
	bad = bytes.Clone(ring)
	copy(bad[32:160], strings.Repeat("x", 128))
	if _, err := DecodeRingStatusResponse(bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("name without NUL: %v", err)
	}
	addrs := NodeAddrsResponse{Error: ipc.CSOk, Family: 2, Addrs: [][16]byte{{1}}}.Encode()
	bad = bytes.Clone(addrs)
	binary.LittleEndian.PutUint32(bad[28:], 2)
	if _, err := DecodeNodeAddrsResponse(bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("count beyond the slots: %v", err)
	}
	bad = append(bytes.Clone(addrs), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(bad[8:], uint32(len(bad)))
	if _, err := DecodeNodeAddrsResponse(bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("partial slot: %v", err)
	}
	short := make([]byte, 100)
	ipc.PutResponseHeader(short, ResNodeStatusGet, ipc.CSOk)
	if _, err := DecodeNodeStatusResponse(short); !errors.Is(err, ErrMalformed) {
		t.Errorf("100-byte node status: %v", err)
	}
	k, _ := KillNodeRequest{NodeID: 1, Reason: "r"}.Encode()
	binary.LittleEndian.PutUint16(k[24:], 300)
	if _, err := DecodeKillNodeRequest(k); !errors.Is(err, ErrMalformed) {
		t.Errorf("reason length 300: %v", err)
	}
	if err := DecodeHeaderRequest(EncodeHeaderRequest(ReqLocalGet), ReqReloadConfig); !errors.Is(err, ErrMalformed) {
		t.Errorf("wrong id: %v", err)
	}
	if _, err := DecodeTestShutdown(make([]byte, 8)); !errors.Is(err, ErrMalformed) {
		t.Errorf("8 bytes: %v", err)
	}
	if _, err := (RingStatusResponse{Interfaces: make([]Interface, 17)}).Encode(); err == nil {
		t.Error("17 interfaces encoded")
	}
	if _, err := (RingStatusResponse{Interfaces: []Interface{{Name: strings.Repeat("n", 128)}}}).Encode(); err == nil {
		t.Error("128-byte name encoded")
	}
}
