package monsvc

import (
	"fmt"
	"math"
	"testing"
)

// The expectations are glibc 2.36's sscanf on this machine (a C program run once).
func TestScanLikeGlibc(t *testing.T) {
	for _, c := range []struct {
		in   string
		ok   bool
		want string
	}{
		{"1e", true, "1"}, {"1e+", true, "1"}, {"100ergs", true, "100"}, {" 0.5x", true, "0.5"},
		{"0x1p3", true, "8"}, {"0x", false, ""}, {"0xg", false, ""}, {"inf", true, "+Inf"},
		{"-nan", true, "NaN"}, {"infinity", true, "+Inf"}, {"infinit", false, ""}, {"1.", true, "1"},
		{".", false, ""}, {"-.5", true, "-0.5"}, {"+", false, ""}, {"1e400", true, "+Inf"},
		{"1e-400", true, "0"}, {"0x1.8", true, "1.5"}, {"", false, ""}, {"0.02", true, "0.02"},
	} {
		v, ok := scanDouble(c.in)
		if ok != c.ok || ok && fmt.Sprint(v) != c.want {
			t.Errorf("%%lf %q: %v %v, want %v %s", c.in, v, ok, c.ok, c.want)
		}
	}
	for _, c := range []struct {
		in  string
		ok  bool
		i32 int32
		u64 uint64
	}{
		{"12abc", true, 12, 12}, {" -5", true, -5, 18446744073709551611}, {"+7", true, 7, 7},
		{"4294967297", true, 1, 4294967297}, {"99999999999999999999", true, -1, math.MaxUint64},
		{"-99999999999999999999", true, 0, math.MaxUint64}, {"2147483648", true, -2147483648, 2147483648},
		{"-", false, 0, 0}, {"+-1", false, 0, 0}, {"0x10", true, 0, 0}, {" \v\f12", true, 12, 12},
		{"9223372036854775808", true, -1, 9223372036854775808}, {"-9223372036854775808", true, 0, 9223372036854775808},
	} {
		i, ok1 := scanInt32(c.in)
		u, ok2 := scanUint64(c.in)
		if ok1 != c.ok || ok2 != c.ok || ok1 && (i != c.i32 || u != c.u64) {
			t.Errorf("%q: %%d %d %v, %%lu %d %v; want %v %d %d", c.in, i, ok1, u, ok2, c.ok, c.i32, c.u64)
		}
	}
}

// TestStrtod: strtod backs up where sscanf cannot.
func TestStrtod(t *testing.T) {
	for _, c := range []struct {
		in string
		v  float64
		n  int
	}{
		{"0x", 0, 1}, {"infinit", math.Inf(1), 3}, {" 0.52 1/109", 0.52, 5}, {"1e+", 1, 1}, {".", 0, 0},
	} {
		v, n := strtod(c.in)
		if v != c.v || n != c.n {
			t.Errorf("strtod(%q) = %v, %d; want %v, %d", c.in, v, n, c.v, c.n)
		}
	}
}
