package link

import (
	"net"
	"net/netip"
	"sync/atomic"
)

// Counters is the concurrent form of Stats: links bump it from their send and receive
// paths without a lock, and Snapshot reads it.
type Counters struct {
	TxPackets, TxBytes, TxErrors, TxBatches atomic.Uint64
	RxPackets, RxBytes, RxErrors, RxBatches atomic.Uint64
	RxDropped                               atomic.Uint64
}

// Snapshot returns the current values.
func (c *Counters) Snapshot() Stats {
	return Stats{
		TxPackets: c.TxPackets.Load(), TxBytes: c.TxBytes.Load(), TxErrors: c.TxErrors.Load(), TxBatches: c.TxBatches.Load(),
		RxPackets: c.RxPackets.Load(), RxBytes: c.RxBytes.Load(), RxErrors: c.RxErrors.Load(), RxBatches: c.RxBatches.Load(),
		RxDropped: c.RxDropped.Load(),
	}
}

// InterfaceWith returns the interface holding addr in the calling thread's network
// namespace (so call it where the link's socket lives).
func InterfaceWith(addr netip.Addr) (*net.Interface, error) {
	ifcs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for i := range ifcs {
		addrs, err := ifcs[i].Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap() == addr.Unmap() {
					return &ifcs[i], nil
				}
			}
		}
	}
	return nil, &net.AddrError{Err: "no interface has this address", Addr: addr.String()}
}
