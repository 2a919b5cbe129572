package main

import (
	"math"
	"math/bits"
)

// These emulate the sscanf conversions set_key uses, as glibc performs them: only a
// prefix of the text has to be a number ("12abc" is 12), leading white space is skipped,
// and out-of-range numbers saturate instead of failing (glibc hands the digits to
// strtol/strtoul/strtod and ignores ERANGE).

// isCSpace is isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// scanDecimal reads white space, an optional sign and decimal digits, as "%ld" and "%lu"
// do. It reports the sign, the magnitude (saturated at 2^64-1 with overflow set), and ok
// when at least one digit was found.
func scanDecimal(s string) (neg bool, mag uint64, overflow, ok bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for ; i < len(s) && isDigit(s[i]); i++ {
		hi, lo := bits.Mul64(mag, 10)
		sum, carry := bits.Add64(lo, uint64(s[i]-'0'), 0)
		if hi != 0 || carry != 0 {
			overflow = true
		}
		mag = sum
	}
	if overflow {
		mag = math.MaxUint64
	}
	return neg, mag, overflow, i > start
}

// scanInt64 is sscanf(s, "%" PRId64): strtol's value, saturated at the int64 limits.
func scanInt64(s string) (int64, bool) {
	neg, mag, _, ok := scanDecimal(s)
	if !ok {
		return 0, false
	}
	switch {
	case neg && mag >= 1<<63:
		return math.MinInt64, true
	case neg:
		return -int64(mag), true
	case mag > math.MaxInt64:
		return math.MaxInt64, true
	}
	return int64(mag), true
}

// scanUint64 is sscanf(s, "%" PRIu64): strtoul's value, which accepts a minus sign and
// negates modulo 2^64 ("-1" is 18446744073709551615), and saturates an overflowing
// magnitude at 2^64-1 whatever the sign.
func scanUint64(s string) (uint64, bool) {
	neg, mag, overflow, ok := scanDecimal(s)
	if !ok {
		return 0, false
	}
	if neg && !overflow {
		return -mag, true
	}
	return mag, true
}
