package transport

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/mem"
)

// testGroup is the group address of the mem tests' group links.
var testGroup = netip.MustParseAddrPort("239.192.0.1:5405")

// wire counts what the group links of a mem network put on the wire, by kind.
type wire struct {
	mu          sync.Mutex
	groupData   map[NodeID]int // data packets sent to the group, by sender
	unicastData map[NodeID]int // data packets sent to one node, by sender
	captured    [][]byte       // the first group packets, for replays
}

func newWire() *wire { return &wire{groupData: map[NodeID]int{}, unicastData: map[NodeID]int{}} }

func (w *wire) counts(id NodeID) (group, unicast int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.groupData[id], w.unicastData[id]
}

// groupLink makes a mem link behave like a udp link in group mode: a datagram to the
// group reaches every other member (no loopback), anything else goes as before.
type groupLink struct {
	*mem.Link
	net     *mem.Network
	members []netip.AddrPort
	wire    *wire
}

func (l *groupLink) Send(msgs []link.Message) (int, error) {
	sent := 0
	var firstErr error
	for _, m := range msgs {
		var h header
		isData := decodeHeader(m.Buf, &h) == nil && h.typ == typeData
		if m.Addr != testGroup {
			if isData {
				l.wire.mu.Lock()
				l.wire.unicastData[h.src]++
				l.wire.mu.Unlock()
			}
			n, err := l.Link.Send([]link.Message{m})
			sent += n
			if err != nil && firstErr == nil {
				firstErr = err
			}
			continue
		}
		l.wire.mu.Lock()
		if isData {
			l.wire.groupData[h.src]++
		}
		if len(l.wire.captured) < 20 {
			l.wire.captured = append(l.wire.captured, append([]byte(nil), m.Buf...))
		}
		l.wire.mu.Unlock()
		for _, to := range l.members {
			if to != l.LocalAddr() {
				l.net.Inject(l.LocalAddr(), to, m.Buf)
			}
		}
		sent++
	}
	return sent, firstErr
}

// newGroupCluster is newCluster with link 0 in group mode. noGroupLink lists nodes that
// have no address on link 0 (they need a second link to be reached); tweak, if not nil,
// adjusts every node's configuration last.
func newGroupCluster(t *testing.T, n, links int, noGroupLink map[int]bool, tweak func(node int, c *Config)) (*cluster, *wire) {
	t.Helper()
	w := newWire()
	net := mem.NewNetwork(1)
	var members []netip.AddrPort
	for i := 1; i <= n; i++ {
		if !noGroupLink[i] {
			members = append(members, addrOf(i, 0))
		}
	}
	c := newClusterOn(t, net, n, links, func(node int, cfg *Config) {
		cfg.Nodes = withoutLink0(cfg.Nodes, noGroupLink)
		if noGroupLink[node] {
			cfg.Links[0].Link.Close()
			cfg.Links = cfg.Links[1:]
		} else {
			cfg.Links[0].Link = &groupLink{Link: cfg.Links[0].Link.(*mem.Link), net: net, members: members, wire: w}
			cfg.Links[0].Group = testGroup
		}
		if tweak != nil {
			tweak(node, cfg)
		}
	})
	return c, w
}

func withoutLink0(nodes []Node, drop map[int]bool) []Node {
	out := append([]Node(nil), nodes...)
	for i := range out {
		if drop[int(out[i].ID)] {
			out[i].Addrs[0] = netip.AddrPort{}
		}
	}
	return out
}

// TestGroupBroadcastGoesOnceToTheGroup: each broadcast is one data packet on the wire (or
// one per fragment), every peer delivers every one in order, and packets to one node stay
// unicast.
func TestGroupBroadcastGoesOnceToTheGroup(t *testing.T) {
	for _, cc := range []CryptoConfig{{Cipher: "aes256", Key: testKey(1)}, {Cipher: "none", Hash: "sha256", Key: testKey(1)}, {Cipher: "none", Hash: "none"}} {
		t.Run(cc.Cipher+"-"+cc.Hash, func(t *testing.T) {
			c, w := newGroupCluster(t, 3, 1, nil, func(_ int, cfg *Config) { cfg.Crypto = cc })
			var sent [][]byte
			for i := 0; i < 40; i++ {
				p := randomBytes(10 + i*20)
				sent = append(sent, p)
				if err := c.nodes[0].Send([]Packet{{To: Broadcast, Data: p}}); err != nil {
					t.Fatal(err)
				}
			}
			for _, box := range c.boxes[1:] {
				got := box.wait(t, 1, len(sent))
				for i := range sent {
					if !bytes.Equal(got[i], sent[i]) {
						t.Fatalf("packet %d differs", i)
					}
				}
			}
			if g, u := w.counts(1); g != len(sent) || u != 0 {
				t.Fatalf("node 1 put %d group and %d unicast data packets on the wire for %d broadcasts", g, u, len(sent))
			}
			st := c.nodes[0].Stats()
			if len(st.Groups) != 1 || st.Groups[0].TxPackets != uint64(len(sent)) || st.Groups[0].Addr != testGroup {
				t.Fatalf("group stats %+v", st.Groups)
			}
			for _, tr := range c.nodes[1:] {
				if gs := tr.Stats().Groups[0]; gs.RxPackets != uint64(len(sent)) {
					t.Fatalf("receiver group stats %+v", gs)
				}
			}
			c.nodes[1].Send([]Packet{{To: 3, Data: []byte("just for 3")}})
			if got := c.boxes[2].wait(t, 2, 1); string(got[0]) != "just for 3" {
				t.Fatalf("unicast got %q", got[0])
			}
			if g, u := w.counts(2); g != 0 || u != 1 {
				t.Fatalf("a packet to one node went as %d group and %d unicast packets", g, u)
			}
		})
	}
}

func TestGroupFragments(t *testing.T) {
	c, w := newGroupCluster(t, 3, 1, nil, func(_ int, cfg *Config) { cfg.Links[0].MTUBytes = 1400 })
	big := randomBytes(20000)
	if err := c.nodes[0].Send([]Packet{{To: Broadcast, Data: big}, {To: Broadcast, Data: []byte("after")}}); err != nil {
		t.Fatal(err)
	}
	for _, box := range c.boxes[1:] {
		got := box.wait(t, 1, 2)
		if !bytes.Equal(got[0], big) || string(got[1]) != "after" {
			t.Fatal("fragmented broadcast not rebuilt, or out of order")
		}
	}
	// Pieces of 1400 bytes less the header, the AES-GCM tag and the fragment header.
	piece := 1400 - headerBytes - tagBytes - fragmentHeaderLen
	pieces := (len(big) + piece - 1) / piece
	if g, u := w.counts(1); g != pieces+1 || u != 0 {
		t.Fatalf("%d group and %d unicast packets for a %d-piece message and a small one", g, u, pieces)
	}
}

// TestGroupReachesPeersWithoutTheGroupLinkByUnicast: node 3 has no address on the group
// link, so a broadcast goes once to the group (node 2) and once to node 3 on link 1.
func TestGroupReachesPeersWithoutTheGroupLinkByUnicast(t *testing.T) {
	c, w := newGroupCluster(t, 3, 2, map[int]bool{3: true}, nil)
	if err := c.nodes[0].Send([]Packet{{To: Broadcast, Data: []byte("everyone")}}); err != nil {
		t.Fatal(err)
	}
	for _, box := range c.boxes[1:] {
		if got := box.wait(t, 1, 1); string(got[0]) != "everyone" {
			t.Fatalf("got %q", got[0])
		}
	}
	if g, u := w.counts(1); g != 1 {
		t.Fatalf("%d group data packets, want 1 (and %d unicast)", g, u)
	}
	ls := c.nodes[0].Stats().Links
	for _, l := range ls {
		if l.Node == 3 && l.Link == 1 && l.TxPackets == 0 {
			t.Fatal("nothing went to node 3 on link 1")
		}
	}
	// Node 3 broadcasts with no group link of its own: unicast to each.
	c.nodes[2].Send([]Packet{{To: Broadcast, Data: []byte("from 3")}})
	for _, box := range c.boxes[:2] {
		if got := box.wait(t, 3, 1); string(got[0]) != "from 3" {
			t.Fatalf("got %q", got[0])
		}
	}
}

// TestGroupReplayAndSequenceSpaces drives the receive path with packets built by a real
// sender: group and unicast packets with the same sequence number are both fresh (their
// spaces are separate), a second copy of either is a replay, our own group packets are
// ignored without a drop, and group packets are refused on links not in group mode and
// when they are not data.
func TestGroupReplayAndSequenceSpaces(t *testing.T) {
	for _, crypto := range []bool{false, true} {
		t.Run(fmt.Sprint("crypto=", crypto), func(t *testing.T) {
			sender := fuzzTransport(t, 1, crypto, true)
			rx := fuzzTransport(t, 2, crypto, true)
			plainRx := fuzzTransport(t, 2, crypto, false)
			scratch := rx.newRxScratch(rx.links[0])
			var got [][]byte
			rx.handler = func(_ NodeID, p []byte) { got = append(got, append([]byte(nil), p...)) }
			var gseq, useq uint64
			group := sender.build(Broadcast, &gseq, typeData, 0, 0, nil, []byte("to all"))
			group = append([]byte(nil), group...)
			uni := append([]byte(nil), sender.build(2, &useq, typeData, 0, 0, nil, []byte("to 2"))...)
			if gseq != 1 || useq != 1 {
				t.Fatalf("sequence numbers %d %d", gseq, useq)
			}
			deliver := func(tr *Transport, p []byte, from netip.AddrPort) {
				tr.handlePacket(tr.links[0], link.Message{Buf: p, Addr: from}, scratch)
			}
			deliver(rx, group, addrOf(1, 0))
			deliver(rx, uni, addrOf(1, 0))
			deliver(rx, group, addrOf(1, 0))
			deliver(rx, uni, addrOf(1, 0))
			if len(got) != 2 || string(got[0]) != "to all" || string(got[1]) != "to 2" {
				t.Fatalf("delivered %q, want the group and the unicast packet once each", got)
			}
			if d := rx.Stats().Drops["replayed"]; d != 2 {
				t.Fatalf("replayed drops %d, want 2", d)
			}
			// Our own group packet, looped back: ignored, counted, not a drop.
			var own uint64
			mine := rx.build(Broadcast, &own, typeData, 0, 0, nil, []byte("mine"))
			deliver(rx, append([]byte(nil), mine...), addrOf(2, 0))
			if gs := rx.Stats().Groups[0]; gs.RxOwn != 1 || len(got) != 2 {
				t.Fatalf("own packet: %+v, delivered %d", gs, len(got))
			}
			// A group ping and a group packet on a link without a group are misdirected.
			before := rx.Stats().Drops["misdirected"]
			ping := append([]byte(nil), sender.build(Broadcast, &gseq, typePing, 0, 0, nil, make([]byte, 12))...)
			deliver(rx, ping, addrOf(1, 0))
			plainRx.handler = rx.handler
			deliver(plainRx, group, addrOf(1, 0))
			if d := rx.Stats().Drops["misdirected"] - before + plainRx.Stats().Drops["misdirected"]; d != 2 || len(got) != 2 {
				t.Fatalf("misdirected drops %d, delivered %d", d, len(got))
			}
			// A restarted sender's group packets start a new window.
			again := fuzzTransport(t, 1, crypto, true)
			again.session = sender.session + 1
			if again.txSealer != nil {
				again.txSealer, _ = again.crypto.Load().suites[1].forSession(1, again.session)
			}
			var seq2 uint64
			deliver(rx, append([]byte(nil), again.build(Broadcast, &seq2, typeData, 0, 0, nil, []byte("reborn"))...), addrOf(1, 0))
			if len(got) != 3 || string(got[2]) != "reborn" {
				t.Fatalf("after a restart delivered %q", got)
			}
		})
	}
}

// fuzzTransport is a stopped transport for node id of a two-node table whose receive
// path tests drive directly; group puts link 0 in group mode.
func fuzzTransport(tb testing.TB, id NodeID, crypto, group bool) *Transport {
	l, _ := mem.NewNetwork(1).Listen(addrOf(int(id), 0))
	cfg := Config{LocalNode: id, Links: []LinkSpec{{Number: 0, Link: l}},
		Nodes: []Node{{ID: 1, Addrs: [MaxLinks]netip.AddrPort{addrOf(1, 0)}}, {ID: 2, Addrs: [MaxLinks]netip.AddrPort{addrOf(2, 0)}}},
		Token: time.Hour}
	if group {
		cfg.Links[0].Group = testGroup
	}
	if crypto {
		cfg.Crypto = CryptoConfig{Cipher: "aes256", Key: testKey(1)}
	}
	tr, err := New(context.Background(), cfg, func(NodeID, []byte) {}, quietLog())
	if err != nil {
		tb.Fatal(err)
	}
	tr.Close() // stop its goroutines; handlePacket is driven directly
	return tr
}

func TestGroupConfigError(t *testing.T) {
	ml, _ := mem.NewNetwork(1).Listen(addrOf(1, 0))
	cfg := Config{LocalNode: 1, Nodes: []Node{{ID: 1}}, Links: []LinkSpec{{Number: 0, Link: ml, Group: netip.AddrPortFrom(testGroup.Addr(), 0)}}}
	if tr, err := New(context.Background(), cfg, nil, quietLog()); err == nil {
		tr.Close()
		t.Fatal("a group address without a port was accepted")
	}
}
