package monsvc

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// mon reads max and poll_period from string keys with sscanf (glibc 2.36): leading
// blanks are skipped, trailing text is ignored, and out-of-range numbers behave as glibc's
// strtol/strtoul make them behave. These functions return what sscanf stores, or false
// where it converts nothing.

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func skipSpace(s string) string {
	for len(s) > 0 && isCSpace(s[0]) {
		s = s[1:]
	}
	return s
}

// scanDecimal reads an optional sign and at least one decimal digit: the sign, the
// magnitude saturated at math.MaxUint64, and whether it overflowed.
func scanDecimal(s string) (neg bool, mag uint64, overflow, ok bool) {
	s = skipSpace(s)
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	digits := 0
	for ; digits < len(s) && s[digits] >= '0' && s[digits] <= '9'; digits++ {
		d := uint64(s[digits] - '0')
		if mag > (math.MaxUint64-d)/10 {
			overflow = true
			mag = math.MaxUint64
			continue
		}
		if !overflow {
			mag = mag*10 + d
		}
	}
	return neg, mag, overflow, digits > 0
}

// scanUint64 is sscanf(s, "%" PRIu64): strtoul's rules, so "-1" is 2^64-1 and an overflow
// saturates.
func scanUint64(s string) (uint64, bool) {
	neg, mag, overflow, ok := scanDecimal(s)
	switch {
	case !ok:
		return 0, false
	case overflow:
		return math.MaxUint64, true
	case neg:
		return -mag, true
	}
	return mag, true
}

// scanInt32 is sscanf(s, "%" PRId32): glibc converts with strtol (64-bit, saturating) and
// stores the low 32 bits, so 4294967297 is 1 and 2147483648 is -2147483648.
func scanInt32(s string) (int32, bool) {
	neg, mag, overflow, ok := scanDecimal(s)
	if !ok {
		return 0, false
	}
	var v int64
	switch {
	case neg && (overflow || mag > 1<<63):
		v = math.MinInt64
	case neg:
		v = int64(-mag) // mag <= 2^63: two's complement gives -mag, MinInt64 included
	case overflow || mag > math.MaxInt64:
		v = math.MaxInt64
	default:
		v = int64(mag)
	}
	return int32(v), true
}

// scanDouble is sscanf(s, "%lf") as glibc does it: a decimal or hexadecimal number with an
// optional exponent (a dangling "e" or "p" is left unread), "inf", "infinity" or "nan" in
// any case. "0x" without a hex digit, "." and a partial "infinity" convert nothing.
func scanDouble(s string) (float64, bool) {
	v, n := readDouble(s, true)
	return v, n > 0
}

// strtod is C's strtod: the value and the bytes it used (0: none). It differs from
// scanDouble where strtod can back up: "0x" reads as 0 and "infinit" as inf.
func strtod(s string) (float64, int) { return readDouble(s, false) }

// readDouble reads a floating-point number after C blanks, as sscanf's %lf (asScanf) or
// strtod does, returning the bytes used.
func readDouble(s string, asScanf bool) (float64, int) {
	start := len(s)
	s = skipSpace(s)
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	v, n := readUnsignedDouble(s, asScanf)
	if n == 0 {
		return 0, 0
	}
	if neg {
		v = -v
	}
	return v, start - len(s) + n
}

func readUnsignedDouble(s string, asScanf bool) (float64, int) {
	lower := strings.ToLower(s[:min(len(s), 8)])
	switch {
	case strings.HasPrefix(lower, "nan"):
		return math.NaN(), 3
	case strings.HasPrefix(lower, "infinity"):
		return math.Inf(1), 8
	case strings.HasPrefix(lower, "infi") && asScanf:
		return 0, 0 // glibc's scanf reads on for "infinity" and cannot back up
	case strings.HasPrefix(lower, "inf"):
		return math.Inf(1), 3
	case strings.HasPrefix(lower, "0x"):
		if v, n := readHexDouble(s[2:]); n > 0 {
			return v, n + 2
		}
		if asScanf {
			return 0, 0
		}
		return 0, 1 // strtod backs up to the "0"
	}
	mant, rest := digitsDot(s, isDigit)
	if mant == "" || mant == "." {
		return 0, 0
	}
	exp := exponent(rest, 'e')
	v, ok := parseFloat(mant + exp)
	if !ok {
		return 0, 0
	}
	return v, len(mant) + len(exp)
}

func readHexDouble(s string) (float64, int) {
	mant, rest := digitsDot(s, isHexDigit)
	if mant == "" || mant == "." {
		return 0, 0
	}
	exp := exponent(rest, 'p')
	tok := "0x" + mant + exp
	if exp == "" {
		tok += "p0" // Go requires the exponent of a hex float
	}
	v, ok := parseFloat(tok)
	if !ok {
		return 0, 0
	}
	return v, len(mant) + len(exp)
}

// digitsDot reads digits with at most one '.', returning them and the rest.
func digitsDot(s string, digit func(byte) bool) (string, string) {
	i, dot := 0, false
	for i < len(s) && (digit(s[i]) || s[i] == '.' && !dot) {
		if s[i] == '.' {
			dot = true
		}
		i++
	}
	return s[:i], s[i:]
}

// exponent returns "e[sign]digits" (or with 'p') at the start of s, or "" when s has
// none or only a dangling marker.
func exponent(s string, marker byte) string {
	if len(s) < 2 || s[0]|0x20 != marker {
		return ""
	}
	i := 1
	if s[i] == '+' || s[i] == '-' {
		i++
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i {
		return ""
	}
	return s[:j]
}

func parseFloat(tok string) (float64, bool) {
	v, err := strconv.ParseFloat(tok, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return v, true // out of range: ±Inf or 0, as strtod gives
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }
