package config

import (
	"net/netip"
	"strings"
)

// ipVersion is totem.ip_version (TOTEM_IP_VERSION_*).
type ipVersion uint8

const (
	ipv4 ipVersion = iota
	ipv6
	ipv6v4 // try IPv6, then IPv4 (the default for knet and udpu)
	ipv4v6
)

// resolve is totemip_parse: getaddrinfo of addr restricted to the family ip_version asks
// for, and for the two mixed versions the first address of the preferred family, else
// the first of the other. ok is false when nothing suitable resolves.
func (s *loader) resolve(addr string, ver ipVersion) (netip.Addr, bool) {
	var list []netip.Addr
	if a, ok := parseNumeric(addr); ok {
		list = []netip.Addr{a}
	} else if s.host.LookupIP != nil {
		var err error
		if list, err = s.host.LookupIP(s.ctx, addr); err != nil {
			return netip.Addr{}, false
		}
	}
	first := func(v4 bool) (netip.Addr, bool) {
		for _, a := range list {
			if a.Unmap().Is4() == v4 {
				return a.Unmap(), true
			}
		}
		return netip.Addr{}, false
	}
	switch ver {
	case ipv4:
		return first(true)
	case ipv6:
		return first(false)
	case ipv6v4:
		if a, ok := first(false); ok {
			return a, true
		}
		return first(true)
	}
	if a, ok := first(true); ok {
		return a, true
	}
	return first(false)
}

// parseNumeric accepts what getaddrinfo takes as a numeric host: an IPv6 address (with an
// optional %scope) or an IPv4 address in any inet_aton form ("127.1", "0x7f.0.0.1",
// "2130706433").
func parseNumeric(s string) (netip.Addr, bool) {
	if strings.Contains(s, ":") {
		a, err := netip.ParseAddr(s)
		return a, err == nil && a.Is6()
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		v, ok := atonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	// The last part fills the bytes the earlier ones leave.
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*uint(i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*uint(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// atonPart parses one inet_aton number: 0x hexadecimal, 0 octal, else decimal.
func atonPart(p string) (uint64, bool) {
	base := uint64(10)
	switch {
	case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true // inet_aton takes a bare "0x" as zero
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(p); i++ {
		c := p[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		n = n*base + d
		if n > 0xffffffff {
			return 0, false
		}
	}
	return n, true
}

// ipString is inet_ntop's form of an address (no scope).
func ipString(a netip.Addr) string { return a.WithZone("").String() }
