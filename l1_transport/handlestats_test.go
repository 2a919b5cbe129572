package transport

import (
	"bytes"
	"testing"
	"time"
)

func TestTimingSamples(t *testing.T) {
	var a, b timing
	var none timingSum
	none.add(&a)
	if got := none.result(); got != (Timing{}) {
		t.Fatalf("no samples: %+v", got)
	}
	for _, d := range []time.Duration{30, 10, 20} {
		a.add(d)
	}
	b.add(5)
	b.add(-1) // a clock that went backwards counts as zero
	var sum timingSum
	sum.add(&a)
	sum.add(&b)
	if got, want := sum.result(), (Timing{Samples: 5, Min: 0, Max: 30, Mean: 13}); got != want {
		t.Fatalf("merged %+v, want %+v", got, want)
	}
	a.reset()
	var again timingSum
	again.add(&a)
	if again.result() != (Timing{}) {
		t.Fatal("reset kept samples")
	}
	for n, want := range map[uint64]bool{0: true, 1: false, 15: false, 16: true, 32: true} {
		if sampled(n) != want {
			t.Errorf("sampled(%d) = %v", n, !want)
		}
	}
}

// sendAndWait sends msgs from node 1 to node to and waits until they are delivered.
func sendAndWait(t *testing.T, c *cluster, to NodeID, msgs [][]byte) {
	t.Helper()
	before := c.boxes[to-1].count(1)
	for _, m := range msgs {
		if err := c.nodes[0].Send([]Packet{{To: to, Data: m}}); err != nil {
			t.Fatal(err)
		}
	}
	c.boxes[to-1].wait(t, 1, before+len(msgs))
}

// TestHandleStats: compression and encryption are counted as knet counts them (per
// message for compression, per packet for encryption, data packets only for the
// overhead, the times and the receive side), and times are sampled one in 16.
func TestHandleStats(t *testing.T) {
	c := newCluster(t, 2, 1, func(_ int, cfg *Config) {
		cfg.Compress = CompressionConfig{Model: "zlib", ThresholdBytes: 100}
	})
	waitFor(t, "link up", func() bool { return c.nodes[0].LinkUp(2, 0) })
	text := bytes.Repeat([]byte("totem frame with a lot of repetition "), 20) // 740 bytes
	const n = 20
	var msgs [][]byte
	for range n {
		msgs = append(msgs, text)
	}
	msgs = append(msgs, []byte("short"), randomBytes(500)) // below the threshold; incompressible
	sendAndWait(t, c, 2, msgs)

	tx, rx := c.nodes[0].Stats().Handle, c.nodes[1].Stats().Handle
	if tx.TxCompressedPackets != n+1 || tx.TxUncompressedPackets != 2 {
		t.Errorf("compressed %d (want %d: the incompressible one too), uncompressed %d (want 2)", tx.TxCompressedPackets, n+1, tx.TxUncompressedPackets)
	}
	if tx.TxCompressedOriginalBytes != n*uint64(len(text))+500 || tx.TxCompressedSizeBytes >= tx.TxCompressedOriginalBytes/2 {
		t.Errorf("compressed %d bytes into %d", tx.TxCompressedOriginalBytes, tx.TxCompressedSizeBytes)
	}
	if tx.TxCompressTime.Samples != 2 || tx.TxCompressTime.Min > tx.TxCompressTime.Mean || tx.TxCompressTime.Mean > tx.TxCompressTime.Max {
		t.Errorf("compress time %+v: want 2 samples (messages 1 and 17) in order", tx.TxCompressTime)
	}
	if rx.RxCompressedPackets != n || rx.RxCompressedOriginalBytes != n*uint64(len(text)) || rx.RxCompressedSizeBytes >= rx.RxCompressedOriginalBytes {
		t.Errorf("received %d compressed messages, %d bytes from %d", rx.RxCompressedPackets, rx.RxCompressedOriginalBytes, rx.RxCompressedSizeBytes)
	}
	if rx.RxCompressTime.Samples != 2 {
		t.Errorf("decompress time %+v", rx.RxCompressTime)
	}
	// Every data packet is sealed once (one link, no fragments), with the 16-byte tag as
	// overhead; pings and pongs are sealed and counted too, but not timed.
	if tx.TxCryptPackets <= n+2 || tx.TxCryptByteOverhead != (n+2)*tagBytes {
		t.Errorf("sealed %d packets (want %d data and the heartbeats), overhead %d", tx.TxCryptPackets, n+2, tx.TxCryptByteOverhead)
	}
	if tx.TxCryptTime.Samples != 2 || rx.RxCryptPackets != n+2 || rx.RxCryptTime.Samples != 2 {
		t.Errorf("crypt times: tx %+v, rx %d packets %+v", tx.TxCryptTime, rx.RxCryptPackets, rx.RxCryptTime)
	}

	c.nodes[0].ClearStats()
	if h := c.nodes[0].Stats().Handle; h.TxCompressedPackets != 0 || h.TxCryptPackets != 0 || h.TxCryptTime.Samples != 0 || h.TxUncompressedPackets != 0 {
		t.Errorf("after ClearStats: %+v", h)
	}
}

// TestHandleStatsWithoutModelOrCrypto: knet counts no compression without a model and
// no encryption without crypto.
func TestHandleStatsWithoutModelOrCrypto(t *testing.T) {
	c := newCluster(t, 2, 1, func(_ int, cfg *Config) { cfg.Crypto = CryptoConfig{Cipher: "none", Hash: "none"} })
	sendAndWait(t, c, 2, [][]byte{randomBytes(300), randomBytes(300)})
	if h := c.nodes[0].Stats().Handle; h != (HandleStats{}) {
		t.Errorf("handle stats %+v", h)
	}
	if h := c.nodes[1].Stats().Handle; h != (HandleStats{}) {
		t.Errorf("handle stats %+v", h)
	}
}

// TestLinkTrafficByKind: link counters split data, pings, pongs and probes, and their
// sums are the totals; the loopback link counts what was broadcast.
func TestLinkTrafficByKind(t *testing.T) {
	c := newCluster(t, 2, 2, nil)
	waitFor(t, "links up", func() bool { return c.nodes[0].LinkUp(2, 0) && c.nodes[1].LinkUp(1, 0) })
	before := c.nodes[0].Stats().Links[0].TxData.Packets
	for range 5 {
		if err := c.nodes[0].Send([]Packet{{To: Broadcast, Data: []byte("to all")}}); err != nil {
			t.Fatal(err)
		}
	}
	c.boxes[1].wait(t, 1, 5)
	st := c.nodes[0].Stats()
	l0 := st.Links[0]
	if l0.TxData.Packets-before != 5 || l0.TxPing.Packets == 0 || l0.RxPong.Packets == 0 || l0.RxPing.Packets == 0 || l0.TxPong.Packets == 0 {
		t.Errorf("link 0 to node 2: %+v", l0)
	}
	for _, ls := range st.Links {
		var p, b uint64
		for _, c := range []Traffic{ls.TxData, ls.TxPing, ls.TxPong, ls.TxPMTU} {
			p, b = p+c.Packets, b+c.Bytes
		}
		if p != ls.TxPackets || b != ls.TxBytes {
			t.Errorf("link %d: kinds add to %d/%d, totals %d/%d", ls.Link, p, b, ls.TxPackets, ls.TxBytes)
		}
	}
	if len(st.Loopback) != 2 || st.Loopback[0].Node != 1 || st.Loopback[0].Link != 0 || st.Loopback[1].Link != 1 {
		t.Fatalf("loopback links %+v", st.Loopback)
	}
	lb := st.Loopback[0]
	if !lb.Connected || lb.MTUBytes != LoopbackMTUBytes || lb.TxData != (Traffic{Packets: 5, Bytes: 5 * 6}) || st.Loopback[1].TxData != (Traffic{}) {
		t.Errorf("loopback %+v, second %+v", lb, st.Loopback[1])
	}
	// A unicast to another node is not this node's.
	sendAndWait(t, c, 2, [][]byte{[]byte("only 2")})
	if got := c.nodes[0].Stats().Loopback[0].TxData.Packets; got != 5 {
		t.Errorf("loopback counted a unicast: %d", got)
	}
	c.nodes[0].ClearStats()
	if ls := c.nodes[0].Stats().Links[0]; ls.TxData.Packets != 0 || ls.UpCount != 0 {
		t.Errorf("after ClearStats: %+v", ls)
	}
}

// TestPathMTUProbesAreCountedAsPMTU: probes (padded pings) and their answers count as
// path-MTU traffic on both sides.
func TestPathMTUProbesAreCountedAsPMTU(t *testing.T) {
	c := newCluster(t, 2, 1, nil)
	waitFor(t, "a probe sent, received and answered", func() bool {
		sent, peer := c.nodes[0].Stats().Links[0], c.nodes[1].Stats().Links[0]
		return sent.TxPMTU.Bytes >= minPathMTUBytes && peer.RxPMTU.Bytes >= minPathMTUBytes && peer.TxPMTU.Packets > 0
	})
}
