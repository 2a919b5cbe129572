package main

import (
	"math"
	"strconv"
	"strings"
)

// scanFloat is sscanf(s, "%f") for bitSize 32 and sscanf(s, "%lf") for 64. glibc's
// scanner first collects the longest run of characters that may continue a number,
// without backtracking, then converts it with strtof/strtod, and fails only when strtod
// could use none of it: "1e" and "1e+" are 1, "0x." is 0, ".", "-" and "0x" fail. "nan" and
// "inf" must be complete words ("infi" fails); "nan(...)" is read as "nan".
func scanFloat(s string, bitSize int) (float64, bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	rest := s[i:]
	switch {
	case hasFold(rest, "n"):
		if !hasFold(rest, "nan") {
			return 0, false
		}
		// glibc's default NaN, without the payload bit Go's math.NaN sets.
		nan := uint64(0x7ff8000000000000)
		if neg {
			nan |= 1 << 63
		}
		return math.Float64frombits(nan), true
	case hasFold(rest, "i"):
		if !hasFold(rest, "inf") || (hasFold(rest[3:], "i") && !hasFold(rest[3:], "inity")) {
			return 0, false
		}
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	return convertFloat(collectFloat(rest), neg, bitSize)
}

// hasFold reports whether s starts with the lower-case word w, ignoring case.
func hasFold(s, w string) bool {
	return len(s) >= len(w) && strings.EqualFold(s[:len(w)], w)
}

// collectFloat returns the characters glibc's "%f" scanner takes from s (after the sign):
// "0x" switches to hexadecimal with 'p' exponents; digits; one '.' before the exponent;
// the exponent letter once a digit was seen; a sign right after it; then more decimal
// digits.
func collectFloat(s string) string {
	i := 0
	hex := false
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		hex, i = true, 2
	}
	expChar := byte('e')
	if hex {
		expChar = 'p'
	}
	// glibc counts the 0 of a decimal number's leading "0" as a digit, but not a hex "0x".
	gotDigit, gotDot, gotE := false, false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			gotDigit = true
		case !gotE && hex && isHexDigit(c):
			gotDigit = true
		case gotE && s[i-1]|0x20 == expChar && (c == '+' || c == '-'):
		case gotDigit && !gotE && c|0x20 == expChar:
			gotE, gotDot = true, true
		case c == '.' && !gotDot:
			gotDot = true
		default:
			return s[:i]
		}
	}
	return s
}

// convertFloat is strtod/strtof on text collectFloat took: it uses the longest prefix
// that is a number and fails when there is none.
func convertFloat(t string, neg bool, bitSize int) (float64, bool) {
	sign := ""
	if neg {
		sign = "-"
	}
	if len(t) >= 2 && t[0] == '0' && t[1]|0x20 == 'x' {
		if len(t) == 2 {
			return 0, false // glibc refuses a bare "0x" before calling strtod
		}
		mant, exp, ok := hexPrefix(t[2:])
		if !ok {
			// "0x." has no hex digit: strtod reads just the "0".
			return parseFloatText(sign+"0", bitSize)
		}
		return parseFloatText(sign+"0x"+mant+"p"+exp, bitSize)
	}
	num, ok := decimalPrefix(t)
	if !ok {
		return 0, false
	}
	return parseFloatText(sign+num, bitSize)
}

// hexPrefix splits the hex float at the start of t (after "0x") into its mantissa and
// exponent ("0" when absent or incomplete); ok is false without a hex digit.
func hexPrefix(t string) (mant, exp string, ok bool) {
	i, digits := 0, 0
	for ; i < len(t) && isHexDigit(t[i]); i++ {
		digits++
	}
	if i < len(t) && t[i] == '.' {
		i++
		for ; i < len(t) && isHexDigit(t[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return "", "", false
	}
	mant, exp = t[:i], "0"
	if e, ok := exponentPrefix(t[i:], 'p'); ok {
		exp = e
	}
	return mant, exp, true
}

// decimalPrefix returns the decimal float at the start of t, if any.
func decimalPrefix(t string) (string, bool) {
	i, digits := 0, 0
	for ; i < len(t) && isDigit(t[i]); i++ {
		digits++
	}
	if i < len(t) && t[i] == '.' {
		i++
		for ; i < len(t) && isDigit(t[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return "", false
	}
	num := t[:i]
	if e, ok := exponentPrefix(t[i:], 'e'); ok {
		num += "e" + e
	}
	return num, true
}

// exponentPrefix reads an exponent (letter, optional sign, at least one digit) at the
// start of t and returns its signed digits, capped so that strconv accepts them.
func exponentPrefix(t string, letter byte) (string, bool) {
	if len(t) < 2 || t[0]|0x20 != letter {
		return "", false
	}
	i, sign := 1, ""
	if t[i] == '+' || t[i] == '-' {
		if t[i] == '-' {
			sign = "-"
		}
		i++
	}
	start := i
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	if i == start {
		return "", false
	}
	digits := strings.TrimLeft(t[start:i], "0")
	if digits == "" {
		digits = "0"
	}
	if len(digits) > 9 {
		// Far beyond any float's range; keeps strconv's exponent arithmetic in bounds.
		digits = "999999999"
	}
	return sign + digits, true
}

// parseFloatText converts a well-formed number, rounding once to the target size as
// strtof/strtod do; out-of-range values become ±Inf or zero, as glibc leaves them.
func parseFloatText(t string, bitSize int) (float64, bool) {
	f, err := strconv.ParseFloat(t, bitSize)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}
