package xdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
)

var (
	testSrcMAC = mac{0x02, 0, 0, 0, 0, 1}
	testDstMAC = mac{0x02, 0, 0, 0, 0, 2}
	testSrc4   = netip.MustParseAddrPort("10.77.0.1:5405")
	testDst4   = netip.MustParseAddrPort("10.77.0.2:5405")
	testSrc6   = netip.MustParseAddrPort("[fd77::1]:5405")
	testDst6   = netip.MustParseAddrPort("[fd77::2]:6000")
)

func testFlow(v6 bool) flow {
	if v6 {
		return newFlow(testSrcMAC, testDstMAC, testSrc6, testDst6, 46)
	}
	return newFlow(testSrcMAC, testDstMAC, testSrc4, testDst4, 46)
}

func testPayload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + n)
	}
	return p
}

func frameFor(f *flow, payload []byte) []byte {
	buf := make([]byte, f.headerLen()+len(payload))
	return buf[:buildFrame(buf, f, payload, 0x1234)]
}

// naiveChecksum is RFC 1071 written the obvious way, 16 bits at a time.
func naiveChecksum(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	var sum uint32
	for i := 0; i+1 < len(all); i += 2 {
		sum += uint32(all[i])<<8 | uint32(all[i+1])
	}
	if len(all)%2 == 1 {
		sum += uint32(all[len(all)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func TestChecksumMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		b := make([]byte, r.IntN(1600))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		if i%10 == 0 {
			for j := range b {
				b[j] = 0xff // worst case for carries
			}
		}
		if got, want := checksum(b), naiveChecksum(b); got != want {
			t.Fatalf("len %d: checksum %#04x, want %#04x", len(b), got, want)
		}
		// Sums chain across pieces of even length, as the pseudo header does.
		cut := r.IntN(len(b)/2+1) * 2
		if got, want := ^fold(onesSum(onesSum(0, b[:cut]), b[cut:])), naiveChecksum(b); got != want {
			t.Fatalf("len %d cut %d: chained %#04x, want %#04x", len(b), cut, got, want)
		}
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		f := testFlow(v6)
		for _, size := range []int{0, 1, 2, 7, 8, 9, 63, 64, 1000, 1471, 1472} {
			payload := testPayload(size)
			frame := frameFor(&f, payload)
			checkHeaders(t, &f, frame, payload)
			dg, err := parseFrame(frame)
			if err != nil {
				t.Fatalf("v6=%v size %d: %v", v6, size, err)
			}
			if dg.src != f.src || dg.dst != f.dst || !bytes.Equal(dg.payload, payload) {
				t.Fatalf("v6=%v size %d: got %v→%v %d bytes", v6, size, dg.src, dg.dst, len(dg.payload))
			}
			// Short frames are padded to 60 bytes on the wire; the IP length wins.
			padded := append(append([]byte(nil), frame...), make([]byte, 32)...)
			if dg, err := parseFrame(padded); err != nil || !bytes.Equal(dg.payload, payload) {
				t.Fatalf("v6=%v size %d padded: %v", v6, size, err)
			}
			if dg, err := parseFrame(withVLAN(frame, 42)); err != nil || dg.src != f.src || !bytes.Equal(dg.payload, payload) {
				t.Fatalf("v6=%v size %d with VLAN tag: %v", v6, size, err)
			}
		}
	}
}

// TestFrameExtremeAddresses covers address bytes that push the checksum accumulator to
// its limits, where a lost carry would show.
func TestFrameExtremeAddresses(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	addrs := []string{"255.255.255.255", "255.255.255.254", "0.0.0.1", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]", "[ffff::]", "[::1]"}
	for _, a := range addrs {
		for _, b := range addrs {
			src, dst := netip.MustParseAddrPort(a+":65535"), netip.MustParseAddrPort(b+":65534")
			if src.Addr().Is6() != dst.Addr().Is6() {
				continue
			}
			f := newFlow(testSrcMAC, testDstMAC, src, dst, 63)
			for _, size := range []int{0, 1, 1000 + r.IntN(400)} {
				payload := make([]byte, size)
				for i := range payload {
					payload[i] = 0xff - byte(r.IntN(2))
				}
				frame := frameFor(&f, payload)
				checkHeaders(t, &f, frame, payload)
				if dg, err := parseFrame(frame); err != nil || dg.src != src || dg.dst != dst || !bytes.Equal(dg.payload, payload) {
					t.Fatalf("%v → %v, %d bytes: %v", src, dst, size, err)
				}
			}
		}
	}
}

// checkHeaders verifies the built frame field by field, independently of parseFrame.
func checkHeaders(t *testing.T, f *flow, frame, payload []byte) {
	t.Helper()
	if !bytes.Equal(frame[0:6], f.dstMAC[:]) || !bytes.Equal(frame[6:12], f.srcMAC[:]) {
		t.Fatalf("MACs %x", frame[:12])
	}
	udpLen := udpHeaderLen + len(payload)
	var udp, pseudo []byte
	if f.v6 {
		ip := frame[ethHeaderLen:]
		if binary.BigEndian.Uint16(frame[12:]) != etherTypeIPv6 || ip[0]>>4 != 6 || ip[6] != protoUDP || ip[7] != hopLimit {
			t.Fatalf("IPv6 header % x", ip[:8])
		}
		if tc := binary.BigEndian.Uint32(ip) >> 20 & 0xff; tc != uint32(f.tos) {
			t.Fatalf("traffic class %#x, want %#x", tc, f.tos)
		}
		if int(binary.BigEndian.Uint16(ip[4:])) != udpLen {
			t.Fatalf("payload length %d, want %d", binary.BigEndian.Uint16(ip[4:]), udpLen)
		}
		pseudo = append(append([]byte(nil), ip[8:40]...), 0, 0, byte(udpLen>>8), byte(udpLen), 0, 0, 0, protoUDP)
		udp = ip[ipv6HeaderLen:]
	} else {
		ip := frame[ethHeaderLen:]
		if binary.BigEndian.Uint16(frame[12:]) != etherTypeIPv4 || ip[0] != 0x45 || ip[1] != f.tos || ip[8] != hopLimit || ip[9] != protoUDP {
			t.Fatalf("IPv4 header % x", ip[:20])
		}
		if binary.BigEndian.Uint16(ip[6:]) != ipv4DontFragment {
			t.Fatalf("flags %#x", binary.BigEndian.Uint16(ip[6:]))
		}
		if int(binary.BigEndian.Uint16(ip[2:])) != ipv4HeaderLen+udpLen {
			t.Fatalf("total length %d", binary.BigEndian.Uint16(ip[2:]))
		}
		if naiveChecksum(ip[:ipv4HeaderLen]) != 0 {
			t.Fatalf("IPv4 header checksum does not verify")
		}
		pseudo = append(append([]byte(nil), ip[12:20]...), 0, protoUDP, byte(udpLen>>8), byte(udpLen))
		udp = ip[ipv4HeaderLen:]
	}
	if binary.BigEndian.Uint16(udp[0:]) != f.src.Port() || binary.BigEndian.Uint16(udp[2:]) != f.dst.Port() ||
		int(binary.BigEndian.Uint16(udp[4:])) != udpLen || !bytes.Equal(udp[udpHeaderLen:udpLen], payload) {
		t.Fatalf("UDP header % x", udp[:8])
	}
	if binary.BigEndian.Uint16(udp[6:]) == 0 || naiveChecksum(pseudo, udp[:udpLen]) != 0 {
		t.Fatalf("UDP checksum %#04x does not verify", binary.BigEndian.Uint16(udp[6:]))
	}
}

// withVLAN returns frame with an 802.1Q tag inserted after the MAC addresses.
func withVLAN(frame []byte, vid uint16) []byte {
	out := append([]byte(nil), frame[:12]...)
	out = binary.BigEndian.AppendUint16(out, etherTypeVLAN)
	out = binary.BigEndian.AppendUint16(out, vid)
	return append(out, frame[12:]...)
}

// fixIPv4 recomputes the IPv4 header checksum after a test edited the header.
func fixIPv4(frame []byte) []byte {
	ip := frame[ethHeaderLen:]
	ihl := int(ip[0]&0x0f) * 4
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], naiveChecksum(ip[:ihl]))
	return frame
}

func TestParseIPv4Options(t *testing.T) {
	f := testFlow(false)
	payload := testPayload(100)
	frame := frameFor(&f, payload)
	// Four NOP options after the fixed header: IHL 6, total length +4.
	opt := append(append(append([]byte(nil), frame[:ethHeaderLen+ipv4HeaderLen]...), 1, 1, 1, 1), frame[ethHeaderLen+ipv4HeaderLen:]...)
	opt[ethHeaderLen] = 0x46
	binary.BigEndian.PutUint16(opt[ethHeaderLen+2:], uint16(len(opt)-ethHeaderLen))
	dg, err := parseFrame(fixIPv4(opt))
	if err != nil || dg.src != f.src || !bytes.Equal(dg.payload, payload) {
		t.Fatalf("with options: %v", err)
	}
}

func TestParseFrameRejects(t *testing.T) {
	f4, f6 := testFlow(false), testFlow(true)
	v4 := func() []byte { return frameFor(&f4, testPayload(50)) }
	v6 := func() []byte { return frameFor(&f6, testPayload(50)) }
	ip4 := ethHeaderLen
	udp4 := ethHeaderLen + ipv4HeaderLen
	udp6 := ethHeaderLen + ipv6HeaderLen
	cases := []struct {
		name  string
		frame []byte
		want  error
	}{
		{"empty", nil, errTruncated},
		{"ethernet only", v4()[:ethHeaderLen], errTruncated},
		{"arp", func() []byte { b := v4(); b[12], b[13] = 0x08, 0x06; return b }(), errNotIP},
		{"short ipv4", v4()[:ip4+10], errTruncated},
		{"ipv4 cut in payload", v4()[:udp4+20], errTruncated},
		{"ipv4 version", func() []byte { b := v4(); b[ip4] = 0x55; return fixIPv4(b) }(), errBadIPHeader},
		{"ipv4 ihl", func() []byte { b := v4(); b[ip4] = 0x44; return b }(), errBadIPHeader},
		{"ipv4 total < ihl", func() []byte { b := v4(); b[ip4+2], b[ip4+3] = 0, 10; return fixIPv4(b) }(), errBadIPHeader},
		{"ipv4 header checksum", func() []byte { b := v4(); b[ip4+8]--; return b }(), errIPChecksum},
		{"more fragments", func() []byte { b := v4(); b[ip4+6] |= 0x20; return fixIPv4(b) }(), errFragment},
		{"fragment offset", func() []byte { b := v4(); b[ip4+7] = 1; return fixIPv4(b) }(), errFragment},
		{"tcp", func() []byte { b := v4(); b[ip4+9] = 6; return fixIPv4(b) }(), errNotUDP},
		{"udp length > ip", func() []byte { b := v4(); b[udp4+4], b[udp4+5] = 0, 200; return b }(), errBadUDP},
		{"udp length < 8", func() []byte { b := v4(); b[udp4+4], b[udp4+5] = 0, 7; return b }(), errBadUDP},
		{"ipv4 payload corrupt", func() []byte { b := v4(); b[len(b)-1]++; return b }(), errUDPChecksum},
		{"short ipv6", v6()[:ethHeaderLen+30], errTruncated},
		{"ipv6 cut in payload", v6()[:udp6+20], errTruncated},
		{"ipv6 version", func() []byte { b := v6(); b[ethHeaderLen] = 0x40; return b }(), errBadIPHeader},
		{"ipv6 extension header", func() []byte { b := v6(); b[ethHeaderLen+6] = 0; return b }(), errNotUDP},
		{"ipv6 zero checksum", func() []byte { b := v6(); b[udp6+6], b[udp6+7] = 0, 0; return b }(), errUDPChecksum},
		{"ipv6 payload corrupt", func() []byte { b := v6(); b[udp6+9] ^= 0x10; return b }(), errUDPChecksum},
		{"ipv6 source corrupt", func() []byte { b := v6(); b[ethHeaderLen+8] ^= 1; return b }(), errUDPChecksum},
	}
	for _, c := range cases {
		if _, err := parseFrame(c.frame); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// Every proper prefix of a good frame is refused.
	for _, full := range [][]byte{v4(), v6()} {
		for n := 0; n < len(full); n++ {
			if _, err := parseFrame(full[:n]); err == nil {
				t.Fatalf("prefix of %d of %d bytes accepted", n, len(full))
			}
		}
	}
}

func TestParseChecksumVariants(t *testing.T) {
	f := testFlow(false)
	payload := testPayload(50)
	b := frameFor(&f, payload)
	udp := b[ethHeaderLen+ipv4HeaderLen:]
	// IPv4 allows no checksum at all.
	udp[6], udp[7] = 0, 0
	if dg, err := parseFrame(b); err != nil || !bytes.Equal(dg.payload, payload) {
		t.Fatalf("no checksum: %v", err)
	}
	// Checksum offload left undone by a local sender on a virtual device.
	for _, fl := range []flow{testFlow(false), testFlow(true)} {
		b := frameFor(&fl, payload)
		udp := b[fl.headerLen()-udpHeaderLen:]
		addrs := append(fl.src.Addr().AsSlice(), fl.dst.Addr().AsSlice()...)
		partial := ^naiveChecksum(addrs, []byte{0, protoUDP, byte(len(udp) >> 8), byte(len(udp))})
		binary.BigEndian.PutUint16(udp[6:], partial)
		if _, err := parseFrame(b); err != nil {
			t.Fatalf("v6=%v partial checksum: %v", fl.v6, err)
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, v6 := range []bool{false, true} {
		fl := testFlow(v6)
		for _, n := range []int{0, 1, 17, 200} {
			frame := frameFor(&fl, testPayload(n))
			f.Add(frame)
			f.Add(withVLAN(frame, 7))
			f.Add(frame[:len(frame)/2])
		}
	}
	f.Add([]byte{})
	f.Add(make([]byte, 60))
	f.Fuzz(func(t *testing.T, frame []byte) {
		dg, err := parseFrame(frame)
		if err != nil {
			return
		}
		if len(dg.payload)+headerLen(dg.src.Addr().Is6()) > len(frame) {
			t.Fatalf("payload of %d bytes from a %d-byte frame", len(dg.payload), len(frame))
		}
		if dg.src.Addr().Is6() != dg.dst.Addr().Is6() {
			t.Fatalf("mixed families %v → %v", dg.src, dg.dst)
		}
		// What parses rebuilds into a frame that parses the same.
		fl := newFlow(testSrcMAC, testDstMAC, dg.src, dg.dst, 0)
		again, err := parseFrame(frameFor(&fl, dg.payload))
		if err != nil || again.src != dg.src || again.dst != dg.dst || !bytes.Equal(again.payload, dg.payload) {
			t.Fatalf("rebuilt frame: %v", err)
		}
	})
}
