package cpgsvc

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cpg"
)

// TestBigFragmentsIntact: three nodes send 2 MiB messages as libcpg does (fragments of
// MaxAtomicMsgSize) at the same time; every member gets every fragment intact and in order.
func TestBigFragmentsIntact(t *testing.T) {
	s := newSim(t, 1, 3)
	for _, nd := range s.nodes {
		s.start(nd)
	}
	waitUntil(t, "the ring", 20*time.Second, s.settled)
	for _, nd := range s.nodes {
		s.newClient(nd, "big")
	}
	want := map[string][]byte{}
	done := make(chan struct{})
	for i, c := range s.clients {
		msg := make([]byte, 2<<20)
		for j := range msg {
			msg[j] = byte(j*7 + i*13 + j>>12)
		}
		want[fmt.Sprintf("%d:%d", c.node.id, c.pid)] = msg
		go func() {
			defer func() { done <- struct{}{} }()
			for off := 0; off < len(msg); off += cpg.MaxAtomicMsgSize {
				end := min(off+cpg.MaxAtomicMsgSize, len(msg))
				typ := cpg.PartialContinued
				if off == 0 {
					typ = cpg.PartialFirst
				} else if end == len(msg) {
					typ = cpg.PartialLast
				}
				c.svc.request(c.c, cpg.ReqPartialMcast, cpg.PartialMcastRequest{Guarantee: cpg.TypeAgreed, MsgLen: uint32(len(msg)), Type: typ, Frag: msg[off:end]}.Encode())
			}
		}()
	}
	for range s.clients {
		<-done
	}
	waitUntil(t, "every message everywhere", 30*time.Second, func() bool {
		for _, c := range s.clients {
			if len(c.rec.partials()) < 3 {
				return false
			}
		}
		return true
	})
	for _, c := range s.clients {
		for from, got := range c.rec.partials() {
			if !bytes.Equal(got, want[from]) {
				i := 0
				for i < len(got) && got[i] == want[from][i] {
					i++
				}
				t.Errorf("node %d got a different message from %s (%d bytes): first difference at %d (%x vs %x)", c.node.id, from, len(got), i, got[i:i+8], want[from][i:i+8])
			}
		}
	}
}
