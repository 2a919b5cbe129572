package xdp

import (
	"encoding/binary"
	"net/netip"
	"os"
	"testing"

	"github.com/cilium/ebpf"
)

// xdpTx is returned by the test build of the filter where the real one would redirect:
// with an empty socket map, bpf_redirect_map returns its fallback argument, so building
// the program with XDP_TX as fallback tells "would redirect" (3) apart from "pass" (2).
const xdpTx = 3

// loadTestFilter loads the filter for local with the XDP_TX fallback, or skips the test
// where BPF programs cannot be loaded.
func loadTestFilter(t *testing.T, local netip.AddrPort) *ebpf.Program {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading BPF programs needs root")
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Skipf("cannot create an XSK map here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.XDP,
		Instructions: filterInstructions(local, m.FD(), xdpTx),
		License:      "Dual BSD/GPL",
	})
	if err != nil {
		t.Fatalf("verifier refused the filter: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog
}

func verdict(t *testing.T, prog *ebpf.Program, frame []byte) uint32 {
	t.Helper()
	if len(frame) < ethHeaderLen {
		// BPF_PROG_TEST_RUN wants an Ethernet header; pad as the wire would.
		frame = append(frame, make([]byte, ethHeaderLen-len(frame))...)
	}
	v, err := prog.Run(&ebpf.RunOptions{Data: frame})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFilterIPv4(t *testing.T) {
	// Frames from testSrc4 to testDst4: the link under test listens on testDst4.
	prog := loadTestFilter(t, testDst4)
	f := testFlow(false)
	good := frameFor(&f, testPayload(100))
	ip, udp := ethHeaderLen, ethHeaderLen+ipv4HeaderLen
	edit := func(fn func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		fn(b)
		return b
	}
	otherPort := newFlow(testSrcMAC, testDstMAC, testSrc4, netip.AddrPortFrom(testDst4.Addr(), 5406), 0)
	otherAddr := newFlow(testSrcMAC, testDstMAC, testSrc4, netip.MustParseAddrPort("10.77.0.9:5405"), 0)
	opts := append(append(append([]byte(nil), good[:udp]...), 1, 1, 1, 1), good[udp:]...)
	opts[ip] = 0x46
	cases := []struct {
		name  string
		frame []byte
		want  uint32
	}{
		{"ours", good, xdpTx},
		{"ours with VLAN tag", withVLAN(good, 100), xdpTx},
		{"ours with IP options", opts, xdpTx},
		{"ours, UDP header only", edit(func(b []byte) {})[:udp+udpHeaderLen], xdpTx},
		{"other port", frameFor(&otherPort, testPayload(10)), xdpPass},
		{"other address", frameFor(&otherAddr, testPayload(10)), xdpPass},
		{"arp", edit(func(b []byte) { binary.BigEndian.PutUint16(b[12:], 0x0806) }), xdpPass},
		{"tcp", edit(func(b []byte) { b[ip+9] = 6 }), xdpPass},
		{"icmp", edit(func(b []byte) { b[ip+9] = 1 }), xdpPass},
		{"first fragment", edit(func(b []byte) { b[ip+6] |= 0x20 }), xdpPass},
		{"later fragment", edit(func(b []byte) { b[ip+7] = 0xb9 }), xdpPass},
		{"bad ihl", edit(func(b []byte) { b[ip] = 0x43 }), xdpPass},
		{"ipv6 frame", frameFor(ptr(testFlow(true)), testPayload(10)), xdpPass},
		{"ethernet header only", good[:ethHeaderLen], xdpPass},
		{"cut in IP header", good[:ip+19], xdpPass},
		{"cut in UDP header", good[:udp+7], xdpPass},
		{"options push UDP past the end", opts[:udp+6], xdpPass},
		{"cut VLAN tag", withVLAN(good, 1)[:ethHeaderLen+3], xdpPass},
	}
	for _, c := range cases {
		if got := verdict(t, prog, c.frame); got != c.want {
			t.Errorf("%s: verdict %d, want %d", c.name, got, c.want)
		}
	}
}

func TestFilterIPv6(t *testing.T) {
	prog := loadTestFilter(t, testDst6)
	f := testFlow(true)
	good := frameFor(&f, testPayload(100))
	ip := ethHeaderLen
	edit := func(fn func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		fn(b)
		return b
	}
	otherPort := newFlow(testSrcMAC, testDstMAC, testSrc6, netip.AddrPortFrom(testDst6.Addr(), 5405), 0)
	cases := []struct {
		name  string
		frame []byte
		want  uint32
	}{
		{"ours", good, xdpTx},
		{"ours with VLAN tag", withVLAN(good, 100), xdpTx},
		{"other port", frameFor(&otherPort, testPayload(10)), xdpPass},
		{"other address", edit(func(b []byte) { b[ip+39] ^= 1 }), xdpPass},
		{"hop-by-hop header", edit(func(b []byte) { b[ip+6] = 0 }), xdpPass},
		{"icmpv6 (neighbour discovery)", edit(func(b []byte) { b[ip+6] = 58 }), xdpPass},
		{"ipv4 frame", frameFor(ptr(testFlow(false)), testPayload(10)), xdpPass},
		{"cut in IP header", good[:ip+39], xdpPass},
		{"cut in UDP header", good[:ip+ipv6HeaderLen+7], xdpPass},
	}
	for _, c := range cases {
		if got := verdict(t, prog, c.frame); got != c.want {
			t.Errorf("%s: verdict %d, want %d", c.name, got, c.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
