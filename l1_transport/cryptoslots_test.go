package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/mem"
)

var (
	cryptoNone = CryptoConfig{Cipher: "none", Hash: "none"}
	aes1       = CryptoConfig{Cipher: "aes256", Key: testKey(1)}
)

// TestCryptoSlotStates walks one transport through the three steps and checks the slots,
// the send slot and whether clear packets are accepted after each.
func TestCryptoSlotStates(t *testing.T) {
	tr := fuzzTransport(t, 1, true, false)
	chacha := CryptoConfig{Cipher: "chacha20poly1305", Key: testKey(2)}
	type want struct {
		s1, s2 string // suite names in slots 1 and 2, "" for empty
		tx     uint8
		clear  bool
		name   string
	}
	check := func(step string, w want) {
		t.Helper()
		st := tr.crypto.Load()
		got := want{nameIn(st.suites[1]), nameIn(st.suites[2]), st.tx, st.clear, tr.CryptoName()}
		if got != w {
			t.Fatalf("%s: %+v, want %+v", step, got, w)
		}
		tr.txMu.Lock()
		defer tr.txMu.Unlock()
		if tr.txSlot != st.tx || (tr.txSealer == nil) != (st.tx == slotClear) {
			t.Fatalf("%s: send side on slot %d (sealer %v), state says %d", step, tr.txSlot, tr.txSealer != nil, st.tx)
		}
	}
	check("start", want{"aes256/sha256", "", 1, false, "aes256/sha256"})
	tr.CryptoCleanup() // nothing pending: no-op
	if err := tr.CryptoActivate(); err == nil {
		t.Fatal("activate with nothing loaded succeeded")
	}
	check("idle calls", want{"aes256/sha256", "", 1, false, "aes256/sha256"})

	must(t, tr.CryptoLoad(cryptoNone))
	check("load none", want{"aes256/sha256", "", 1, true, "aes256/sha256"})
	must(t, tr.CryptoLoad(chacha)) // replaces the spare slot, and clear is refused again
	check("reload chacha", want{"aes256/sha256", "chacha20poly1305/sha256", 1, false, "aes256/sha256"})
	tr.CryptoCleanup() // not activated: must not drop the slot in use
	check("early cleanup", want{"aes256/sha256", "chacha20poly1305/sha256", 1, false, "aes256/sha256"})
	must(t, tr.CryptoActivate())
	check("activate", want{"aes256/sha256", "chacha20poly1305/sha256", 2, false, "chacha20poly1305/sha256"})
	if err := tr.CryptoActivate(); err == nil {
		t.Fatal("second activate succeeded")
	}
	tr.CryptoCleanup()
	check("cleanup", want{"", "chacha20poly1305/sha256", 2, false, "chacha20poly1305/sha256"})

	// To none: slot 1 is emptied, clear accepted from the load on.
	must(t, tr.CryptoLoad(cryptoNone))
	check("load none", want{"", "chacha20poly1305/sha256", 2, true, "chacha20poly1305/sha256"})
	must(t, tr.CryptoActivate())
	check("activate none", want{"", "chacha20poly1305/sha256", 0, true, "none"})
	tr.CryptoCleanup()
	check("cleanup none", want{"", "", 0, true, "none"})

	// Back to aes256 (into slot 2), and a load after activate without cleanup: the old
	// slot is overwritten as a cleanup would have.
	must(t, tr.CryptoLoad(aes1))
	check("load aes", want{"", "aes256/sha256", 0, true, "none"})
	must(t, tr.CryptoActivate())
	check("activate aes", want{"", "aes256/sha256", 2, true, "aes256/sha256"})
	must(t, tr.CryptoLoad(chacha))
	check("load after activate", want{"chacha20poly1305/sha256", "aes256/sha256", 2, false, "aes256/sha256"})
}

func nameIn(s *suite) string {
	if s == nil {
		return ""
	}
	return s.name
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCryptoLoadInvalidChangesNothing: a bad cipher, hash or key is refused and leaves the
// slots as they were, idle or in the middle of a change.
func TestCryptoLoadInvalidChangesNothing(t *testing.T) {
	c := newCluster(t, 2, 1, nil)
	tr := c.nodes[0]
	bad := []CryptoConfig{
		{Cipher: "des", Key: testKey(2)},
		{Cipher: "aes256", Key: make([]byte, MinKeyBytes-1)},
		{Cipher: "aes256", Key: make([]byte, MaxKeyBytes+1)},
		{Cipher: "aes256", Hash: "crc32", Key: testKey(2)},
		{Cipher: "none", Hash: "sha256"}, // no key
	}
	for _, loaded := range []bool{false, true} {
		if loaded {
			must(t, tr.CryptoLoad(CryptoConfig{Cipher: "aes128", Key: testKey(3)}))
		}
		before := tr.crypto.Load()
		for _, cfg := range bad {
			if err := tr.CryptoLoad(cfg); err == nil {
				t.Fatalf("loaded %s/%s with a %d-byte key", cfg.Cipher, cfg.Hash, len(cfg.Key))
			}
		}
		if tr.crypto.Load() != before || tr.CryptoName() != "aes256/sha256" {
			t.Fatalf("an invalid load changed the slots (loaded before: %v)", loaded)
		}
	}
	// What was validly loaded is still what activates.
	must(t, tr.CryptoActivate())
	if tr.CryptoName() != "aes128/sha256" {
		t.Fatalf("activated %s", tr.CryptoName())
	}
}

// TestCryptoChangeUnderTraffic runs the three steps on three nodes exchanging broadcasts,
// small and fragmented to a 1,400-byte MTU, with each node taking each step at its own
// moment (node 1 activates before the others, as happens for real). Nothing may be lost
// or refused. Two forgers, stopped transports that play nodes 4 and 5, seal packets with
// the old configuration and the new one: the old one is accepted until cleanup and
// refused after it, the new one refused before anyone loaded it.
func TestCryptoChangeUnderTraffic(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to CryptoConfig
	}{
		{"key", aes1, CryptoConfig{Cipher: "aes256", Key: testKey(2)}},
		{"cipher", aes1, CryptoConfig{Cipher: "chacha20poly1305", Key: testKey(1)}},
		{"none-to-aes256", cryptoNone, CryptoConfig{Cipher: "aes256", Key: testKey(2)}},
		{"aes256-to-none", aes1, cryptoNone},
		{"hmac-to-aes128", CryptoConfig{Cipher: "none", Hash: "sha1", Key: testKey(4)}, CryptoConfig{Cipher: "aes128", Key: testKey(4)}},
	} {
		t.Run(tc.name, func(t *testing.T) { cryptoChangeUnderTraffic(t, tc.from, tc.to) })
	}
}

func cryptoChangeUnderTraffic(t *testing.T, from, to CryptoConfig) {
	const mtu = 1400
	net := mem.NewNetwork(1)
	net.SetMaxPayload(mtu)
	c := newClusterOn(t, net, 5, 1, func(_ int, cfg *Config) { cfg.Crypto = from })
	// Nodes 4 and 5 only lend their identities to the forgers.
	c.nodes[3].Close()
	c.nodes[4].Close()
	live := c.nodes[:3]
	oldName, newName := live[0].CryptoName(), nameOfConfig(t, to)

	old := newForger(t, c, 4, from)
	fresh := newForger(t, c, 5, from)
	must(t, fresh.tr.CryptoLoad(to))
	must(t, fresh.tr.CryptoActivate())

	// Before the change: the old configuration is accepted, the new one refused.
	old.deliver(t, c, 2, true)
	fresh.deliver(t, c, 2, false)
	base := dropsOf(live)

	tf := startTraffic(t, live)
	step := func(what string, fn func()) {
		time.Sleep(30 * time.Millisecond)
		fn()
		if t.Failed() {
			t.Fatalf("after %s", what)
		}
	}
	step("load on 1", func() { must(t, live[0].CryptoLoad(to)) })
	step("load on 3 and 2", func() { must(t, live[2].CryptoLoad(to)); must(t, live[1].CryptoLoad(to)) })
	// Everyone holds both: either is accepted, clear too when the new one is none.
	old.deliver(t, c, 3, true)
	fresh.deliver(t, c, 3, true)
	step("activate on 1", func() {
		must(t, live[0].CryptoActivate())
		if live[0].CryptoName() != newName || live[1].CryptoName() != oldName {
			t.Errorf("node 1 sends with %s, node 2 with %s", live[0].CryptoName(), live[1].CryptoName())
		}
	})
	// Node 1 sends with the new slot and still takes the old one.
	old.deliver(t, c, 1, true)
	step("activate on 2", func() { must(t, live[1].CryptoActivate()) })
	step("activate on 3", func() { must(t, live[2].CryptoActivate()) })
	step("cleanup on 2", func() { live[1].CryptoCleanup() })
	step("cleanup on 1 and 3", func() { live[0].CryptoCleanup(); live[2].CryptoCleanup() })
	step("the last traffic", func() {})
	sent := tf.stop()

	// Every message arrived, whole and in order, at every other node.
	for s, msgs := range sent {
		for r := range live {
			if r == s {
				continue
			}
			got := c.boxes[r].wait(t, NodeID(s+1), len(msgs))
			if len(got) != len(msgs) {
				t.Fatalf("node %d got %d messages from node %d, want %d", r+1, len(got), s+1, len(msgs))
			}
			for i := range msgs {
				if !bytes.Equal(got[i], msgs[i]) {
					t.Fatalf("node %d: message %d from node %d differs", r+1, i, s+1)
				}
			}
		}
	}
	if len(sent[0]) < 50 {
		t.Fatalf("only %d messages sent: the change did not happen under traffic", len(sent[0]))
	}
	// Nothing refused, nothing too large for the MTU after the tag size changed.
	if d := dropsOf(live); d != base {
		t.Errorf("drops %v, before the change %v", d, base)
	}
	for i, tr := range live {
		if tr.CryptoName() != newName {
			t.Errorf("node %d sends with %s, want %s", i+1, tr.CryptoName(), newName)
		}
		st := tr.Stats()
		var rxData, rxCrypt uint64
		for _, ls := range st.Links {
			if ls.Node > 3 {
				continue
			}
			if ls.TxErrors != 0 || ls.RxDropped != 0 {
				t.Errorf("node %d, link to %d: %d send errors, %d dropped", i+1, ls.Node, ls.TxErrors, ls.RxDropped)
			}
			rxData += ls.RxData.Packets
		}
		rxCrypt = st.Handle.RxCryptPackets
		// Packets under either slot count; clear ones do not.
		switch {
		case oldName != "none" && newName != "none":
			if rxCrypt < rxData {
				t.Errorf("node %d: %d of %d data packets counted as decrypted", i+1, rxCrypt, rxData)
			}
		default:
			if rxCrypt == 0 || rxCrypt >= rxData {
				t.Errorf("node %d: %d of %d data packets counted as decrypted across a change from or to none", i+1, rxCrypt, rxData)
			}
		}
	}

	// After cleanup everywhere: the old configuration is refused, the new one accepted.
	for node := NodeID(1); node <= 3; node++ {
		old.deliver(t, c, node, false)
		fresh.deliver(t, c, node, true)
	}
}

func nameOfConfig(t *testing.T, cfg CryptoConfig) string {
	s, err := newSuite(cfg)
	must(t, err)
	return nameOf(s)
}

// dropsOf sums the live nodes' drops by reason.
func dropsOf(nodes []*Transport) [dropReasons]uint64 {
	var d [dropReasons]uint64
	for _, tr := range nodes {
		for i := range d {
			d[i] += tr.drops[i].Load()
		}
	}
	return d
}

// forger is a stopped transport for one node of a cluster's table whose packets a test
// builds and injects from that node's address.
type forger struct {
	tr  *Transport
	id  NodeID
	seq [8]uint64 // per destination
	n   int
}

func newForger(t *testing.T, c *cluster, id NodeID, cfg CryptoConfig) *forger {
	l, err := mem.NewNetwork(1).Listen(addrOf(int(id), 0))
	must(t, err)
	tr, err := New(context.Background(), Config{LocalNode: id, Nodes: c.nodes[0].cfg.Nodes,
		Links: []LinkSpec{{Number: 0, Link: l}}, Token: time.Hour, Crypto: cfg}, nil, quietLog())
	must(t, err)
	tr.Close()
	return &forger{tr: tr, id: id}
}

// packet builds the forger's next data packet to dst.
func (f *forger) packet(dst NodeID) []byte {
	f.n++
	f.tr.txMu.Lock()
	defer f.tr.txMu.Unlock()
	pkt := f.tr.build(dst, &f.seq[dst], typeData, 0, 0, nil, fmt.Appendf(nil, "forged %d by %d", f.n, f.id))
	return bytes.Clone(pkt)
}

// deliver injects the next packet to node dst and checks that it is delivered, or refused
// as auth_failed.
func (f *forger) deliver(t *testing.T, c *cluster, dst NodeID, accepted bool) {
	t.Helper()
	rx, box := c.nodes[dst-1], c.boxes[dst-1]
	had, failed := box.count(f.id), rx.Stats().Drops["auth_failed"]
	if !c.net.Inject(addrOf(int(f.id), 0), addrOf(int(dst), 0), f.packet(dst)) {
		t.Fatal("inject failed")
	}
	if accepted {
		box.wait(t, f.id, had+1)
		return
	}
	waitFor(t, fmt.Sprintf("node %d to refuse node %d's packet", dst, f.id), func() bool {
		return rx.Stats().Drops["auth_failed"] == failed+1
	})
	if box.count(f.id) != had {
		t.Fatalf("node %d delivered a packet it refused", dst)
	}
}

// trafficRun is every live node broadcasting numbered messages until stopped.
type trafficRun struct {
	stopCh chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	sent   [][][]byte
}

func startTraffic(t *testing.T, nodes []*Transport) *trafficRun {
	r := &trafficRun{stopCh: make(chan struct{}), sent: make([][][]byte, len(nodes))}
	t.Cleanup(func() { r.stop() }) // a test that fails half way must not leave senders behind
	for i, tr := range nodes {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for k := 0; k < 100000; k++ {
				select {
				case <-r.stopCh:
					return
				default:
				}
				// One in five is larger than the MTU and goes in fragments.
				size := 200
				if k%5 == 0 {
					size = 3000
				}
				msg := make([]byte, size)
				binary.BigEndian.PutUint32(msg, uint32(k))
				msg[4] = byte(i)
				if err := tr.Send([]Packet{{To: Broadcast, Data: msg}}); err != nil {
					t.Errorf("node %d: send %d: %v", i+1, k, err)
					return
				}
				r.sent[i] = append(r.sent[i], msg)
				time.Sleep(500 * time.Microsecond)
			}
		}()
	}
	return r
}

func (r *trafficRun) stop() [][][]byte {
	r.once.Do(func() { close(r.stopCh) })
	r.wg.Wait()
	return r.sent
}

// TestRxKeysPerSlot: a peer alternating between the two slots costs no key derivation
// per packet (the sealers stay cached and receiving allocates nothing), and one replay
// window covers both slots.
func TestRxKeysPerSlot(t *testing.T) {
	rx := fuzzTransport(t, 2, true, false)
	sender := fuzzTransport(t, 1, true, false)
	second := CryptoConfig{Cipher: "chacha20poly1305", Key: testKey(5)}
	must(t, rx.CryptoLoad(second))
	must(t, sender.CryptoLoad(second))
	// Two sealers of the sender's session, one per slot, and packets alternating between
	// them on one sequence.
	st := sender.crypto.Load()
	var sealers [maxSlot + 1]sealer
	for slot := uint8(1); slot <= maxSlot; slot++ {
		s, err := st.suites[slot].forSession(1, sender.session)
		must(t, err)
		sealers[slot] = s
	}
	seal := func(slot uint8, seq uint64) []byte {
		h := header{typ: typeData, slot: slot, src: 1, dst: 2, session: sender.session, seq: seq}
		buf := make([]byte, headerBytes, headerBytes+100)
		putHeader(buf, &h)
		var nb [12]byte
		return sealers[slot].seal(buf, buf[:headerBytes], nonceFor(&nb, 2, seq), []byte("alternating"))
	}
	var seq uint64
	build := func() []byte {
		seq++
		return seal(uint8(1+seq%2), seq)
	}
	delivered := 0
	rx.handler = func(NodeID, []byte) { delivered++ }
	scratch := rx.newRxScratch(rx.links[0])
	deliver := func(pkt []byte) {
		rx.handlePacket(rx.links[0], link.Message{Buf: pkt, Addr: addrOf(1, 0)}, scratch)
	}
	first := build()
	deliver(first)
	deliver(build())
	p := rx.peers().byID[1]
	cached := p.rxKeys
	if cached[1].s == nil || cached[2].s == nil || cached[1].session != sender.session {
		t.Fatalf("sealers not cached per slot: %+v", cached)
	}
	const runs = 100
	pkts := make([][]byte, 0, runs+1)
	for range runs + 1 {
		pkts = append(pkts, build())
	}
	i := 0
	allocs := testing.AllocsPerRun(runs, func() { deliver(pkts[i]); i++ })
	if delivered != runs+3 {
		t.Fatalf("delivered %d of %d", delivered, runs+3)
	}
	if p.rxKeys != cached {
		t.Fatal("a slot change derived a new sealer")
	}
	if allocs != 0 && !raceEnabled {
		t.Errorf("%.1f allocations per packet alternating slots", allocs)
	}
	// The first packet again, as it was and sealed under the other slot: replays both.
	before := rx.Stats().Drops["replayed"]
	deliver(first)
	deliver(seal(1, 1))
	if rx.Stats().Drops["replayed"] != before+2 || delivered != runs+3 {
		t.Fatal("a replay was accepted")
	}
}

// TestSendDoesNotAllocateAfterChange: a crypto change leaves the send path allocation
// free, switching from none to aes256 and back.
func TestSendDoesNotAllocateAfterChange(t *testing.T) {
	if raceEnabled {
		t.Skip("skipping: allocation counts are meaningless under the race detector")
	}
	tr, _ := benchSender(t, 3, "none", nil)
	for _, cfg := range []CryptoConfig{aes1, cryptoNone} {
		must(t, tr.CryptoLoad(cfg))
		must(t, tr.CryptoActivate())
		tr.CryptoCleanup()
		batch := []Packet{{To: Broadcast, Data: make([]byte, 1000)}}
		if n := testing.AllocsPerRun(200, func() { tr.Send(batch) }); n != 0 {
			t.Errorf("after the change to %s: %.1f allocations per Send", tr.CryptoName(), n)
		}
	}
}

// TestSlotNumbersNeedNotAgree: after a change, the cluster holds the new configuration in
// slot 2 while a node started afresh on it holds it in slot 1; like knet, which tries
// every loaded configuration, each side accepts the other's packets. A node still on the
// old key is refused by both slots.
func TestSlotNumbersNeedNotAgree(t *testing.T) {
	second := CryptoConfig{Cipher: "aes128", Key: testKey(7)}
	changed := fuzzTransport(t, 2, true, false) // slot 1 = aes1, then slot 2 = second
	must(t, changed.CryptoLoad(second))
	must(t, changed.CryptoActivate())
	changed.CryptoCleanup()
	fresh := transportOn(t, 1, second)        // started on second: slot 1
	stale := fuzzTransport(t, 1, true, false) // still on aes1 in slot 1

	pass := func(from, to *Transport, dst NodeID) bool {
		got := 0
		to.handler = func(NodeID, []byte) { got++ }
		from.txMu.Lock()
		var seq uint64 = 1
		pkt := bytes.Clone(from.build(dst, &seq, typeData, 0, 0, nil, []byte("hello")))
		slot := from.txSlot
		from.txMu.Unlock()
		to.handlePacket(to.links[0], link.Message{Buf: pkt, Addr: addrOf(int(from.cfg.LocalNode), 0)}, to.newRxScratch(to.links[0]))
		t.Logf("node %d (send slot %d) -> node %d: delivered %d", from.cfg.LocalNode, slot, dst, got)
		return got == 1
	}
	if !pass(fresh, changed, 2) {
		t.Fatal("the cluster refused a node started on the new configuration (its slot 1)")
	}
	// The reverse direction: packets from the changed node's slot 2 to a fresh node whose
	// only slot is 1 with the same configuration.
	back := transportOn(t, 1, second)
	if !pass(changed, back, 1) {
		t.Fatal("a node started on the new configuration refused the cluster's slot 2")
	}
	before := changed.Stats().Drops["auth_failed"]
	if pass(stale, changed, 2) || changed.Stats().Drops["auth_failed"] != before+1 {
		t.Fatal("a packet under the old key was not refused as auth_failed after cleanup")
	}
}

// transportOn is a stopped transport of node id (of two) started on crypto cfg, driven
// through handlePacket.
func transportOn(t *testing.T, id NodeID, cfg CryptoConfig) *Transport {
	l, _ := mem.NewNetwork(1).Listen(addrOf(int(id), 0))
	tr, err := New(context.Background(), Config{LocalNode: id, Links: []LinkSpec{{Number: 0, Link: l}},
		Nodes: []Node{{ID: 1, Addrs: [MaxLinks]netip.AddrPort{addrOf(1, 0)}}, {ID: 2, Addrs: [MaxLinks]netip.AddrPort{addrOf(2, 0)}}},
		Token: time.Hour, Crypto: cfg}, func(NodeID, []byte) {}, quietLog())
	must(t, err)
	tr.Close()
	return tr
}
