package main

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// scanSeeds are inputs with known glibc answers or at the edges of the grammar.
var scanSeeds = []string{
	"", " ", "0", "5", "+5", "-5", " \t\n12", "12abc", "x", "-", "+", "--1", "+-1",
	"127", "128", "-128", "-129", "255", "256", "-1", "-0", "0x10", "010",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
	"18446744073709551615", "18446744073709551616", "-18446744073709551615", "-18446744073709551616",
	"99999999999999999999", "-99999999999999999999",
	"1.5", "1e", "1e+", "1e-", "1e5", "1E5", "1e+5x", ".5", ".", "-.", "-.e1", "5.", "1..2", "1.2.3",
	"inf", "INF", "-inf", "infinity", "Infinity", "infi", "infin", "infinit", "infx", "in", "i",
	"nan", "NaN", "-nan", "+nan", "nan(123)", "na", "n", "nanx",
	"0x", "0X", "0x.", "0x1", "0x1.8", "0x1p3", "0x1P-3", "0x1p", "0x1p+", "0xg", "0xp3", "0x.8p1",
	"0xe", "0x1e", "0x1ep1", "0x1.fffffep127", "0x1.ffffffp127", "0x1p-149", "0x1p-150",
	"1e40", "-1e40", "1e-50", "1e308", "1e309", "2e-308", "4.9e-324", "1e-400",
	"3.14159265358979", "0.1", "16777217", "1e99999999999999999999", "1e-99999999999999999999",
	"0e5", "00e1", "0.e1", "  -0x1.8", "\v7", "\f-3", "7\r",
}

func TestScanKnownAnswers(t *testing.T) {
	// Answers observed with the real corosync-cmapctl 3.1.7 (-s then -g).
	floats := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1.5", 1.5, true}, {"1e", 1, true}, {"1e+", 1, true}, {"inf", math.Inf(1), true},
		{"0x1.8", 1.5, true}, {"1e40", math.Inf(1), true}, {"infinity", math.Inf(1), true},
		{"in", 0, false}, {"1e-50", 0, true}, {".5", 0.5, true}, {".", 0, false},
	}
	for _, c := range floats {
		got, ok := scanFloat(c.in, 32)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("scanFloat(%q, 32) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if f, ok := scanFloat("nan", 64); !ok || !math.IsNaN(f) || math.Signbit(f) {
		t.Errorf("scanFloat(nan) = %v, %v", f, ok)
	}
	if f, ok := scanFloat("-nan", 32); !ok || !math.IsNaN(f) || !math.Signbit(f) {
		t.Errorf("scanFloat(-nan) = %v, %v", f, ok)
	}
	ints := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"127", 127, true}, {" 5", 5, true}, {"5x", 5, true}, {"x", 0, false}, {"", 0, false},
		{"+3", 3, true}, {"-", 0, false}, {"0x10", 0, true},
		{"99999999999999999999", math.MaxInt64, true}, {"-99999999999999999999", math.MinInt64, true},
	}
	for _, c := range ints {
		got, ok := scanInt64(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("scanInt64(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	uints := []struct {
		in   string
		want uint64
	}{
		{"-1", math.MaxUint64}, {"-5", math.MaxUint64 - 4}, {"-0", 0},
		{"18446744073709551616", math.MaxUint64}, {"-18446744073709551616", math.MaxUint64},
		{"-18446744073709551615", 1},
	}
	for _, c := range uints {
		if got, ok := scanUint64(c.in); !ok || got != c.want {
			t.Errorf("scanUint64(%q) = %d, %v; want %d", c.in, got, ok, c.want)
		}
	}
}

// scanLine formats this package's answers as the oracle's scan mode prints glibc's.
func scanLine(in string) string {
	i, iok := scanInt64(in)
	u, uok := scanUint64(in)
	f, fok := scanFloat(in, 32)
	d, dok := scanFloat(in, 64)
	b := func(ok bool) int {
		if ok {
			return 1
		}
		return 0
	}
	var fb uint32
	var db uint64
	if fok {
		fb = math.Float32bits(float32(f))
	}
	if dok {
		db = math.Float64bits(d)
	}
	if !iok {
		i = 0
	}
	if !uok {
		u = 0
	}
	return fmt.Sprintf("ld %d %d lu %d %d f %d %08x lf %d %016x", b(iok), i, b(uok), u, b(fok), fb, b(dok), db)
}

// randomNumberText builds strings from the characters the scanners care about.
func randomNumberText(r *rand.Rand) string {
	const alphabet = "0123456789012345678901234567890123456789+-.eEpPxXabcdfinINFtyNA() \t"
	n := r.IntN(14)
	var sb strings.Builder
	for range n {
		sb.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return sb.String()
}

func TestScanAgainstGlibc(t *testing.T) {
	oracle := buildOracle(t)
	inputs := append([]string(nil), scanSeeds...)
	r := rand.New(rand.NewPCG(1, 2))
	for range 30000 {
		inputs = append(inputs, randomNumberText(r))
	}
	var stdin strings.Builder
	for _, in := range inputs {
		stdin.WriteString(hex.EncodeToString([]byte(in)) + "\n")
	}
	out, _ := runOracle(t, oracle, []byte(stdin.String()), nil, "scan")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(inputs) {
		t.Fatalf("oracle answered %d lines for %d inputs", len(lines), len(inputs))
	}
	bad := 0
	for k, in := range inputs {
		if got := scanLine(in); got != lines[k] {
			t.Errorf("input %q:\n glibc %s\n   ours %s", in, lines[k], got)
			if bad++; bad > 20 {
				t.Fatal("too many differences")
			}
		}
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		i, iok := scanInt64(s)
		u, uok := scanUint64(s)
		if iok != uok {
			t.Fatalf("%q: %%ld ok %v but %%lu ok %v", s, iok, uok)
		}
		if iok && i >= 0 && uint64(i) != u && i != math.MaxInt64 {
			t.Fatalf("%q: %%ld %d but %%lu %d", s, i, u)
		}
		f32, ok32 := scanFloat(s, 32)
		f64, ok64 := scanFloat(s, 64)
		if ok32 != ok64 {
			t.Fatalf("%q: %%f ok %v but %%lf ok %v", s, ok32, ok64)
		}
		if ok32 && !math.IsNaN(f32) && float64(float32(f32)) != f32 {
			t.Fatalf("%q: %%f gave %v, not a float32", s, f32)
		}
		// Only a "0x" that no hex digit follows is an integer (0) but not a float.
		if rest := strings.TrimLeft(s, " \t\n\v\f\r+-"); iok && !ok64 && !hasFold(rest, "0x") {
			t.Fatalf("%q: an integer that is not a float", s)
		}
		// Within float32's normal range, %f is %lf rounded to float.
		if a := math.Abs(f64); ok64 && a >= 0x1p-126 && a <= math.MaxFloat32 && math.Abs(f32-f64) > a*0x1p-23 {
			t.Fatalf("%q: %%f %v and %%lf %v disagree", s, f32, f64)
		}
	})
}
