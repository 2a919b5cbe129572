package monsvc

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func FuzzScan(f *testing.F) {
	for _, s := range []string{"10", "0.02", " -1", "1000x", "abc", "0x1p3", "infinity", "99999999999999999999", "1e", "+", ".5e-3", "nan"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, ok := scanUint64(s)
		i, ok2 := scanInt32(s)
		if ok != ok2 {
			t.Fatalf("%q: %%lu %v but %%d %v", s, ok, ok2)
		}
		// Plain decimal numbers in range read as strconv reads them.
		trimmed := strings.TrimLeft(s, " \t\n\v\f\r")
		if n, err := strconv.ParseUint(trimmed, 10, 64); err == nil && (!ok || u != n) {
			t.Fatalf("%q: %%lu %d %v, strconv %d", s, u, ok, n)
		}
		if n, err := strconv.ParseInt(trimmed, 10, 32); err == nil && (!ok || int64(i) != n) {
			t.Fatalf("%q: %%d %d %v, strconv %d", s, i, ok, n)
		}
		d, ok := scanDouble(s)
		if n, err := strconv.ParseFloat(trimmed, 64); err == nil && !strings.ContainsAny(trimmed, "xX_nN") && (!ok || d != n && !math.IsNaN(n)) {
			t.Fatalf("%q: %%lf %v %v, strconv %v", s, d, ok, n)
		}
		if v, n := strtod(s); n < 0 || n > len(s) || n == 0 && v != 0 {
			t.Fatalf("strtod(%q) = %v, %d", s, v, n)
		}
	})
}

func FuzzMemoryUsedPercent(f *testing.F) {
	f.Add([]byte(meminfoSample))
	f.Add([]byte("MemTotal: 100 kB\nMemFree: 50 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n"))
	f.Add([]byte("SwapTotal: -1 kB\nSwapFree: 99999999999999999999 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := MemoryUsedPercent(b)
		if err != nil && v != -1 {
			t.Fatalf("error %v with value %d", err, v)
		}
	})
}

func FuzzLoad15(f *testing.F) {
	f.Add([]byte("0.31 0.40 0.52 1/109 5511\n"))
	f.Add([]byte("0.00 0.00 0.00 1/1 1\n"))
	f.Add([]byte("inf nan 0x1p3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Load15(b)
		if err != nil && v != -1 {
			t.Fatalf("error %v with value %v", err, v)
		}
	})
}
