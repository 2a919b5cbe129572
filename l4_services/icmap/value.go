package icmap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Type is a cmap value type, numbered as corosync numbers them on the wire.
type Type uint8

// The value types (icmap.h, cmap.h).
const (
	Int8   Type = 1
	Uint8  Type = 2
	Int16  Type = 3
	Uint16 Type = 4
	Int32  Type = 5
	Uint32 Type = 6
	Int64  Type = 7
	Uint64 Type = 8
	Float  Type = 9
	Double Type = 10
	String Type = 11
	Binary Type = 12
)

var typeNames = [...]string{"", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "flt", "dbl", "str", "bin"}

// String is the short name corosync-cmapctl prints and accepts (u32, str, ...).
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the twelve types.
func (t Type) Valid() bool { return t >= Int8 && t <= Binary }

// FixedSize is the byte length of a value of a fixed-size type, 0 for String and Binary.
func (t Type) FixedSize() int {
	switch t {
	case Int8, Uint8:
		return 1
	case Int16, Uint16:
		return 2
	case Int32, Uint32, Float:
		return 4
	case Int64, Uint64, Double:
		return 8
	}
	return 0
}

// Integer reports whether values of t can be adjusted with Adjust (cmap_inc/cmap_dec).
func (t Type) Integer() bool { return t >= Int8 && t <= Uint64 }

// MaxValueBytes is the largest value icmap stores (ICMAP_MAX_VALUE_LEN).
const MaxValueBytes = 16 * 1024

// Value is a typed cmap value: Data is its little-endian encoding, as it travels in cmap
// messages; a String's Data ends with its NUL, as corosync stores it.
type Value struct {
	Type Type
	Data []byte
}

func fixed(t Type, n int, put func([]byte)) Value {
	b := make([]byte, n)
	put(b)
	return Value{t, b}
}

// I8 returns an Int8 value.
func I8(v int8) Value { return Value{Int8, []byte{byte(v)}} }

// U8 returns a Uint8 value.
func U8(v uint8) Value { return Value{Uint8, []byte{v}} }

// I16 returns an Int16 value.
func I16(v int16) Value {
	return fixed(Int16, 2, func(b []byte) { binary.LittleEndian.PutUint16(b, uint16(v)) })
}

// U16 returns a Uint16 value.
func U16(v uint16) Value {
	return fixed(Uint16, 2, func(b []byte) { binary.LittleEndian.PutUint16(b, v) })
}

// I32 returns an Int32 value.
func I32(v int32) Value {
	return fixed(Int32, 4, func(b []byte) { binary.LittleEndian.PutUint32(b, uint32(v)) })
}

// U32 returns a Uint32 value.
func U32(v uint32) Value {
	return fixed(Uint32, 4, func(b []byte) { binary.LittleEndian.PutUint32(b, v) })
}

// I64 returns an Int64 value.
func I64(v int64) Value {
	return fixed(Int64, 8, func(b []byte) { binary.LittleEndian.PutUint64(b, uint64(v)) })
}

// U64 returns a Uint64 value.
func U64(v uint64) Value {
	return fixed(Uint64, 8, func(b []byte) { binary.LittleEndian.PutUint64(b, v) })
}

// F32 returns a Float value.
func F32(v float32) Value {
	return fixed(Float, 4, func(b []byte) { binary.LittleEndian.PutUint32(b, math.Float32bits(v)) })
}

// F64 returns a Double value.
func F64(v float64) Value {
	return fixed(Double, 8, func(b []byte) { binary.LittleEndian.PutUint64(b, math.Float64bits(v)) })
}

// Str returns a String value (stored with its terminating NUL; anything after an
// embedded NUL is dropped, as C would).
func Str(s string) Value {
	if i := bytes.IndexByte([]byte(s), 0); i >= 0 {
		s = s[:i]
	}
	return Value{String, append([]byte(s), 0)}
}

// Bin returns a Binary value holding a copy of b.
func Bin(b []byte) Value { return Value{Binary, append([]byte(nil), b...)} }

// Uint returns an integer value widened to uint64 (sign-extended for signed types).
func (v Value) Uint() (uint64, bool) {
	if !v.Type.Integer() || len(v.Data) != v.Type.FixedSize() {
		return 0, false
	}
	switch v.Type {
	case Int8:
		return uint64(int64(int8(v.Data[0]))), true
	case Uint8:
		return uint64(v.Data[0]), true
	case Int16:
		return uint64(int64(int16(binary.LittleEndian.Uint16(v.Data)))), true
	case Uint16:
		return uint64(binary.LittleEndian.Uint16(v.Data)), true
	case Int32:
		return uint64(int64(int32(binary.LittleEndian.Uint32(v.Data)))), true
	case Uint32:
		return uint64(binary.LittleEndian.Uint32(v.Data)), true
	}
	return binary.LittleEndian.Uint64(v.Data), true
}

// Text is the value as corosync-cmapctl prints it after "= ".
func (v Value) Text() string {
	switch v.Type {
	case Int8, Int16, Int32, Int64:
		u, _ := v.Uint()
		return strconv.FormatInt(int64(u), 10)
	case Uint8, Uint16, Uint32, Uint64:
		u, _ := v.Uint()
		return strconv.FormatUint(u, 10)
	case Float:
		if len(v.Data) == 4 {
			return fmt.Sprintf("%f", math.Float32frombits(binary.LittleEndian.Uint32(v.Data)))
		}
	case Double:
		if len(v.Data) == 8 {
			return fmt.Sprintf("%f", math.Float64frombits(binary.LittleEndian.Uint64(v.Data)))
		}
	case String:
		if i := bytes.IndexByte(v.Data, 0); i >= 0 {
			return string(v.Data[:i])
		}
		return string(v.Data)
	case Binary:
		// As corosync-cmapctl -b prints it: printable bytes as is, a backslash doubled,
		// others as \xNN, where C's signed char sign-extends bytes from 0x80 up.
		var b bytes.Buffer
		for _, c := range v.Data {
			switch {
			case c == '\\':
				b.WriteString(`\\`)
			case c >= ' ' && c < 0x7f:
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, "\\x%02X", uint32(int32(int8(c))))
			}
		}
		return b.String()
	}
	return ""
}

// Equal reports whether two values have the same type and bytes.
func (v Value) Equal(w Value) bool { return v.Type == w.Type && bytes.Equal(v.Data, w.Data) }

// Clone returns a copy that shares no memory with v.
func (v Value) Clone() Value { return Value{v.Type, append([]byte(nil), v.Data...)} }
