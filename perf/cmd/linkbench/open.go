package main

import (
	"fmt"
	"net/netip"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/udp"
	"github.com/corosync-go/corosync/l0_link/xdp"
)

// describedXDP adds a line saying how AF_XDP runs.
type describedXDP struct{ *xdp.Link }

func (d describedXDP) Describe() string {
	return fmt.Sprintf("xdp: mode=%s zerocopy=%v queues=%d", d.Mode(), d.ZeroCopy(), d.Queues())
}

// open opens the link kind under test on addr (called inside the namespace).
func open(o options, addr netip.AddrPort, ifname string) (link.Link, error) {
	switch o.kind {
	case "udp":
		return udp.Open(udp.Config{Local: addr, DisableGSO: o.noGSO, DisableGRO: o.noGSO})
	case "xdp":
		l, err := xdp.Open(xdp.Config{Interface: ifname, Local: addr})
		if err != nil {
			return nil, err
		}
		return describedXDP{l}, nil
	}
	return nil, fmt.Errorf("unknown link kind %q (udp, xdp)", o.kind)
}
