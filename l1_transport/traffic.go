package transport

import "sync/atomic"

// packetKind is how knet's link statistics sort packets: data, heartbeat pings and
// pongs, and path-MTU probes with their answers (ours are padded pings and the pongs that
// echo a probe size).
type packetKind uint8

const (
	kindData packetKind = iota
	kindPing
	kindPong
	kindPMTU
	packetKinds
)

// traffic counts packets and their bytes.
type traffic struct {
	packets, bytes atomic.Uint64
}

func (c *traffic) add(packets, bytes uint64) {
	c.packets.Add(packets)
	c.bytes.Add(bytes)
}

func (c *traffic) load() Traffic { return Traffic{Packets: c.packets.Load(), Bytes: c.bytes.Load()} }

func (c *traffic) reset() {
	c.packets.Store(0)
	c.bytes.Store(0)
}

// Traffic is a count of packets and of their bytes.
type Traffic struct {
	Packets, Bytes uint64
}
