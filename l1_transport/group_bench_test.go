package transport

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkNetnsBroadcast3 floods broadcasts of 1,000 bytes from node 1 of a 3-node
// cluster in network namespaces, 64 per Send, under transport udp (group mode) and udpu
// (one unicast per peer), and reports what one broadcast costs on the sender's wire
// (pkts/op), the sender's time per broadcast (ns/op, sending only), and how many reached
// both receivers per second until the last arrived (delivered/s; the VM's two cores run
// the sender and both receivers, so receivers fall behind and drop: loss%).
func BenchmarkNetnsBroadcast3(b *testing.B) {
	for _, tr := range []string{"udpu", "udp"} {
		for _, crypto := range []string{"none", "aes256"} {
			b.Run(tr+"/"+crypto, func(b *testing.B) { benchBroadcast(b, tr, crypto) })
		}
	}
}

func benchBroadcast(b *testing.B, transport, crypto string) {
	nl := newNetLab(b, 3, 1)
	keyFile := writeKey(b)
	keys := keysFor(3, "udp")
	keys["totem.transport"] = transport
	keys["totem.cluster_name"] = "bench"
	keys["totem.crypto_cipher"] = crypto
	if crypto == "none" {
		keys["totem.crypto_hash"] = "none"
	}
	var got [3]atomic.Int64
	var trs []*Transport
	for i := 1; i <= 3; i++ {
		s, err := FromKeys(keys, NodeID(i), nil)
		if err != nil {
			b.Fatal(err)
		}
		s.KeyFile = keyFile
		var tr *Transport
		n := &got[i-1]
		err = nl.lab.Do(nl.names[i-1], func() (err error) {
			tr, err = Start(context.Background(), s, func(NodeID, []byte) { n.Add(1) }, quietLog())
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { tr.Close() })
		trs = append(trs, tr)
	}
	batch := make([]Packet, 64)
	for i := range batch {
		batch[i] = Packet{To: Broadcast, Data: make([]byte, 1000)}
	}
	sender := trs[0].links[0].l
	before := sender.Stats().TxPackets
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; sent += len(batch) {
		if err := trs[0].Send(batch[:min(len(batch), b.N-sent)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// Wait until both receivers have everything, or nothing more arrives for 200 ms.
	last, idle, elapsed := int64(-1), time.Now(), time.Since(start)
	for {
		n := min(got[1].Load(), got[2].Load())
		if n != last {
			last, idle, elapsed = n, time.Now(), time.Since(start)
		}
		if n >= int64(b.N) || time.Since(idle) >= 200*time.Millisecond {
			break
		}
		time.Sleep(time.Millisecond)
	}
	delivered := min(got[1].Load(), got[2].Load())
	b.ReportMetric(float64(sender.Stats().TxPackets-before)/float64(b.N), "pkts/op")
	b.ReportMetric(float64(delivered)/elapsed.Seconds(), "delivered/s")
	b.ReportMetric(100*(1-float64(delivered)/float64(b.N)), "loss%")
}

// BenchmarkSendGroup is BenchmarkSend's broadcast to a 3-node table with the link in
// group mode: one packet per broadcast.
func BenchmarkSendGroup(b *testing.B) {
	for _, crypto := range []string{"none", "aes256"} {
		b.Run("broadcast3/"+crypto, func(b *testing.B) {
			tr, dl := benchSender(b, 3, crypto, func(c *Config) { c.Links[0].Group = testGroup })
			benchSend(b, tr, dl, Broadcast)
		})
	}
}
