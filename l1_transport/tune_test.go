package transport

import (
	"testing"
	"time"
)

// TestRetuneMovesTrafficToTheNewPreferredLink: passive mode follows knet_link_priority
// changed at run time, and the heartbeat settings take the new values.
func TestRetuneMovesTrafficToTheNewPreferredLink(t *testing.T) {
	c := newCluster(t, 2, 2, nil) // link 0 has priority 2, link 1 priority 1
	waitFor(t, "both links up", func() bool { return c.nodes[0].LinkUp(2, 0) && c.nodes[0].LinkUp(2, 1) })
	txOn := func(link int) uint64 {
		for _, ls := range c.nodes[0].Stats().Links {
			if ls.Node == 2 && ls.Link == link {
				return ls.TxPackets
			}
		}
		t.Fatalf("no link %d", link)
		return 0
	}
	burst := func() {
		for i := 0; i < 200; i++ {
			c.nodes[0].Send([]Packet{{To: 2, Data: []byte{byte(i)}}})
		}
	}
	// Heartbeats use both links, so compare the share of a burst.
	b0, b1 := txOn(0), txOn(1)
	burst()
	if d0, d1 := txOn(0)-b0, txOn(1)-b1; d0 < 200 || d1 >= 100 {
		t.Fatalf("before: link 0 sent %d, link 1 %d", d0, d1)
	}
	s := &Settings{
		Config:     Config{Token: 400 * time.Millisecond, PingTimeout: 5 * time.Second, PongCount: 3},
		Interfaces: []InterfaceSettings{{Number: 0, Priority: 1}, {Number: 1, Priority: 9}},
	}
	if err := c.nodes[0].Retune(s); err != nil {
		t.Fatal(err)
	}
	b0, b1 = txOn(0), txOn(1)
	burst()
	if d0, d1 := txOn(0)-b0, txOn(1)-b1; d1 < 200 || d0 >= 100 {
		t.Fatalf("after: link 0 sent %d, link 1 %d", d0, d1)
	}
	tu := c.nodes[0].tune()
	// The interval derives from the token and the new pong count: 400 ms / (3*2).
	if tu.pingTimeout != 5*time.Second || tu.pongCount != 3 || tu.pingInterval != 400*time.Millisecond/6 || tu.pmtudInterval != DefaultPMTUDInterval {
		t.Fatalf("tuning after Retune: %+v", *tu)
	}
	bad := &Settings{Interfaces: []InterfaceSettings{{Number: 5, Priority: 1}}}
	if err := c.nodes[0].Retune(bad); err == nil {
		t.Fatal("a link that was never opened was accepted")
	}
}
