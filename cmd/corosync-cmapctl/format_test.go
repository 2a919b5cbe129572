package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc/cmap"
)

func TestAppendKey(t *testing.T) {
	plain, bin, quiet, quietBin := printFlags{}, printFlags{showBinary: true}, printFlags{quiet: true}, printFlags{quiet: true, showBinary: true}
	cases := []struct {
		v     cmap.Value
		flags printFlags
		want  string
	}{
		{cmap.Int8(-5), plain, "k (i8) = -5\n"},
		{cmap.Uint8(255), plain, "k (u8) = 255\n"},
		{cmap.Int16(-32768), plain, "k (i16) = -32768\n"},
		{cmap.Uint16(65535), plain, "k (u16) = 65535\n"},
		{cmap.Int32(-1), plain, "k (i32) = -1\n"},
		{cmap.Uint32(4294967295), plain, "k (u32) = 4294967295\n"},
		{cmap.Int64(math.MinInt64), plain, "k (i64) = -9223372036854775808\n"},
		{cmap.Uint64(math.MaxUint64), plain, "k (u64) = 18446744073709551615\n"},
		{cmap.Float(1.5), plain, "k (flt) = 1.500000\n"},
		{cmap.Double(-0.0078125), plain, "k (dbl) = -0.007812\n"},
		{cmap.Double(math.Inf(-1)), plain, "k (dbl) = -inf\n"},
		{cmap.String("r(0) ip(127.0.0.1) "), plain, "k (str) = r(0) ip(127.0.0.1) \n"},
		{cmap.String(""), plain, "k (str) = \n"},
		{cmap.Binary([]byte("a")), plain, "k (bin)\n"},
		{cmap.Binary([]byte("a\\b\x01\x7f\x80\xff\"z")), bin, `k (bin) = a\\b\x01\x7F\xFFFFFF80\xFFFFFFFF"z` + "\n"},
		{cmap.Uint32(7), quiet, "7\n"},
		{cmap.String("x y"), quiet, "x y\n"},
		{cmap.Binary([]byte{0}), quiet, "bin)\n"},
		{cmap.Binary([]byte{0}), quietBin, `bin) = \x00` + "\n"},
		{cmap.Binary(nil), bin, "k (bin) = \n"},
	}
	for _, c := range cases {
		if got := string(appendKey(nil, "k", c.v.Type(), c.v, c.flags)); got != c.want {
			t.Errorf("appendKey(%s %v, %+v) = %q, want %q", c.v.Type(), c.v, c.flags, got, c.want)
		}
	}
	if got := string(appendKey(nil, "k", 0, cmap.Value{}, plain)); got != "k (\n" {
		t.Errorf("unknown type: %q", got)
	}
}

func TestAppendBinaryEveryByte(t *testing.T) {
	for c := range 256 {
		var want string
		switch {
		case c == '\\':
			want = `\\`
		case c >= 0x20 && c < 0x7f:
			want = string(rune(c))
		case c >= 0x80:
			// printf("%02X") of a sign-extended char, as x86-64's signed char gives.
			want = fmt.Sprintf(`\x%02X`, uint32(int32(int8(c))))
		default:
			want = fmt.Sprintf(`\x%02X`, c)
		}
		if got := string(appendBinary(nil, []byte{byte(c)})); got != want {
			t.Errorf("byte %#x: %q, want %q", c, got, want)
		}
	}
}

func TestPrintfFAgainstGlibc(t *testing.T) {
	oracle := buildOracle(t)
	doubles := []uint64{
		math.Float64bits(0), math.Float64bits(math.Copysign(0, -1)), math.Float64bits(1e308),
		math.Float64bits(math.MaxFloat64), math.Float64bits(math.SmallestNonzeroFloat64),
		math.Float64bits(0.0078125), math.Float64bits(0.0000005), math.Float64bits(2.5e-6),
		math.Float64bits(1.0000005), math.Float64bits(123456.7890125),
		0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff0000000000001,
	}
	floats := []uint32{
		math.Float32bits(1.5), math.Float32bits(math.MaxFloat32), math.Float32bits(3.4e38),
		0x7fc00000, 0xffc00000, 0x7f800000, 0xff800000, 1, 0x80000001,
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		doubles = append(doubles, r.Uint64())
		// Values with few integer digits exercise the rounding of the sixth decimal.
		doubles = append(doubles, math.Float64bits(r.NormFloat64()*math.Pow(10, float64(r.IntN(12)-6))))
		floats = append(floats, r.Uint32())
	}
	var in strings.Builder
	var want []string
	for _, d := range doubles {
		fmt.Fprintf(&in, "d %016x\n", d)
		want = append(want, string(appendPrintfF(nil, math.Float64frombits(d))))
	}
	for _, f := range floats {
		fmt.Fprintf(&in, "f %08x\n", f)
		want = append(want, string(appendPrintfF(nil, float64(math.Float32frombits(f)))))
	}
	out, _ := runOracle(t, oracle, []byte(in.String()), nil, "printf")
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("oracle printed %d lines for %d values", len(got), len(want))
	}
	lines := strings.Split(in.String(), "\n")
	bad := 0
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: glibc %q, ours %q", lines[i], got[i], want[i])
			if bad++; bad > 20 {
				t.Fatal("too many differences")
			}
		}
	}
}
