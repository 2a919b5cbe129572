package main

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/corosync-go/corosync/ipc"
)

// usageText is corosync-cfgtool 3.1.7's help, printed on stdout when no action is given.
const usageText = "corosync-cfgtool [[-i <interface ip>] [-b] -s] [-R] [-L] [-k nodeid] [-a nodeid] [-h] [-H]\n\n" +
	"A tool for displaying and configuring active parameters within corosync.\n" +
	"options:\n" +
	"\t-i\tFinds only information about the specified interface IP address or link id when used with -s..\n" +
	"\t-s\tDisplays the status of the current links on this node.\n" +
	"\t-n\tDisplays the status of the connected nodes and their links.\n" +
	"\t-b\tDisplays the brief status of the current links on this node when used with -s.\n" +
	"\t-R\tTell all instances of corosync in this cluster to reload corosync.conf.\n" +
	"\t-L\tTell corosync to reopen all logging files.\n" +
	"\t-k\tKill a node identified by node id.\n" +
	"\t-a\tDisplay the IP address(es) of a node\n" +
	"\t-h\tPrint basic usage.\n" +
	"\t-H\tShutdown corosync cleanly on this node.\n" +
	"\t\t--force will shut down corosync regardless of daemon vetos\n"

// maxAddrs is INTERFACE_MAX, the address slots corosync-cfgtool offers libcfg.
const maxAddrs = 8

// writeHeader prints the first line of -s and -n.
func writeHeader(w io.Writer, v *clusterView) {
	fmt.Fprintf(w, "Local node ID %d, transport %s\n", v.LocalID, v.Transport)
}

// writeStatusErrors prints -s's complaints about the nodes whose status it could not get
// (ids as C's %d shows them).
func writeStatusErrors(w io.Writer, res []nodeResult) {
	for _, r := range res {
		if r.Err != ipc.CSOk {
			fmt.Fprintf(w, "Could not get the node status for nodeid %d, the error is: %d\n", int32(r.ID), int(r.Err))
		}
	}
}

// nodeIndexes returns where the local node is in res and where the last other node is
// (0 when there is none). -s lists the links another node has, since the local node
// reaches itself over one link only.
func nodeIndexes(local uint32, res []nodeResult) (localIdx, otherIdx int) {
	for i, r := range res {
		if r.ID == local {
			localIdx = i
		} else {
			otherIdx = i
		}
	}
	return localIdx, otherIdx
}

// writeLinks prints -s: per link, its address and each node's state over it; brief puts a
// node's state in one character (n for this node, else enabled + 2*connected).
func writeLinks(w io.Writer, v *clusterView, res []nodeResult, brief bool) {
	if len(res) == 0 {
		return
	}
	localIdx, otherIdx := nodeIndexes(v.LocalID, res)
	var b strings.Builder
	for i, l := range res[otherIdx].Status.Links {
		if !l.Enabled {
			continue
		}
		fmt.Fprintf(&b, "LINK ID %d %s\n\taddr\t= %s\n", i, v.LinkTransport[i], l.SrcAddr)
		if brief {
			b.WriteString("\tstatus\t= ")
			for j, r := range res {
				c := byte('0') + boolDigit(r.Status.Links[i].Enabled) + 2*boolDigit(r.Status.Links[i].Connected)
				if j == localIdx {
					c = 'n'
				}
				b.WriteByte(c)
			}
			b.WriteString("\n")
			continue
		}
		b.WriteString("\tstatus:\n")
		for j, r := range res {
			state := "disconnected"
			switch {
			case j == localIdx:
				state = "localhost"
			case r.Status.Links[i].Connected:
				state = "connected"
			}
			fmt.Fprintf(&b, "\t\tnodeid: %10d:\t%s\n", r.Status.NodeID, state)
		}
	}
	io.WriteString(w, b.String())
}

// writeNodes prints -n: every other node knet can reach, with its enabled links.
func writeNodes(w io.Writer, v *clusterView, res []nodeResult) {
	arrow := ""
	if v.Kind == transportKnet {
		arrow = "->"
	}
	var b strings.Builder
	for _, r := range res {
		s := r.Status
		if r.Err != ipc.CSOk || !s.Reachable || s.NodeID == v.LocalID {
			continue
		}
		fmt.Fprintf(&b, "nodeid: %d reachable", s.NodeID)
		if s.Remote {
			b.WriteString(" remote")
		}
		if s.External {
			b.WriteString(" external")
		}
		b.WriteString("\n")
		for j, l := range s.Links {
			if !l.Enabled {
				continue
			}
			fmt.Fprintf(&b, "   LINK: %d %s (%s%s%s) enabled", j, v.LinkTransport[j], l.SrcAddr, arrow, l.DstAddr)
			if l.Connected {
				b.WriteString(" connected")
			}
			if l.DynConnected {
				b.WriteString(" dynconnected")
			}
			fmt.Fprintf(&b, " mtu: %d\n", int32(l.MTU))
		}
		b.WriteString("\n")
	}
	io.WriteString(w, b.String())
}

// writeAddrs prints -a: the node's addresses on one line. A slot libcfg marks unused is
// skipped, yet a later address still gets its separating space.
func writeAddrs(w io.Writer, addrs []netip.Addr) {
	var b strings.Builder
	for i, a := range addrs[:min(len(addrs), maxAddrs)] {
		if !a.IsValid() {
			continue
		}
		if i != 0 {
			b.WriteString(" ")
		}
		b.WriteString(ntop(a))
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}

// ntop formats an address as glibc's inet_ntop does, which differs from netip only for
// IPv4-compatible IPv6 addresses (::a.b.c.d).
func ntop(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		b := a.As16()
		if b == ([16]byte{12: b[12], 13: b[13], 14: b[14], 15: b[15]}) && (b[12] != 0 || b[13] != 0) {
			return "::" + netip.AddrFrom4([4]byte(b[12:])).String()
		}
	}
	return a.String()
}

func boolDigit(b bool) byte {
	if b {
		return 1
	}
	return 0
}
