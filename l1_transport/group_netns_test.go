package transport

import (
	"testing"
	"time"
)

// TestNetnsGroupBroadcastIsOnePacket: three transports started from corosync keys in
// network namespaces. Under transport: udp one broadcast costs the sender one datagram on
// the wire (one per fragment), sent to the cluster's default group; under udpu it costs
// one per peer. Heartbeats are slowed down to keep them out of the count.
func TestNetnsGroupBroadcastIsOnePacket(t *testing.T) {
	for _, tc := range []struct {
		transport string
		perPeer   bool
	}{{"udp", false}, {"udpu", true}} {
		t.Run(tc.transport, func(t *testing.T) {
			nl := newNetLab(t, 3, 1)
			keyFile := writeKey(t)
			keys := keysFor(3, "udp")
			keys["totem.transport"] = tc.transport
			keys["totem.cluster_name"] = "netns"
			keys["totem.interface.0.knet_ping_interval"] = "100000"
			var trs []*Transport
			var boxes []*inbox
			for i := 1; i <= 3; i++ {
				tr, box := nl.startFromKeys(t, keys, keyFile, i)
				trs, boxes = append(trs, tr), append(boxes, box)
			}
			groups := trs[0].Stats().Groups
			if tc.perPeer != (len(groups) == 0) {
				t.Fatalf("group links %+v under transport %s", groups, tc.transport)
			}
			if !tc.perPeer && groups[0].Addr.String() != DefaultGroup("netns", 0, false).String()+":5405" {
				t.Fatalf("group %s, want the default of cluster netns", groups[0].Addr)
			}
			exchangeAll(t, trs, boxes, 1, func(int) int { return 100 })
			sender := trs[0].links[0].l
			before, controlBefore := sender.Stats().TxPackets, controlSent(trs[0])
			const k = 100
			for i := 0; i < k; i++ {
				if err := trs[0].Send([]Packet{{To: Broadcast, Data: make([]byte, 200)}}); err != nil {
					t.Fatal(err)
				}
			}
			// One large message: the veth's 1500-byte MTU cuts it into pieces.
			trs[0].Send([]Packet{{To: Broadcast, Data: make([]byte, 5000)}})
			for _, box := range boxes[1:] {
				if got := box.wait(t, 1, 1+k+1); len(got[k+1]) != 5000 {
					t.Fatalf("large broadcast arrived as %d bytes", len(got[k+1]))
				}
			}
			piece := 1500 - 28 - headerBytes - tagBytes - fragmentHeaderLen
			pieces := (5000 + piece - 1) / piece
			want := uint64(k + pieces)
			if tc.perPeer {
				want *= 2
			}
			// Heartbeats and path-MTU probes may go out meanwhile; they are not broadcasts. The
			// link counts a datagram when it sends it, the transport counts its kind just
			// after, so a control packet can be in one count and not yet in the other: read
			// until both agree between two reads of the control count.
			var got uint64
			for try := 0; try < 50; try++ {
				c1 := controlSent(trs[0])
				tx := sender.Stats().TxPackets
				if c2 := controlSent(trs[0]); c1 == c2 {
					if got = tx - before - (c1 - controlBefore); got == want {
						break
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
			if got != want {
				t.Fatalf("%d datagrams on the wire for %d broadcasts and a %d-piece one, want %d", got, k, pieces, want)
			}
			if !tc.perPeer {
				for i, tr := range trs[1:] {
					if gs := tr.Stats().Groups[0]; gs.RxPackets < want {
						t.Errorf("node %d received %d group packets, want at least %d", i+2, gs.RxPackets, want)
					}
				}
				t.Logf("sender group stats %+v", trs[0].Stats().Groups[0])
			}
		})
	}
}

// controlSent counts the heartbeat and path-MTU packets tr has sent to every peer.
func controlSent(tr *Transport) uint64 {
	var n uint64
	for _, l := range tr.Stats().Links {
		n += l.TxPing.Packets + l.TxPong.Packets + l.TxPMTU.Packets
	}
	return n
}
