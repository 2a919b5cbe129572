package transport

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// udpPort is the port of link l under transport: udp, as corosync 3.1.7's totemconfig.c
// sets it: mcastport as given (not plus the link number, as knet's links take it), else
// 5405 + l, or 5405 + 2l with broadcast: yes.
func udpPort(keys map[string]string, prefix string, l, mcastport int) int {
	if _, ok := keys[prefix+"mcastport"]; ok {
		return mcastport
	}
	if keys[prefix+"broadcast"] == "yes" {
		return DefaultPort + 2*l
	}
	return DefaultPort + l
}

// groupSettings reads the group keys of link l under transport: udp into ifs, whose Local
// must be set: broadcast, ttl, and mcastaddr, which defaults as in corosync 3.1.7 to a
// group derived from totem.cluster_name (the daemon finds it in the map, where corosync
// and our config.Derive store it). A ttl of 0 runs as 1 (udp.Config's zero value).
func groupSettings(keys map[string]string, prefix string, l int, ifs *InterfaceSettings, lookup func(string) (netip.Addr, error)) error {
	ifs.TTL = 1
	if v, ok := keys[prefix+"ttl"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 255 {
			return fmt.Errorf("transport: %sttl = %q is not in 0..255", prefix, v)
		}
		ifs.TTL = max(n, 1)
	}
	local := ifs.Local.Addr()
	v6 := local.Is6() && !local.Is4In6()
	if keys[prefix+"broadcast"] == "yes" {
		if v6 {
			return fmt.Errorf("transport: %sbroadcast needs an IPv4 address, have %s", prefix, local)
		}
		ifs.Broadcast = true
		return nil
	}
	if v, ok := keys[prefix+"mcastaddr"]; ok {
		a, err := resolve(v, lookup)
		if err != nil || !a.IsMulticast() {
			return fmt.Errorf("transport: %smcastaddr = %q is not a multicast address", prefix, v)
		}
		if a.Is6() != v6 {
			return fmt.Errorf("transport: %smcastaddr %s and the local address %s are of different families", prefix, a, local)
		}
		ifs.Group = a
		return nil
	}
	name, ok := keys["totem.cluster_name"]
	if !ok {
		return fmt.Errorf("transport: %s: transport udp needs mcastaddr, or totem.cluster_name to derive it from", strings.TrimSuffix(prefix, "."))
	}
	ifs.Group = DefaultGroup(name, l, v6)
	return nil
}

// DefaultGroup is corosync 3.1.7's multicast address for link l when mcastaddr is not
// set (get_cluster_mcast_addr): a 16-bit id from the cluster name (each byte, as C's
// signed char, added to the doubled sum) plus the link number, as 239.192.<id/256>.<id
// mod 255> (sic: 255, not 256), or ff15::<id in hex>.
func DefaultGroup(clusterName string, l int, v6 bool) netip.Addr {
	var v int32
	for i := 0; i < len(clusterName); i++ {
		v = v<<1 + int32(int8(clusterName[i]))
	}
	id := uint16(v) + uint16(l)
	if v6 {
		return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x15, 14: byte(id >> 8), 15: byte(id)})
	}
	return netip.AddrFrom4([4]byte{239, 192, byte(id >> 8), byte(id % 0xff)})
}
