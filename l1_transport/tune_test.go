package transport

import (
	"bytes"
	"testing"
	"time"
)

// TestRetuneMovesTrafficToTheNewPreferredLink: passive mode follows knet_link_priority
// changed at run time, and the heartbeat settings take the new values.
func TestRetuneMovesTrafficToTheNewPreferredLink(t *testing.T) {
	c := newCluster(t, 2, 2, nil) // link 0 has priority 2, link 1 priority 1
	waitFor(t, "both links up", func() bool { return c.nodes[0].LinkUp(2, 0) && c.nodes[0].LinkUp(2, 1) })
	txOn := func(link int) uint64 {
		for _, ls := range c.nodes[0].Stats().Links {
			if ls.Node == 2 && ls.Link == link {
				return ls.TxPackets
			}
		}
		t.Fatalf("no link %d", link)
		return 0
	}
	burst := func() {
		for i := 0; i < 200; i++ {
			c.nodes[0].Send([]Packet{{To: 2, Data: []byte{byte(i)}}})
		}
	}
	// Heartbeats use both links, so compare the share of a burst.
	b0, b1 := txOn(0), txOn(1)
	burst()
	if d0, d1 := txOn(0)-b0, txOn(1)-b1; d0 < 200 || d1 >= 100 {
		t.Fatalf("before: link 0 sent %d, link 1 %d", d0, d1)
	}
	s := &Settings{
		Config:     Config{Token: 400 * time.Millisecond, PingTimeout: 5 * time.Second, PongCount: 3},
		Interfaces: []InterfaceSettings{{Number: 0, Priority: 1}, {Number: 1, Priority: 9}},
	}
	if err := c.nodes[0].Retune(s); err != nil {
		t.Fatal(err)
	}
	b0, b1 = txOn(0), txOn(1)
	burst()
	if d0, d1 := txOn(0)-b0, txOn(1)-b1; d1 < 200 || d0 >= 100 {
		t.Fatalf("after: link 0 sent %d, link 1 %d", d0, d1)
	}
	tu := c.nodes[0].tune()
	// The interval derives from the token and the new pong count: 400 ms / (3*2).
	if tu.pingTimeout != 5*time.Second || tu.pongCount != 3 || tu.pingInterval != 400*time.Millisecond/6 || tu.pmtudInterval != DefaultPMTUDInterval {
		t.Fatalf("tuning after Retune: %+v", *tu)
	}
	bad := &Settings{Interfaces: []InterfaceSettings{{Number: 5, Priority: 1}}}
	if err := c.nodes[0].Retune(bad); err == nil {
		t.Fatal("a link that was never opened was accepted")
	}
}

// TestRetuneChangesCompressionAndMTU: a reload's knet_compression_* take effect on the
// next send, and a new knet_mtu caps the path MTU to every peer at once and restarts its
// discovery; large messages still arrive whole either way.
func TestRetuneChangesCompressionAndMTU(t *testing.T) {
	c := newCluster(t, 2, 1, nil)
	waitFor(t, "link up", func() bool { return c.nodes[0].LinkUp(2, 0) })
	tr := c.nodes[0]
	pathMTU := func() int {
		for _, ls := range tr.Stats().Links {
			if ls.Node == 2 && ls.Link == 0 {
				return ls.MTUBytes
			}
		}
		t.Fatal("no link to node 2")
		return 0
	}
	big := bytes.Repeat([]byte("compressible "), 400) // 5,200 bytes
	sent := 0
	send := func() {
		tr.Send([]Packet{{To: 2, Data: big}})
		sent++
		got := c.boxes[1].wait(t, 1, sent)
		if !bytes.Equal(got[sent-1], big) {
			t.Fatalf("message %d arrived changed", sent)
		}
	}
	send()
	if h := tr.Stats().Handle; h.TxCompressedPackets != 0 {
		t.Fatalf("compression off, yet %d packets compressed", h.TxCompressedPackets)
	}
	start := pathMTU()
	if start <= 1000 {
		t.Fatalf("path MTU %d before the cap; the test needs more than 1000", start)
	}

	s := &Settings{
		Config:     Config{Token: 400 * time.Millisecond, Compress: CompressionConfig{Model: "lz4"}},
		Interfaces: []InterfaceSettings{{Number: 0, Priority: 1, MTUBytes: 1000}},
	}
	if err := tr.Retune(s); err != nil {
		t.Fatal(err)
	}
	if got := pathMTU(); got > 1000 {
		t.Fatalf("knet_mtu 1000: path MTU to node 2 still %d", got)
	}
	send()
	if h := tr.Stats().Handle; h.TxCompressedPackets != 1 || h.TxCompressedSizeBytes >= uint64(len(big)) {
		t.Fatalf("lz4 on: %d packets compressed to %d bytes", h.TxCompressedPackets, h.TxCompressedSizeBytes)
	}

	// Lifting the cap lets discovery find the larger path again.
	s.Interfaces[0].MTUBytes = 0
	s.Config.Compress = CompressionConfig{}
	if err := tr.Retune(s); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "path MTU back above the cap", func() bool { return pathMTU() > 1000 })
	send()
	if h := tr.Stats().Handle; h.TxCompressedPackets != 1 {
		t.Fatalf("compression off again, yet %d packets compressed in all", h.TxCompressedPackets)
	}
	s.Config.Compress.Model = "brotli"
	if err := tr.Retune(s); err == nil {
		t.Fatal("an unknown compression model was accepted")
	}
}
