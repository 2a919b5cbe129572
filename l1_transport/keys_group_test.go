package transport

import (
	"net/netip"
	"strings"
	"testing"
)

func udpKeys(extra map[string]string) map[string]string {
	keys := map[string]string{
		"totem.transport":            "udp",
		"totem.cluster_name":         "refcluster",
		"nodelist.node.0.nodeid":     "1",
		"nodelist.node.0.ring0_addr": "192.0.2.1",
		"nodelist.node.1.nodeid":     "2",
		"nodelist.node.1.ring0_addr": "192.0.2.2",
	}
	for k, v := range extra {
		keys[k] = v
	}
	return keys
}

// TestDefaultGroupMatchesCorosync: the values corosync 3.1.7 put in
// totem.interface.0.mcastaddr when started with transport: udp and no mcastaddr
// (cluster_name refcluster, on 127.0.0.1 and on ::1 with ip_version: ipv6).
func TestDefaultGroupMatchesCorosync(t *testing.T) {
	for _, tc := range []struct {
		name string
		link int
		v6   bool
		want string
	}{
		{"refcluster", 0, false, "239.192.176.228"},
		{"refcluster", 0, true, "ff15::b034"},
		{"refcluster", 1, false, "239.192.176.229"},
		// A byte above 127 counts as negative (C's signed char).
		{"\xe9", 0, false, "239.192.255.233"},
		{"", 0, false, "239.192.0.0"},
	} {
		if got := DefaultGroup(tc.name, tc.link, tc.v6); got != netip.MustParseAddr(tc.want) {
			t.Errorf("DefaultGroup(%q, %d, %v) = %s, want %s", tc.name, tc.link, tc.v6, got, tc.want)
		}
	}
}

func TestFromKeysUDPGroup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]string
		group string
		bcast bool
		port  uint16
		ttl   int
	}{
		{"default group from the cluster name", nil, "239.192.176.228", false, 5405, 1},
		{"mcastaddr, mcastport and ttl", map[string]string{"totem.interface.0.mcastaddr": "239.1.2.3", "totem.interface.0.mcastport": "6000", "totem.interface.0.ttl": "5"}, "239.1.2.3", false, 6000, 5},
		{"broadcast", map[string]string{"totem.interface.0.broadcast": "yes", "totem.interface.0.mcastaddr": "255.255.255.255"}, "", true, 5405, 1},
		{"knet_transport is ignored", map[string]string{"totem.interface.0.knet_transport": "sctp"}, "239.192.176.228", false, 5405, 1},
	} {
		s, err := FromKeys(udpKeys(tc.extra), 2, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ifs := s.Interfaces[0]
		var want netip.Addr
		if tc.group != "" {
			want = netip.MustParseAddr(tc.group)
		}
		if ifs.Group != want || ifs.Broadcast != tc.bcast || ifs.Port != tc.port || ifs.TTL != tc.ttl || ifs.Kind != "udp" {
			t.Errorf("%s: %+v", tc.name, ifs)
		}
		if ifs.Local != netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), tc.port) || s.Config.Nodes[0].Addrs[0].Port() != tc.port {
			t.Errorf("%s: addresses %v %v", tc.name, ifs.Local, s.Config.Nodes[0].Addrs[0])
		}
	}
	// Other transports never run in group mode, whatever the keys say.
	for _, tr := range []string{"udpu", "knet", ""} {
		keys := udpKeys(map[string]string{"totem.transport": tr, "totem.interface.0.mcastaddr": "239.1.2.3"})
		s, err := FromKeys(keys, 1, nil)
		if err != nil || s.Interfaces[0].Group.IsValid() || s.Interfaces[0].Broadcast {
			t.Errorf("transport %q: %v %+v", tr, err, s.Interfaces)
		}
	}
}

func TestFromKeysUDPGroupErrors(t *testing.T) {
	for _, tc := range []struct {
		extra map[string]string
		want  string
	}{
		{map[string]string{"totem.interface.0.mcastaddr": "192.0.2.9"}, "not a multicast address"},
		{map[string]string{"totem.interface.0.mcastaddr": "ff15::1"}, "different families"},
		{map[string]string{"totem.interface.0.ttl": "256"}, "ttl"},
		{map[string]string{"totem.cluster_name": ""}, ""},
	} {
		keys := udpKeys(tc.extra)
		if tc.want == "" {
			delete(keys, "totem.cluster_name")
			tc.want = "cluster_name"
		}
		if _, err := FromKeys(keys, 1, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one mentioning %q", tc.extra, err, tc.want)
		}
	}
	keys := udpKeys(map[string]string{"totem.interface.0.broadcast": "yes", "nodelist.node.0.ring0_addr": "2001:db8::1"})
	if _, err := FromKeys(keys, 1, nil); err == nil || !strings.Contains(err.Error(), "IPv4") {
		t.Errorf("broadcast on IPv6: %v", err)
	}
}
