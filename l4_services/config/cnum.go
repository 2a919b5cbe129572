package config

import (
	"math"
	"strings"
)

// Number parsing with the C library's rules, because corosync's acceptance of a value is
// whatever strtoll, strtoull, atoi and sscanf accept.

// cSpace reports whether c is whitespace to C's isspace in the C locale.
func cSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// cDigits splits s (after C whitespace) into sign and decimal digits: neg, the digits and
// what follows them. ok is false when there is no digit.
func cDigits(s string) (neg bool, digits, rest string, ok bool) {
	i := 0
	for i < len(s) && cSpace(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return false, "", s, false
	}
	return neg, s[i:j], s[j:], true
}

// accumulate returns the digits' value and whether it fits in limit.
func accumulate(digits string, limit uint64) (uint64, bool) {
	var n uint64
	for i := 0; i < len(digits); i++ {
		d := uint64(digits[i] - '0')
		if n > (limit-d)/10 {
			return limit, false
		}
		n = n*10 + d
	}
	return n, true
}

// strtoll parses a whole string as C's strtoll(s, &end, 10) followed by a check that end
// reached the end: ok is false for no digits, trailing characters or ERANGE.
func strtoll(s string) (int64, bool) {
	neg, digits, rest, ok := cDigits(s)
	if !ok || rest != "" {
		return 0, false
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	n, fits := accumulate(digits, limit)
	if !fits {
		return 0, false
	}
	if neg {
		return -int64(n-1) - 1, true
	}
	return int64(n), true
}

// strtoull parses a whole string as C's strtoull: a leading minus negates modulo 2^64
// (so "-1" is the largest value), overflow is an error.
func strtoull(s string) (uint64, bool) {
	neg, digits, rest, ok := cDigits(s)
	if !ok || rest != "" {
		return 0, false
	}
	n, fits := accumulate(digits, math.MaxUint64)
	if !fits {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// strtolPrefix is C's strtol(s, &end, 10) on a 64-bit long: the value (clamped on
// overflow), what follows the number and whether there was one.
func strtolPrefix(s string) (int64, string, bool) {
	neg, digits, rest, ok := cDigits(s)
	if !ok {
		return 0, s, false
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	n, _ := accumulate(digits, limit)
	if neg {
		return -int64(n-1) - 1, rest, true
	}
	return int64(n), rest, true
}

// atoi is C's atoi: strtol truncated to int, 0 when there is no number.
func atoi(s string) int32 {
	n, _, _ := strtolPrefix(s)
	return int32(n)
}

// scanU is sscanf's %u: an optional sign and digits (after whitespace), converted as
// strtoul does and stored in a 32-bit unsigned int. It returns the value and the rest.
func scanU(s string) (uint32, string, bool) {
	neg, digits, rest, ok := cDigits(s)
	if !ok {
		return 0, s, false
	}
	n, fits := accumulate(digits, math.MaxUint64)
	if !fits {
		n = math.MaxUint64
	} else if neg {
		n = -n
	}
	return uint32(n), rest, true
}

// scanS is sscanf's %s: after whitespace, the run of non-whitespace characters (at least
// one).
func scanS(s string) (string, bool) {
	i := 0
	for i < len(s) && cSpace(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !cSpace(s[j]) {
		j++
	}
	return s[i:j], j > i
}

// scanNodeKey matches "nodelist.node.%u.%s" and reports how many fields sscanf would
// assign (0, 1 or 2) with the node position and the rest.
func scanNodeKey(key string) (pos uint32, item string, n int) {
	s, ok := strings.CutPrefix(key, "nodelist.node.")
	if !ok {
		return 0, "", 0
	}
	pos, s, ok = scanU(s)
	if !ok {
		return 0, "", 0
	}
	s, ok = strings.CutPrefix(s, ".")
	if !ok {
		return pos, "", 1
	}
	item, ok = scanS(s)
	if !ok {
		return pos, "", 1
	}
	return pos, item, 2
}

// scanRingKey matches "nodelist.node.%u.ring%u%s", reporting sscanf's field count.
func scanRingKey(key string) (pos, link uint32, tail string, n int) {
	s, ok := strings.CutPrefix(key, "nodelist.node.")
	if !ok {
		return 0, 0, "", 0
	}
	pos, s, ok = scanU(s)
	if !ok {
		return 0, 0, "", 0
	}
	if s, ok = strings.CutPrefix(s, ".ring"); !ok {
		return pos, 0, "", 1
	}
	if link, s, ok = scanU(s); !ok {
		return pos, 0, "", 1
	}
	if tail, ok = scanS(s); !ok {
		return pos, link, "", 2
	}
	return pos, link, tail, 3
}

// scanSegment matches prefix + "%[^.].%s": the segment up to the next dot and the rest.
func scanSegment(key, prefix string) (seg, rest string, ok bool) {
	s, found := strings.CutPrefix(key, prefix)
	if !found {
		return "", "", false
	}
	dot := strings.IndexByte(s, '.')
	if dot <= 0 {
		return "", "", false
	}
	rest, ok = scanS(s[dot+1:])
	return s[:dot], rest, ok
}
