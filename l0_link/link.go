package link

import (
	"errors"
	"net/netip"
)

// Message is one datagram in a batch.
//
// For Send, Buf is the payload and Addr the destination; the link does not keep Buf after
// Send returns. For Receive, the link sets Buf to a view of its own memory holding one
// received payload and Addr to its source; the view stays valid only until the next call
// to Receive on the same link, so callers copy or consume it before then.
type Message struct {
	Buf  []byte
	Addr netip.AddrPort
}

// Link sends and receives batches of datagrams on one local address.
//
// Send and Receive may be called concurrently with each other, but each of them from one
// goroutine at a time. Close unblocks a pending Receive, which then returns ErrClosed.
type Link interface {
	// Send transmits msgs in order. A datagram the network refuses (no route, too big) is
	// counted in Stats.TxErrors and skipped so that one bad peer does not hold up the
	// rest; Send returns how many were handed to the network and the first error seen.
	Send(msgs []Message) (int, error)
	// Receive blocks until at least one datagram arrives, fills msgs[:n] and returns n.
	Receive(msgs []Message) (int, error)
	// LocalAddr is the address peers send to.
	LocalAddr() netip.AddrPort
	// MaxPayloadBytes is the largest payload one Message may carry on this link.
	MaxPayloadBytes() int
	// Kind names the implementation: "udp", "xdp", "rdma" or "mem".
	Kind() string
	// Stats returns a snapshot of the link's counters.
	Stats() Stats
	// Close releases the link's resources. It is safe to call more than once.
	Close() error
}

// Stats counts what a link did. Counters only grow.
type Stats struct {
	TxPackets, TxBytes, TxErrors uint64
	RxPackets, RxBytes, RxErrors uint64
	// TxBatches and RxBatches count system calls (or ring kicks) so that the average
	// batch size is TxPackets/TxBatches.
	TxBatches, RxBatches uint64
	// RxDropped counts datagrams the link received but could not hand up (truncated,
	// malformed, or no room).
	RxDropped uint64
}

// ErrClosed is returned by Send and Receive on a closed link.
var ErrClosed = errors.New("link: closed")

// MaxDatagramBytes is the largest UDP payload over IPv4 (65535 − 20 − 8); no link carries
// more in one datagram.
const MaxDatagramBytes = 65507
