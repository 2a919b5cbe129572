package cmap

import (
	"errors"
	"math"
	"testing"
)

func TestValueAccessorsAndFormat(t *testing.T) {
	cases := []struct {
		v    Value
		typ  Type
		size int
		text string
		ok   func(Value) bool
	}{
		{Int8(-5), TypeInt8, 1, "-5", func(v Value) bool { return v.Int8() == -5 }},
		{Uint8(200), TypeUint8, 1, "200", func(v Value) bool { return v.Uint8() == 200 }},
		{Int16(-300), TypeInt16, 2, "-300", func(v Value) bool { return v.Int16() == -300 }},
		{Uint16(60000), TypeUint16, 2, "60000", func(v Value) bool { return v.Uint16() == 60000 }},
		{Int32(math.MinInt32), TypeInt32, 4, "-2147483648", func(v Value) bool { return v.Int32() == math.MinInt32 }},
		{Uint32(4000000000), TypeUint32, 4, "4000000000", func(v Value) bool { return v.Uint32() == 4000000000 }},
		{Int64(-1), TypeInt64, 8, "-1", func(v Value) bool { return v.Int64() == -1 }},
		{Uint64(math.MaxUint64), TypeUint64, 8, "18446744073709551615", func(v Value) bool { return v.Uint64() == math.MaxUint64 }},
		{Float(0.1), TypeFloat, 4, "0.100000", func(v Value) bool { return v.Float() == 0.1 }},
		{Double(2.5), TypeDouble, 8, "2.500000", func(v Value) bool { return v.Double() == 2.5 }},
		{String("abc"), TypeString, 4, "abc", func(v Value) bool { return v.String() == "abc" }},
		{Binary([]byte{0xde, 0xad}), TypeBinary, 2, "dead", func(v Value) bool { return string(v.Binary()) == "\xde\xad" }},
	}
	for _, c := range cases {
		if c.v.Type() != c.typ || c.v.Len() != c.size || c.v.String() != c.text || !c.ok(c.v) {
			t.Errorf("%s value: type %s, %d bytes, %q", c.typ, c.v.Type(), c.v.Len(), c.v.String())
		}
		if err := c.v.check(); err != nil {
			t.Errorf("%s value refused: %v", c.typ, err)
		}
		// Accessors of another type read zero.
		if c.typ != TypeUint32 && c.v.Uint32() != 0 {
			t.Errorf("Uint32 of a %s is %d", c.typ, c.v.Uint32())
		}
		if c.typ != TypeBinary && c.v.Binary() != nil {
			t.Errorf("Binary of a %s is not nil", c.typ)
		}
		w, err := NewValue(c.typ, c.v.Bytes())
		if err != nil || !w.Equal(c.v) {
			t.Errorf("NewValue(%s) = %v, %v", c.typ, w, err)
		}
	}
	if Float(0.1).String() != "0.100000" {
		t.Error("float formatting differs from C printf")
	}
	if s, err := NewValue(TypeString, []byte("no nul")); err != nil || !s.Equal(String("no nul")) {
		t.Errorf("NewValue adds the NUL: %v %v", s, err)
	}
	for _, bad := range []struct {
		t Type
		b []byte
	}{{0, nil}, {13, nil}, {TypeUint64, []byte{1}}, {TypeInt8, nil}} {
		if _, err := NewValue(bad.t, bad.b); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("NewValue(%d, %x): %v", bad.t, bad.b, err)
		}
	}
	var zero Value
	if zero.Type() != 0 || zero.String() != "" || zero.check() == nil {
		t.Error("the zero Value")
	}
	if TypeBinary.String() != "bin" || Type(99).String() != "type(99)" {
		t.Error("type names")
	}
	if (TrackAdd|TrackPrefix).String() != "add|prefix" || TrackType(0).String() != "0x0" || TrackType(16|1).String() != "delete|0x10" {
		t.Errorf("track type names: %s %s %s", TrackAdd|TrackPrefix, TrackType(0), TrackType(17))
	}
	b := Binary([]byte{1})
	raw := b.Bytes()
	raw[0] = 9
	if b.Binary()[0] != 1 {
		t.Error("Bytes shares the value's memory")
	}
}
