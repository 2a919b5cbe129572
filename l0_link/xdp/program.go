package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// XDP verdicts and xdp_md field offsets, from include/uapi/linux/bpf.h.
const (
	xdpPass = 2

	mdData         = 0
	mdDataEnd      = 4
	mdRxQueueIndex = 16
)

// program is the loaded filter and the XSKMap it redirects into.
type program struct {
	prog *ebpf.Program
	xsks *ebpf.Map
}

// loadProgram creates the XSKMap (one slot per RX queue) and loads a filter that steers
// UDP datagrams for local into the AF_XDP socket of the queue they arrived on.
func loadProgram(local netip.AddrPort, queues int) (*program, error) {
	xsks, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "corosync_xsks",
		Type:       ebpf.XSKMap,
		KeySize:    4,
		ValueSize:  4,
		MaxEntries: uint32(queues),
	})
	if err != nil {
		return nil, fmt.Errorf("create XSK map: %w", err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "corosync_xdp",
		Type:         ebpf.XDP,
		Instructions: filterInstructions(local, xsks.FD(), xdpPass),
		// No GPL-only helper is called; the string only gates helper access.
		License: "Dual BSD/GPL",
	})
	if err != nil {
		xsks.Close()
		return nil, fmt.Errorf("load XDP program: %w", err)
	}
	return &program{prog: prog, xsks: xsks}, nil
}

// register points queue's slot of the map at the socket fd.
func (p *program) register(queue, fd int) error {
	return p.xsks.Put(uint32(queue), uint32(fd))
}

func (p *program) close() error {
	return errors.Join(p.prog.Close(), p.xsks.Close())
}

// filterInstructions is the XDP program. In C it would read:
//
//	eth = data; if (eth + 14 > end) pass; type = eth->type; l3 = eth + 14
//	if (type == 0x8100) { if (l3 + 4 > end) pass; type = *(l3 + 2); l3 += 4 }
//	if (type == 0x0800) {
//	    if (l3 + 20 > end) pass; if (ip->protocol != 17) pass
//	    if (ip->frag_off & (MF|offset)) pass   // the kernel reassembles fragments
//	    if (ip->daddr != local) pass; if (ip->ihl < 5) pass; l4 = l3 + ihl*4
//	} else if (type == 0x86DD) {
//	    if (l3 + 40 > end) pass; if (ip6->nexthdr != 17) pass   // extension headers: kernel
//	    if (ip6->daddr != local) pass; l4 = l3 + 40
//	} else pass
//	if (l4 + 8 > end) pass; if (udp->dest != port) pass
//	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS)
//
// Only one address family is compiled in: the one of local. Every packet load is preceded
// by a comparison of the pointer plus the load's extent against data_end, in the exact
// form the verifier understands (pointer + constant or + bounded scalar, then JGT end).
// miss is the verdict when no socket is registered for the packet's queue: XDP_PASS hands
// it to the kernel (tests use another value to tell "would redirect" apart from "pass").
func filterInstructions(local netip.AddrPort, xsksFD int, miss int32) asm.Instructions {
	const (
		ctx   = asm.R6 // xdp_md, kept across the parse
		l3    = asm.R2 // start of the IP header, later of the UDP header
		end   = asm.R3 // data_end
		probe = asm.R4 // pointer + extent, compared against end
		val   = asm.R5 // the field being examined
	)
	// Packet fields are big-endian; each 16-bit load is converted so the constants below
	// read as in the RFCs, whatever the host's byte order.
	be16 := func(off int16) asm.Instructions {
		return asm.Instructions{asm.LoadMem(val, l3, off, asm.Half), asm.HostTo(asm.BE, val, asm.Half)}
	}
	bounds := func(extent int32) asm.Instructions {
		return asm.Instructions{
			asm.Mov.Reg(probe, l3),
			asm.Add.Imm(probe, extent),
			asm.JGT.Reg(probe, end, "pass"),
		}
	}
	// Addresses are compared 32 bits at a time as they lie in memory, so the immediates are
	// the address bytes read in host order; JMP32 avoids sign-extending them.
	addrEq := func(off int16, addr []byte) asm.Instructions {
		var out asm.Instructions
		for i := 0; i < len(addr); i += 4 {
			word := int32(binary.NativeEndian.Uint32(addr[i:]))
			out = append(out,
				asm.LoadMem(val, l3, off+int16(i), asm.Word),
				asm.JNE.Imm32(val, word, "pass"))
		}
		return out
	}

	var insns asm.Instructions
	add := func(more ...asm.Instruction) { insns = append(insns, more...) }
	addAll := func(more asm.Instructions) { insns = append(insns, more...) }

	add(
		asm.Mov.Reg(ctx, asm.R1),
		asm.LoadMem(l3, ctx, mdData, asm.Word),
		asm.LoadMem(end, ctx, mdDataEnd, asm.Word),
	)
	addAll(bounds(ethHeaderLen))
	addAll(be16(12))
	add(asm.Add.Imm(l3, ethHeaderLen))
	add(asm.JNE.Imm(val, etherTypeVLAN, "l3"))
	addAll(bounds(vlanTagLen))
	addAll(be16(2))
	add(asm.Add.Imm(l3, vlanTagLen))

	addr := local.Addr().AsSlice()
	if len(addr) == 4 {
		add(asm.JNE.Imm(val, etherTypeIPv4, "pass").WithSymbol("l3"))
		addAll(bounds(ipv4HeaderLen))
		add(
			asm.LoadMem(val, l3, 9, asm.Byte),
			asm.JNE.Imm(val, protoUDP, "pass"),
		)
		addAll(be16(6))
		add(
			asm.And.Imm(val, 0x3fff), // MF flag and fragment offset
			asm.JNE.Imm(val, 0, "pass"),
		)
		addAll(addrEq(16, addr))
		add(
			asm.LoadMem(val, l3, 0, asm.Byte),
			asm.And.Imm(val, 0x0f),
			asm.JLT.Imm(val, 5, "pass"),
			asm.LSh.Imm(val, 2),
			asm.Add.Reg(l3, val),
		)
	} else {
		add(asm.JNE.Imm(val, etherTypeIPv6, "pass").WithSymbol("l3"))
		addAll(bounds(ipv6HeaderLen))
		add(
			asm.LoadMem(val, l3, 6, asm.Byte),
			asm.JNE.Imm(val, protoUDP, "pass"),
		)
		addAll(addrEq(24, addr))
		add(asm.Add.Imm(l3, ipv6HeaderLen))
	}
	addAll(bounds(udpHeaderLen))
	addAll(be16(2))
	add(
		asm.JNE.Imm(val, int32(local.Port()), "pass"),
		asm.LoadMem(asm.R2, ctx, mdRxQueueIndex, asm.Word),
		asm.LoadMapPtr(asm.R1, xsksFD),
		asm.Mov.Imm(asm.R3, miss),
		asm.FnRedirectMap.Call(),
		asm.Return(),
		asm.Mov.Imm(asm.R0, xdpPass).WithSymbol("pass"),
		asm.Return(),
	)
	return insns
}
