package main

import (
	"fmt"
	"net/netip"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/udp"
)

// open opens the link kind under test on addr (called inside the namespace).
func open(o options, addr netip.AddrPort, ifname string) (link.Link, error) {
	switch o.kind {
	case "udp":
		return udp.Open(udp.Config{Local: addr, DisableGSO: o.noGSO, DisableGRO: o.noGSO})
	}
	return nil, fmt.Errorf("unknown link kind %q (udp, xdp)", o.kind)
}
