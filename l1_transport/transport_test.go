package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/l0_link/mem"
)

// inbox collects what a transport delivers.
type inbox struct {
	mu   sync.Mutex
	got  map[NodeID][][]byte
	cond *sync.Cond
}

func newInbox() *inbox {
	b := &inbox{got: map[NodeID][][]byte{}}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *inbox) handle(from NodeID, pkt []byte) {
	b.mu.Lock()
	b.got[from] = append(b.got[from], append([]byte(nil), pkt...))
	b.cond.Broadcast()
	b.mu.Unlock()
}

// wait returns the packets from node once n have arrived, or fails after a deadline.
func (b *inbox) wait(t *testing.T, from NodeID, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() { b.mu.Lock(); b.cond.Broadcast(); b.mu.Unlock() })
	defer timer.Stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.got[from]) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d packets from node %d, want %d", len(b.got[from]), from, n)
		}
		b.cond.Wait()
	}
	return b.got[from]
}

func (b *inbox) count(from NodeID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.got[from])
}

// cluster is n transports over a mem network, each with `links` links.
type cluster struct {
	net   *mem.Network
	nodes []*Transport
	boxes []*inbox
}

func addrOf(node, lnk int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(lnk), 0, byte(node)}), 5405+uint16(lnk))
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testKey(seed byte) []byte {
	k := make([]byte, 256)
	for i := range k {
		k[i] = seed + byte(i*7)
	}
	return k
}

// newCluster starts n nodes; tweak adjusts each node's config before start.
func newCluster(t *testing.T, n, links int, tweak func(node int, c *Config)) *cluster {
	t.Helper()
	return newClusterOn(t, mem.NewNetwork(1), n, links, tweak)
}

// newClusterOn is newCluster on a given network.
func newClusterOn(t *testing.T, net *mem.Network, n, links int, tweak func(node int, c *Config)) *cluster {
	t.Helper()
	c := &cluster{net: net}
	var nodes []Node
	for i := 1; i <= n; i++ {
		nd := Node{ID: NodeID(i), Name: fmt.Sprintf("node%d", i)}
		for l := 0; l < links; l++ {
			nd.Addrs[l] = addrOf(i, l)
		}
		nodes = append(nodes, nd)
	}
	for i := 1; i <= n; i++ {
		cfg := Config{LocalNode: NodeID(i), Nodes: nodes, Token: 400 * time.Millisecond,
			Crypto: CryptoConfig{Cipher: "aes256", Key: testKey(1)}}
		for l := 0; l < links; l++ {
			ml, err := c.net.Listen(addrOf(i, l))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Links = append(cfg.Links, LinkSpec{Number: l, Priority: links - l, Link: ml})
		}
		if tweak != nil {
			tweak(i, &cfg)
		}
		box := newInbox()
		tr, err := New(context.Background(), cfg, box.handle, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, tr)
		c.boxes = append(c.boxes, box)
	}
	t.Cleanup(func() {
		for _, tr := range c.nodes {
			tr.Close()
		}
	})
	return c
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestBroadcastAndUnicastWithEveryCipher(t *testing.T) {
	for _, cc := range []CryptoConfig{
		{Cipher: "aes256"}, {Cipher: "aes128"}, {Cipher: "chacha20poly1305"},
		{Cipher: "none", Hash: "sha256"}, {Cipher: "none", Hash: "none"},
	} {
		t.Run(cc.Cipher+"-"+cc.Hash, func(t *testing.T) {
			c := newCluster(t, 3, 1, func(_ int, cfg *Config) {
				cfg.Crypto = cc
				if cc.Cipher != "none" || cc.Hash != "none" {
					cfg.Crypto.Key = testKey(1)
				}
			})
			var sent [][]byte
			for i := 0; i < 50; i++ {
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
			if err := c.nodes[1].Send([]Packet{{To: 3, Data: []byte("just for 3")}}); err != nil {
				t.Fatal(err)
			}
			if got := c.boxes[2].wait(t, 2, 1); string(got[0]) != "just for 3" {
				t.Fatalf("unicast got %q", got[0])
			}
			time.Sleep(20 * time.Millisecond)
			if c.boxes[0].count(2) != 0 {
				t.Fatal("a unicast to node 3 reached node 1")
			}
		})
	}
}

func TestFragmentationToPathMTU(t *testing.T) {
	c := newCluster(t, 2, 1, func(_ int, cfg *Config) { cfg.Links[0].MTUBytes = 1400 })
	big := randomBytes(60000)
	small := randomBytes(1000)
	if err := c.nodes[0].Send([]Packet{{To: 2, Data: big}, {To: 2, Data: small}}); err != nil {
		t.Fatal(err)
	}
	got := c.boxes[1].wait(t, 1, 2)
	if !bytes.Equal(got[0], big) || !bytes.Equal(got[1], small) {
		t.Fatal("fragmented message not rebuilt exactly")
	}
	st := c.nodes[0].Stats()
	if st.Links[0].TxPackets < 60000/1400 {
		t.Fatalf("only %d packets sent for a 60 kB message over a 1400-byte MTU", st.Links[0].TxPackets)
	}
}

func TestCompressionModels(t *testing.T) {
	for _, model := range []string{"s2", "lz4", "lz4hc", "zstd", "zlib"} {
		t.Run(model, func(t *testing.T) {
			c := newCluster(t, 2, 1, func(_ int, cfg *Config) {
				cfg.Compress = CompressionConfig{Model: model, ThresholdBytes: 1}
			})
			text := bytes.Repeat([]byte("totem frame with a lot of repetition "), 200)
			rnd := randomBytes(3000) // incompressible: must go as it is
			if err := c.nodes[0].Send([]Packet{{To: 2, Data: text}, {To: 2, Data: rnd}}); err != nil {
				t.Fatal(err)
			}
			got := c.boxes[1].wait(t, 1, 2)
			if !bytes.Equal(got[0], text) || !bytes.Equal(got[1], rnd) {
				t.Fatal("compressed message not restored")
			}
			if tx := c.nodes[0].Stats().Links[0].TxBytes; tx > uint64(len(rnd)+len(text)/2) {
				t.Fatalf("sent %d bytes: compression did not shrink the repetitive message", tx)
			}
		})
	}
}

func TestHeartbeatsBringLinksUpAndMeasureLatency(t *testing.T) {
	c := newCluster(t, 2, 2, nil)
	waitFor(t, "both links up", func() bool { return c.nodes[0].LinkUp(2, 0) && c.nodes[0].LinkUp(2, 1) })
	for _, ls := range c.nodes[0].Stats().Links {
		if ls.LatencySamples == 0 || ls.LatencyMax < ls.LatencyMin || ls.UpCount != 1 {
			t.Fatalf("link stats after heartbeats: %+v", ls)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestFailoverToSecondLink(t *testing.T) {
	c := newCluster(t, 2, 2, nil)
	waitFor(t, "both links up", func() bool { return c.nodes[0].LinkUp(2, 0) && c.nodes[0].LinkUp(2, 1) })
	// Passive mode: link 0 has the higher priority and carries the data.
	c.nodes[0].Send([]Packet{{To: 2, Data: []byte("before")}})
	c.boxes[1].wait(t, 1, 1)
	st := c.nodes[0].Stats()
	before1 := st.Links[1].TxPackets
	// Cut link 0 in both directions.
	c.net.SetDown(addrOf(1, 0), true)
	c.net.SetDown(addrOf(2, 0), true)
	waitFor(t, "link 0 down", func() bool { return !c.nodes[0].LinkUp(2, 0) })
	for i := 0; i < 100; i++ {
		c.nodes[0].Send([]Packet{{To: 2, Data: []byte{byte(i)}}})
	}
	got := c.boxes[1].wait(t, 1, 101)
	if len(got) != 101 {
		t.Fatalf("got %d", len(got))
	}
	st = c.nodes[0].Stats()
	if st.Links[0].DownCount != 1 {
		t.Fatalf("link 0 down count %d", st.Links[0].DownCount)
	}
	if st.Links[1].TxPackets-before1 < 100 {
		t.Fatalf("link 1 carried %d packets after failover", st.Links[1].TxPackets-before1)
	}
	// And back.
	c.net.SetDown(addrOf(1, 0), false)
	c.net.SetDown(addrOf(2, 0), false)
	waitFor(t, "link 0 up again", func() bool { return c.nodes[0].LinkUp(2, 0) })
}

func TestActiveModeDeliversOnce(t *testing.T) {
	c := newCluster(t, 2, 2, func(_ int, cfg *Config) { cfg.LinkMode = Active })
	waitFor(t, "both links up", func() bool { return c.nodes[0].LinkUp(2, 0) && c.nodes[0].LinkUp(2, 1) })
	for i := 0; i < 50; i++ {
		c.nodes[0].Send([]Packet{{To: 2, Data: []byte{byte(i)}}})
	}
	c.boxes[1].wait(t, 1, 50)
	time.Sleep(50 * time.Millisecond)
	if n := c.boxes[1].count(1); n != 50 {
		t.Fatalf("active mode delivered %d copies of 50 packets", n)
	}
	if d := c.nodes[1].Stats().Drops["replayed"]; d < 50 {
		t.Fatalf("second copies should be dropped as replays, dropped %d", d)
	}
}

func TestRoundRobinUsesEveryLink(t *testing.T) {
	c := newCluster(t, 2, 2, func(_ int, cfg *Config) { cfg.LinkMode = RoundRobin })
	waitFor(t, "both links up", func() bool { return c.nodes[0].LinkUp(2, 0) && c.nodes[0].LinkUp(2, 1) })
	before := c.nodes[0].Stats().Links
	for i := 0; i < 100; i++ {
		c.nodes[0].Send([]Packet{{To: 2, Data: []byte{byte(i)}}})
	}
	c.boxes[1].wait(t, 1, 100)
	after := c.nodes[0].Stats().Links
	for l := 0; l < 2; l++ {
		if d := after[l].TxPackets - before[l].TxPackets; d < 40 {
			t.Fatalf("link %d carried only %d of 100 packets in rr mode", l, d)
		}
	}
}

// TestHostilePackets: forged, truncated, replayed and wrong-key packets are dropped and
// counted while good traffic goes on.
func TestHostilePackets(t *testing.T) {
	c := newCluster(t, 2, 1, nil)
	var captured [][]byte
	var mu sync.Mutex
	c.net.Tap(func(from, to netip.AddrPort, data []byte) {
		mu.Lock()
		if len(data) > headerBytes && data[2] == byte(typeData) && len(captured) < 10 {
			captured = append(captured, append([]byte(nil), data...))
		}
		mu.Unlock()
	})
	for i := 0; i < 10; i++ {
		c.nodes[0].Send([]Packet{{To: 2, Data: []byte(fmt.Sprintf("good %d", i))}})
	}
	c.boxes[1].wait(t, 1, 10)
	c.net.Tap(nil)

	from, to := addrOf(1, 0), addrOf(2, 0)
	before := c.nodes[1].Stats().Drops
	// Replays of real packets.
	mu.Lock()
	for _, p := range captured {
		c.net.Inject(from, to, p)
	}
	// A forgery: a real header with the body flipped.
	forged := append([]byte(nil), captured[0]...)
	forged[len(forged)-1] ^= 0xff
	forged[27]++ // a new sequence number so that it is not a replay
	mu.Unlock()
	c.net.Inject(from, to, forged)
	// Truncated and garbage.
	c.net.Inject(from, to, []byte{wireMagic, wireVersion, 1})
	c.net.Inject(from, to, []byte("GET / HTTP/1.1\r\n\r\n this is not totem at all"))
	// A node with the wrong key: a second cluster member 1 built with another key,
	// sending from the right address.
	wrong, err := newSuite(CryptoConfig{Cipher: "aes256", Key: testKey(9)})
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := wrong.forSession(1, uint64(time.Now().UnixNano()))
	h := header{typ: typeData, src: 1, dst: 2, session: uint64(time.Now().UnixNano()) + 1, seq: 1}
	buf := make([]byte, headerBytes)
	putHeader(buf, &h)
	var nb [12]byte
	pkt := ws.seal(buf, buf[:headerBytes], nonceFor(&nb, 2, 1), []byte("wrong key"))
	c.net.Inject(from, to, pkt)
	// A spoofed source address.
	c.net.Inject(netip.MustParseAddrPort("10.9.9.9:5405"), to, captured[1])

	// Good traffic still flows.
	for i := 10; i < 20; i++ {
		c.nodes[0].Send([]Packet{{To: 2, Data: []byte(fmt.Sprintf("good %d", i))}})
	}
	got := c.boxes[1].wait(t, 1, 20)
	time.Sleep(50 * time.Millisecond)
	if n := c.boxes[1].count(1); n != 20 {
		t.Fatalf("delivered %d packets, want exactly the 20 good ones", n)
	}
	for i, g := range got {
		if string(g) != fmt.Sprintf("good %d", i) {
			t.Fatalf("packet %d is %q", i, g)
		}
	}
	if ls := c.nodes[1].Stats().Links[0]; ls.RxDropped < 12 {
		t.Errorf("link to node 1 counted %d drops, want at least the 10 replays and 2 forgeries", ls.RxDropped)
	}
	after := c.nodes[1].Stats().Drops
	for reason, want := range map[string]uint64{"replayed": 10, "auth_failed": 2, "truncated": 1, "bad_magic": 1, "wrong_source": 1} {
		if d := after[reason] - before[reason]; d < want {
			t.Errorf("drops[%s] grew by %d, want at least %d", reason, d, want)
		}
	}
}

func TestRestartedPeerIsAcceptedAndOldSessionRefused(t *testing.T) {
	c := newCluster(t, 2, 1, nil)
	var old []byte
	c.net.Tap(func(from, to netip.AddrPort, data []byte) {
		if old == nil && from == addrOf(1, 0) && data[2] == byte(typeData) {
			old = append([]byte(nil), data...)
		}
	})
	c.nodes[0].Send([]Packet{{To: 2, Data: []byte("first life")}})
	c.boxes[1].wait(t, 1, 1)
	c.net.Tap(nil)
	// Node 1 restarts: a new transport on the same address.
	c.nodes[0].Close()
	ml, err := c.net.Listen(addrOf(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.nodes[1].cfg
	cfg.LocalNode = 1
	cfg.Links = []LinkSpec{{Number: 0, Link: ml}}
	tr, err := New(context.Background(), cfg, nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.Send([]Packet{{To: 2, Data: []byte("second life")}})
	got := c.boxes[1].wait(t, 1, 2)
	if string(got[1]) != "second life" {
		t.Fatalf("got %q", got[1])
	}
	before := c.nodes[1].Stats().Drops["stale_session"]
	c.net.Inject(addrOf(1, 0), addrOf(2, 0), old)
	waitFor(t, "stale packet counted", func() bool { return c.nodes[1].Stats().Drops["stale_session"] > before })
}

func TestConfigErrors(t *testing.T) {
	net := mem.NewNetwork(1)
	ml, _ := net.Listen(addrOf(1, 0))
	base := func() Config {
		return Config{LocalNode: 1, Nodes: []Node{{ID: 1}}, Links: []LinkSpec{{Number: 0, Link: ml}}}
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"no local id", func(c *Config) { c.LocalNode = 0 }},
		{"bad link mode", func(c *Config) { c.LinkMode = "fastest" }},
		{"link number", func(c *Config) { c.Links[0].Number = 8 }},
		{"local not listed", func(c *Config) { c.LocalNode = 5 }},
		{"short key", func(c *Config) { c.Crypto = CryptoConfig{Cipher: "aes256", Key: make([]byte, 16)} }},
		{"unknown cipher", func(c *Config) { c.Crypto = CryptoConfig{Cipher: "des", Key: testKey(1)} }},
		{"unknown compression", func(c *Config) { c.Compress.Model = "lzma" }},
	} {
		cfg := base()
		tc.edit(&cfg)
		if tr, err := New(context.Background(), cfg, nil, quietLog()); err == nil {
			tr.Close()
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
