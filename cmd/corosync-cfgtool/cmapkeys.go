package main

import (
	"math"
	"strconv"
	"strings"
)

// Key prefixes corosync-cfgtool reads from cmap.
const (
	nodelistPrefix  = "nodelist.node."
	interfacePrefix = "totem.interface."
	transportKey    = "totem.transport"
)

// isNodeIDKey reports whether key is a node's id key, "nodelist.node.<n>.nodeid" and
// nothing more, with <n> as sscanf's %u reads it (white space, a sign, decimal digits).
func isNodeIDKey(key string) bool {
	rest, ok := strings.CutPrefix(key, nodelistPrefix)
	if !ok {
		return false
	}
	_, rest, ok = scanUnsigned(rest)
	return ok && rest == ".nodeid"
}

// interfaceLink returns the link number of a "totem.interface.<n>...." key as
// corosync-cfgtool 3.1.7 reads it: sscanf's %u after the prefix, whatever follows, so
// every key of an interface section counts. <n> is strtoul's value cut to 32 bits.
func interfaceLink(key string) (uint32, bool) {
	rest, ok := strings.CutPrefix(key, interfacePrefix)
	if !ok {
		return 0, false
	}
	n, _, ok := scanUnsigned(rest)
	return n, ok
}

// transportKeyOf is the cmap key of a link's knet transport.
func transportKeyOf(link uint32) string {
	return interfacePrefix + strconv.FormatUint(uint64(link), 10) + ".knet_transport"
}

// scanUnsigned reads a number at the start of s as scanf's %u does: optional white
// space, an optional sign, at least one decimal digit. The value is strtoul's (saturated
// at 2^64-1, negated modulo 2^64) cut to 32 bits, as glibc stores it in an unsigned int.
func scanUnsigned(s string) (n uint32, rest string, ok bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	overflow := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			overflow = true
		}
		v = v*10 + d
	}
	if i == start {
		return 0, s, false
	}
	switch {
	case overflow:
		v = math.MaxUint64
	case neg:
		v = -v
	}
	return uint32(v), s[i:], true
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}
