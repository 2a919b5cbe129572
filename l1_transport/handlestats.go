package transport

import (
	"sync/atomic"
	"time"
)

// timingSampleEvery is how often a crypt or compression is timed: one in 16, starting
// with the first. Reading the clock twice costs ~60 ns here, 12% of sealing a 1,400-byte
// packet with AES-GCM and 40% of a 100-byte one; sampling keeps it under 1%.
const timingSampleEvery = 16

// sampled reports whether the n-th event (counting from 0) is timed.
func sampled(n uint64) bool { return n%timingSampleEvery == 0 }

// timing accumulates sampled durations without a lock. minInv holds the bitwise
// complement of the minimum so that its zero value means "no samples".
type timing struct {
	n, sum, max, minInv atomic.Uint64
}

func (t *timing) add(d time.Duration) {
	ns := uint64(max(d, 0))
	t.n.Add(1)
	t.sum.Add(ns)
	for inv := ^ns; ; {
		cur := t.minInv.Load()
		if inv <= cur || t.minInv.CompareAndSwap(cur, inv) {
			break
		}
	}
	for {
		cur := t.max.Load()
		if ns <= cur || t.max.CompareAndSwap(cur, ns) {
			break
		}
	}
}

func (t *timing) reset() {
	t.n.Store(0)
	t.sum.Store(0)
	t.max.Store(0)
	t.minInv.Store(0)
}

// Timing summarises sampled durations of one operation.
type Timing struct {
	// Samples is how many were timed; Min, Max and Mean are meaningful only when it is
	// not zero.
	Samples        uint64
	Min, Max, Mean time.Duration
}

// timingSum adds up several timings' samples.
type timingSum struct {
	n, sum uint64
	lo, hi time.Duration
}

func (a *timingSum) add(t *timing) {
	n := t.n.Load()
	if n == 0 {
		return
	}
	lo, hi := time.Duration(^t.minInv.Load()), time.Duration(t.max.Load())
	if a.n == 0 || lo < a.lo {
		a.lo = lo
	}
	a.hi = max(a.hi, hi)
	a.n += n
	a.sum += t.sum.Load()
}

func (a timingSum) result() Timing {
	if a.n == 0 {
		return Timing{}
	}
	return Timing{Samples: a.n, Min: a.lo, Max: a.hi, Mean: time.Duration(a.sum / a.n)}
}

// txHandleCounters are knet's handle statistics of the send side. They change only under
// the send lock, which Stats takes to read them: plain fields cost the data path nothing.
type txHandleCounters struct {
	uncompressed, compressed            uint64
	compressedIn, compressedOut         uint64
	compressTime                        timing
	cryptPackets, cryptData, cryptBytes uint64
	cryptTime                           timing
}

// rxHandleCounters are the receive side's, one set per receive goroutine so that links
// do not share cache lines. Received data packets that were decrypted are counted per
// peer link (peerLink.rxCrypt), beside the link's own counters, so they are not here.
type rxHandleCounters struct {
	compressed, compressedIn, compressedOut atomic.Uint64
	compressTime                            timing
	cryptTime                               timing
}

// HandleStats are knet's handle statistics (stats.knet.handle.*): compression and
// encryption of the whole transport. As in knet, compression is counted once per message
// and only when a model is configured; encryption is counted per packet sent (data, ping
// and pong), its overhead and time for data packets only, and on receipt for data
// packets only. Times are sampled (one operation in timingSampleEvery).
type HandleStats struct {
	// TxUncompressedPackets counts messages sent without compression although a model is
	// configured (below the threshold, or compression did not make them smaller).
	TxUncompressedPackets uint64
	// TxCompressedPackets counts messages that were compressed (whether or not the result
	// was smaller and used), with their bytes before and after.
	TxCompressedPackets, TxCompressedOriginalBytes, TxCompressedSizeBytes uint64
	TxCompressTime                                                        Timing
	// RxCompressedPackets counts compressed messages received, with their bytes after and
	// before decompression.
	RxCompressedPackets, RxCompressedOriginalBytes, RxCompressedSizeBytes uint64
	RxCompressTime                                                        Timing
	// TxCryptPackets counts protected packets sent; TxCryptByteOverhead the bytes
	// protection added to data packets.
	TxCryptPackets, TxCryptByteOverhead uint64
	TxCryptTime                         Timing
	// RxCryptPackets counts data packets that passed authentication with a key (under
	// either slot during a crypto change; clear packets do not count).
	RxCryptPackets uint64
	RxCryptTime    Timing
}

// handleStats gathers the send side's and every receive goroutine's counters;
// RxCryptPackets is added from the peer links' counts by Stats.
func (t *Transport) handleStats() HandleStats {
	t.txMu.Lock()
	tx := &t.txHandle
	h := HandleStats{
		TxUncompressedPackets: tx.uncompressed,
		TxCompressedPackets:   tx.compressed, TxCompressedOriginalBytes: tx.compressedIn,
		TxCompressedSizeBytes: tx.compressedOut,
		TxCryptPackets:        tx.cryptPackets, TxCryptByteOverhead: tx.cryptBytes,
	}
	var txComp, txCrypt, rxComp, rxCrypt timingSum
	txComp.add(&tx.compressTime)
	txCrypt.add(&tx.cryptTime)
	t.txMu.Unlock()
	for _, rx := range t.rxHandle {
		if rx == nil {
			continue
		}
		h.RxCompressedPackets += rx.compressed.Load()
		h.RxCompressedOriginalBytes += rx.compressedIn.Load()
		h.RxCompressedSizeBytes += rx.compressedOut.Load()
		rxComp.add(&rx.compressTime)
		rxCrypt.add(&rx.cryptTime)
	}
	h.TxCompressTime, h.TxCryptTime = txComp.result(), txCrypt.result()
	h.RxCompressTime, h.RxCryptTime = rxComp.result(), rxCrypt.result()
	return h
}

// clearHandle zeroes the handle counters (knet_handle_clear_stats).
func (t *Transport) clearHandle() {
	t.txMu.Lock()
	t.txHandle = txHandleCounters{}
	t.txMu.Unlock()
	for _, rx := range t.rxHandle {
		if rx == nil {
			continue
		}
		for _, c := range []*atomic.Uint64{&rx.compressed, &rx.compressedIn, &rx.compressedOut} {
			c.Store(0)
		}
		rx.compressTime.reset()
		rx.cryptTime.reset()
	}
}
