package main

import (
	"fmt"
	"math"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	transport "github.com/corosync-go/corosync/l1_transport"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// knet adds stats.knet.handle.* and stats.knet.node<N>.link<M>.* for every link, this
// node's loopback links included, as corosync 3.1.7 shows them.
func (s *statsSource) knet(out map[string]icmap.Value) {
	st := s.d.tr.Stats()
	knetHandle(out, st.Handle)
	for _, ls := range st.Loopback {
		knetLink(out, ls)
	}
	for _, ls := range st.Links {
		knetLink(out, ls)
	}
}

// knetHandle adds knet's handle statistics. Times are in nanoseconds, as libknet 1.25
// reports them (its header says microseconds; 3.1.7 shows what it measures); a minimum
// with no sample is UINT64_MAX, knet's initial value.
func knetHandle(out map[string]icmap.Value, h transport.HandleStats) {
	p := "stats.knet.handle."
	u := func(k string, v uint64) { out[p+k] = cmap.Uint64(v) }
	times := func(k string, t transport.Timing) {
		lo := uint64(math.MaxUint64)
		if t.Samples > 0 {
			lo = uint64(t.Min.Nanoseconds())
		}
		u(k+"_min", lo)
		u(k+"_max", uint64(t.Max.Nanoseconds()))
		u(k+"_ave", uint64(t.Mean.Nanoseconds()))
	}
	u("tx_uncompressed_packets", h.TxUncompressedPackets)
	u("tx_compressed_packets", h.TxCompressedPackets)
	u("tx_compressed_original_bytes", h.TxCompressedOriginalBytes)
	u("tx_compressed_size_bytes", h.TxCompressedSizeBytes)
	times("tx_compress_time", h.TxCompressTime)
	u("rx_compressed_packets", h.RxCompressedPackets)
	u("rx_compressed_original_bytes", h.RxCompressedOriginalBytes)
	u("rx_compressed_size_bytes", h.RxCompressedSizeBytes)
	times("rx_compress_time", h.RxCompressTime)
	u("tx_crypt_packets", h.TxCryptPackets)
	u("tx_crypt_byte_overhead", h.TxCryptByteOverhead)
	times("tx_crypt_time", h.TxCryptTime)
	u("rx_crypt_packets", h.RxCryptPackets)
	times("rx_crypt_time", h.RxCryptTime)
}

// knetLink adds one link's keys, with 3.1.7's names and types. Retries are 0: knet
// retries a send that met a full socket, our links wait for room in Go's poller, so there
// is never a retry to count. rx_total_retries is knet's tx_total_retries under a wrong
// name (exec/stats.c), so 0 too. latency_min is UINT32_MAX until a sample, as knet's.
// rx_dropped is ours (packets refused on this link).
func knetLink(out map[string]icmap.Value, ls transport.LinkStats) {
	p := fmt.Sprintf("stats.knet.node%d.link%d.", ls.Node, ls.Link)
	u64 := func(k string, v uint64) { out[p+k] = cmap.Uint64(v) }
	u32 := func(k string, v uint64) { out[p+k] = cmap.Uint32(uint32(min(v, math.MaxUint32))) }
	us := func(v time.Duration) uint64 { return uint64(v / time.Microsecond) }
	connected := uint8(0)
	if ls.Connected {
		connected = 1
	}
	out[p+"enabled"] = cmap.Uint8(1)
	out[p+"connected"] = cmap.Uint8(connected)
	u32("mtu", uint64(ls.MTUBytes))
	for _, c := range []struct {
		kind   string
		tx, rx transport.Traffic
		errs   uint64
	}{
		{"data", ls.TxData, ls.RxData, ls.TxDataErrors},
		{"ping", ls.TxPing, ls.RxPing, ls.TxPingErrors},
		{"pong", ls.TxPong, ls.RxPong, ls.TxPongErrors},
		{"pmtu", ls.TxPMTU, ls.RxPMTU, ls.TxPMTUErrors},
	} {
		u64("tx_"+c.kind+"_packets", c.tx.Packets)
		u64("rx_"+c.kind+"_packets", c.rx.Packets)
		u64("tx_"+c.kind+"_bytes", c.tx.Bytes)
		u64("rx_"+c.kind+"_bytes", c.rx.Bytes)
		u32("tx_"+c.kind+"_errors", c.errs)
		u32("tx_"+c.kind+"_retries", 0)
	}
	u64("tx_total_packets", ls.TxPackets)
	u64("rx_total_packets", ls.RxPackets)
	u64("tx_total_bytes", ls.TxBytes)
	u64("rx_total_bytes", ls.RxBytes)
	u64("tx_total_errors", ls.TxErrors)
	u64("rx_total_retries", 0)
	u64("rx_dropped", ls.RxDropped)
	latMin := uint64(math.MaxUint32)
	if ls.LatencySamples > 0 {
		latMin = us(ls.LatencyMin)
	}
	u32("latency_min", latMin)
	u32("latency_max", us(ls.LatencyMax))
	u32("latency_ave", us(ls.LatencyAvg))
	u32("latency_samples", ls.LatencySamples)
	u32("down_count", ls.DownCount)
	u32("up_count", ls.UpCount)
}
