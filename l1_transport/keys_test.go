package transport

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestFromKeysReadsCorosyncNames(t *testing.T) {
	keys := map[string]string{
		"totem.token":                          "3000",
		"totem.link_mode":                      "active",
		"totem.crypto_cipher":                  "aes256",
		"totem.crypto_hash":                    "sha256",
		"totem.knet_compression_model":         "zstd",
		"totem.knet_compression_threshold":     "200",
		"totem.interface.0.knet_link_priority": "10",
		"totem.interface.1.knet_transport":     "xdp",
		"totem.interface.1.knet_ping_interval": "500",
		"totem.interface.1.knet_pong_count":    "3",
		"totem.interface.0.mcastport":          "6000",
		"nodelist.node.0.nodeid":               "1",
		"nodelist.node.0.name":                 "alpha",
		"nodelist.node.0.ring0_addr":           "192.0.2.1",
		"nodelist.node.0.ring1_addr":           "198.51.100.1",
		"nodelist.node.1.nodeid":               "2",
		"nodelist.node.1.ring0_addr":           "192.0.2.2",
		"nodelist.node.1.ring1_addr":           "2001:db8::2",
	}
	s, err := FromKeys(keys, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config
	if c.LinkMode != Active || c.Token != 3*time.Second || c.Crypto.Cipher != "aes256" || c.Compress.Model != "zstd" || c.Compress.ThresholdBytes != 200 {
		t.Fatalf("config %+v", c)
	}
	if c.PingInterval != 500*time.Millisecond || c.PongCount != 3 {
		t.Fatalf("ping settings %v %d", c.PingInterval, c.PongCount)
	}
	if len(s.Interfaces) != 2 {
		t.Fatalf("interfaces %+v", s.Interfaces)
	}
	i0, i1 := s.Interfaces[0], s.Interfaces[1]
	if i0.Kind != "udp" || i0.Port != 6000 || i0.Priority != 10 || i0.Local != netip.MustParseAddrPort("192.0.2.2:6000") {
		t.Fatalf("interface 0 %+v", i0)
	}
	if i1.Kind != "xdp" || i1.Port != DefaultPort+1 || i1.Local != netip.MustParseAddrPort("[2001:db8::2]:5406") {
		t.Fatalf("interface 1 %+v", i1)
	}
	if c.Nodes[0].Name != "alpha" || c.Nodes[0].Addrs[0] != netip.MustParseAddrPort("192.0.2.1:6000") {
		t.Fatalf("node table %+v", c.Nodes)
	}
}

func TestFromKeysErrors(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{"nodelist.node.0.nodeid": "1", "nodelist.node.0.ring0_addr": "192.0.2.1"}
	}
	for _, tc := range []struct{ key, value, want string }{
		{"totem.interface.0.knet_transport", "sctp", "sctp"},
		{"totem.interface.0.knet_transport", "carrier-pigeon", "not one of"},
		{"totem.token", "soon", "not a number"},
		{"nodelist.node.0.nodeid", "0", "non-zero"},
		{"nodelist.node.0.ring9_addr", "192.0.2.9", "link number"},
		{"totem.interface.0.knet_link_priority", "300", "out of range"},
	} {
		keys := base()
		keys[tc.key] = tc.value
		if _, err := FromKeys(keys, 1, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %s: error %v, want one mentioning %q", tc.key, tc.value, err, tc.want)
		}
	}
	if _, err := FromKeys(base(), 7, nil); err == nil {
		t.Error("a node id absent from the nodelist was accepted")
	}
}

func FuzzFromKeys(f *testing.F) {
	f.Add("nodelist.node.0.ring0_addr", "192.0.2.1", "totem.token", "1000")
	f.Add("totem.transport", "udp", "totem.interface.0.mcastaddr", "239.192.176.228")
	f.Add("totem.transport", "udp", "totem.interface.0.ttl", "300")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		keys := map[string]string{"nodelist.node.0.nodeid": "1", "nodelist.node.0.ring0_addr": "192.0.2.1", "totem.cluster_name": "fuzz", k1: v1, k2: v2}
		_, _ = FromKeys(keys, 1, nil)
	})
}
