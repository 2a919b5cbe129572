package transport

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/corosync-go/corosync/l0_link/xdp"
)

// keysFor is the flattened corosync.conf of a cluster of n nodes on lab link 0.
func keysFor(n int, kind string) map[string]string {
	keys := map[string]string{
		"totem.token":                      "400",
		"totem.crypto_cipher":              "aes256",
		"totem.crypto_hash":                "sha256",
		"totem.interface.0.knet_transport": kind,
	}
	for i := 1; i <= n; i++ {
		keys[fmt.Sprintf("nodelist.node.%d.nodeid", i-1)] = fmt.Sprint(i)
		keys[fmt.Sprintf("nodelist.node.%d.ring0_addr", i-1)] = labAddr(i, 0).Addr().String()
	}
	return keys
}

// startFromKeys starts node i of the lab from corosync keys, inside its namespace.
func (nl *netLab) startFromKeys(t *testing.T, keys map[string]string, keyFile string, i int) (*Transport, *inbox) {
	t.Helper()
	s, err := FromKeys(keys, NodeID(i), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.KeyFile = keyFile
	box := newInbox()
	var tr *Transport
	err = nl.lab.Do(nl.names[i-1], func() (err error) {
		tr, err = Start(context.Background(), s, box.handle, quietLog())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr, box
}

func writeKey(t testing.TB) string {
	path := filepath.Join(t.TempDir(), "authkey")
	if err := os.WriteFile(path, testKey(5), 0o400); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNetnsThreeNodesOverXDPFromKeys: the same exchange as over udp, with every link an
// AF_XDP link opened from knet_transport: xdp, encrypted with the key file.
func TestNetnsThreeNodesOverXDPFromKeys(t *testing.T) {
	nl := newNetLab(t, 3, 1)
	keyFile := writeKey(t)
	keys := keysFor(3, "xdp")
	var trs []*Transport
	var boxes []*inbox
	for i := 1; i <= 3; i++ {
		tr, box := nl.startFromKeys(t, keys, keyFile, i)
		if k := tr.links[0].l.Kind(); k != "xdp" {
			t.Fatalf("node %d runs a %s link, want xdp", i, k)
		}
		trs, boxes = append(trs, tr), append(boxes, box)
	}
	// Some are fragmented to the veth MTU. The first packets may go before ARP resolves;
	// the xdp link sends those through its kernel socket, so none is lost.
	exchangeAll(t, trs, boxes, 100, func(k int) int { return 100 + (k%3)*2000 })
	if tr := trs[0]; tr.CryptoName() != "aes256/sha256" {
		t.Fatal("the key file was not used")
	}
}

// TestNetnsXDPFallsBackToUDP: when AF_XDP cannot start (here another link's program
// already holds node b's interface), the link comes up as udp and traffic flows.
func TestNetnsXDPFallsBackToUDP(t *testing.T) {
	nl := newNetLab(t, 2, 1)
	holderAddr := netip.AddrPortFrom(labAddr(2, 0).Addr(), 6000)
	var holder *xdp.Link
	err := nl.lab.Do("b", func() (err error) {
		holder, err = xdp.Open(xdp.Config{Interface: "eth0", Local: holderAddr})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	keyFile := writeKey(t)
	keys := keysFor(2, "xdp")
	a, _ := nl.startFromKeys(t, keys, keyFile, 1)
	b, box := nl.startFromKeys(t, keys, keyFile, 2)
	if k := b.links[0].l.Kind(); k != "udp" {
		t.Fatalf("node b runs a %s link, want the udp fallback", k)
	}
	a.Send([]Packet{{To: 2, Data: []byte("over the fallback")}})
	if got := box.wait(t, 1, 1); string(got[0]) != "over the fallback" {
		t.Fatalf("got %q", got[0])
	}
}
