package main

import (
	"math"
	"testing"

	"github.com/corosync-go/corosync/ipc/cmap"
)

func TestParseValue(t *testing.T) {
	cases := []struct {
		typ, text string
		want      cmap.Value
		err       string
	}{
		{"i8", "127", cmap.Int8(127), ""},
		{"i8", "-128", cmap.Int8(-128), ""},
		{"i8", "128", cmap.Value{}, "128 is not valid i8 integer\n"},
		{"i8", "99999999999999999999", cmap.Value{}, "99999999999999999999 is not valid i8 integer\n"},
		{"i8", "x", cmap.Value{}, "x is not valid i8 type value\n"},
		{"i8", "", cmap.Value{}, " is not valid i8 type value\n"},
		{"i16", "-32769", cmap.Value{}, "-32769 is not valid i16 integer\n"},
		{"i32", "2147483647", cmap.Int32(math.MaxInt32), ""},
		{"i64", "-99999999999999999999", cmap.Int64(math.MinInt64), ""},
		{"u8", "255", cmap.Uint8(255), ""},
		{"u8", "-1", cmap.Value{}, "-1 is not valid u8 integer\n"},
		{"u16", "65536", cmap.Value{}, "65536 is not valid u16 integer\n"},
		{"u32", " 7x", cmap.Uint32(7), ""},
		{"u64", "-5", cmap.Uint64(math.MaxUint64 - 4), ""},
		{"flt", "1e", cmap.Float(1), ""},
		{"flt", "in", cmap.Value{}, "in is not valid flt type value\n"},
		{"dbl", "0x1.8", cmap.Double(1.5), ""},
		{"str", "a b", cmap.String("a b"), ""},
		{"str", "", cmap.String(""), ""},
		{"xyz", "1", cmap.Value{}, "Unknown type xyz\n"},
		{"U8", "1", cmap.Value{}, "Unknown type U8\n"},
	}
	for _, c := range cases {
		_, got, err := parseValue(c.typ, c.text)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("parseValue(%q, %q) error %v, want %q", c.typ, c.text, err, c.err)
			}
			continue
		}
		if err != nil || !got.Equal(c.want) {
			t.Errorf("parseValue(%q, %q) = %v, %v; want %v", c.typ, c.text, got, err, c.want)
		}
	}
	if typ, v, err := parseValue("bin", "/some/file"); err != nil || typ != cmap.TypeBinary || v.Type() != 0 {
		t.Errorf("bin: %v %v %v", typ, v, err)
	}
	// A float NaN keeps glibc's bits: sign, quiet bit, no payload.
	for text, bits := range map[string]uint32{"nan": 0x7fc00000, "-nan": 0xffc00000} {
		_, v, err := parseValue("flt", text)
		if err != nil || math.Float32bits(v.Float()) != bits {
			t.Errorf("flt %s: %#x, %v; want %#x", text, math.Float32bits(v.Float()), err, bits)
		}
	}
	for text, bits := range map[string]uint64{"nan": 0x7ff8000000000000, "-NAN": 0xfff8000000000000} {
		_, v, err := parseValue("dbl", text)
		if err != nil || math.Float64bits(v.Double()) != bits {
			t.Errorf("dbl %s: %#x, %v; want %#x", text, math.Float64bits(v.Double()), err, bits)
		}
	}
}

func FuzzParseValue(f *testing.F) {
	for _, typ := range []string{"i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "flt", "dbl", "str", "bin", "x"} {
		for _, s := range []string{"0", "-1", "300", "1e", "nan", "abc", ""} {
			f.Add(typ, s)
		}
	}
	f.Fuzz(func(t *testing.T, typ, text string) {
		got, v, err := parseValue(typ, text)
		if err != nil {
			if err.Error() == "" || err.Error()[len(err.Error())-1] != '\n' {
				t.Fatalf("message %q", err.Error())
			}
			return
		}
		if want := typeNames[typ]; got != want {
			t.Fatalf("type %v for %q", got, typ)
		}
		if got != cmap.TypeBinary && v.Type() != got {
			t.Fatalf("value of type %v for %v", v.Type(), got)
		}
	})
}
