package cmap

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"github.com/corosync-go/corosync/ipc"
)

// Type is a cmap value type (cmap_value_types_t), numbered as on the wire.
type Type uint8

// The value types of corosync 3.1.7's cmap.h.
const (
	TypeInt8   Type = 1
	TypeUint8  Type = 2
	TypeInt16  Type = 3
	TypeUint16 Type = 4
	TypeInt32  Type = 5
	TypeUint32 Type = 6
	TypeInt64  Type = 7
	TypeUint64 Type = 8
	TypeFloat  Type = 9
	TypeDouble Type = 10
	TypeString Type = 11
	TypeBinary Type = 12
)

var typeNames = [...]string{"", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "flt", "dbl", "str", "bin"}

// String is the short name corosync-cmapctl prints (u32, str, ...).
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the twelve cmap types.
func (t Type) Valid() bool { return t >= TypeInt8 && t <= TypeBinary }

// Size is the byte length of a value of a fixed-size type, and 0 for strings and binaries.
func (t Type) Size() int {
	switch t {
	case TypeInt8, TypeUint8:
		return 1
	case TypeInt16, TypeUint16:
		return 2
	case TypeInt32, TypeUint32, TypeFloat:
		return 4
	case TypeInt64, TypeUint64, TypeDouble:
		return 8
	}
	return 0
}

// Value is a typed cmap value: its type and its bytes as they travel in cmap messages
// (little-endian numbers; a string with its terminating NUL, as corosync stores it). The
// zero Value has no type; it is what a notification carries for a side that does not exist
// (the old value of an addition, the new value of a deletion).
type Value struct {
	typ  Type
	data []byte
}

func fixed(t Type, n int, put func(b []byte)) Value {
	b := make([]byte, n)
	put(b)
	return Value{typ: t, data: b}
}

// Int8 returns an int8 value.
func Int8(v int8) Value { return Value{typ: TypeInt8, data: []byte{uint8(v)}} }

// Uint8 returns a uint8 value.
func Uint8(v uint8) Value { return Value{typ: TypeUint8, data: []byte{v}} }

// Int16 returns an int16 value.
func Int16(v int16) Value {
	return fixed(TypeInt16, 2, func(b []byte) { binary.LittleEndian.PutUint16(b, uint16(v)) })
}

// Uint16 returns a uint16 value.
func Uint16(v uint16) Value {
	return fixed(TypeUint16, 2, func(b []byte) { binary.LittleEndian.PutUint16(b, v) })
}

// Int32 returns an int32 value.
func Int32(v int32) Value {
	return fixed(TypeInt32, 4, func(b []byte) { binary.LittleEndian.PutUint32(b, uint32(v)) })
}

// Uint32 returns a uint32 value.
func Uint32(v uint32) Value {
	return fixed(TypeUint32, 4, func(b []byte) { binary.LittleEndian.PutUint32(b, v) })
}

// Int64 returns an int64 value.
func Int64(v int64) Value {
	return fixed(TypeInt64, 8, func(b []byte) { binary.LittleEndian.PutUint64(b, uint64(v)) })
}

// Uint64 returns a uint64 value.
func Uint64(v uint64) Value {
	return fixed(TypeUint64, 8, func(b []byte) { binary.LittleEndian.PutUint64(b, v) })
}

// Float returns a float value (C float, 4 bytes).
func Float(v float32) Value {
	return fixed(TypeFloat, 4, func(b []byte) { binary.LittleEndian.PutUint32(b, math.Float32bits(v)) })
}

// Double returns a double value.
func Double(v float64) Value {
	return fixed(TypeDouble, 8, func(b []byte) { binary.LittleEndian.PutUint64(b, math.Float64bits(v)) })
}

// String returns a string value (stored with a terminating NUL). A string holding a NUL
// cannot be stored: Set refuses it.
func String(s string) Value {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return Value{typ: TypeString, data: b}
}

// Binary returns a binary value holding a copy of b.
func Binary(b []byte) Value {
	return Value{typ: TypeBinary, data: append(make([]byte, 0, len(b)), b...)}
}

// NewValue builds a value from its type and wire bytes (copied), checking that fixed-size
// types have the right length. A string gets its terminating NUL if data lacks it.
func NewValue(t Type, data []byte) (Value, error) {
	if !t.Valid() {
		return Value{}, fmt.Errorf("%w: type %d", ErrInvalidValue, t)
	}
	if n := t.Size(); n != 0 && len(data) != n {
		return Value{}, fmt.Errorf("%w: %s value of %d bytes, want %d", ErrInvalidValue, t, len(data), n)
	}
	v := Value{typ: t, data: append(make([]byte, 0, len(data)+1), data...)}
	if t == TypeString && (len(data) == 0 || data[len(data)-1] != 0) {
		v.data = append(v.data, 0)
	}
	return v, nil
}

// rawValue wraps bytes from a decoded message without checks (a decoder must be able to
// represent whatever the peer sent).
func rawValue(t Type, data []byte) Value {
	if t == 0 && len(data) == 0 {
		return Value{}
	}
	var b []byte
	if len(data) > 0 {
		b = append(make([]byte, 0, len(data)), data...)
	}
	return Value{typ: t, data: b}
}

// Type is the value's cmap type (0 for the zero Value).
func (v Value) Type() Type { return v.typ }

// Len is the length of the value's wire bytes (a string's includes its NUL).
func (v Value) Len() int { return len(v.data) }

// Bytes returns a copy of the value's wire bytes.
func (v Value) Bytes() []byte { return append([]byte(nil), v.data...) }

// Equal reports whether v and o have the same type and bytes.
func (v Value) Equal(o Value) bool { return v.typ == o.typ && bytes.Equal(v.data, o.data) }

func (v Value) le(t Type) []byte {
	if v.typ != t || len(v.data) != t.Size() {
		return nil
	}
	return v.data
}

// Int8 returns the value of an int8 Value, 0 for other types.
func (v Value) Int8() int8 {
	if b := v.le(TypeInt8); b != nil {
		return int8(b[0])
	}
	return 0
}

// Uint8 returns the value of a uint8 Value, 0 for other types.
func (v Value) Uint8() uint8 {
	if b := v.le(TypeUint8); b != nil {
		return b[0]
	}
	return 0
}

// Int16 returns the value of an int16 Value, 0 for other types.
func (v Value) Int16() int16 {
	if b := v.le(TypeInt16); b != nil {
		return int16(binary.LittleEndian.Uint16(b))
	}
	return 0
}

// Uint16 returns the value of a uint16 Value, 0 for other types.
func (v Value) Uint16() uint16 {
	if b := v.le(TypeUint16); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

// Int32 returns the value of an int32 Value, 0 for other types.
func (v Value) Int32() int32 {
	if b := v.le(TypeInt32); b != nil {
		return int32(binary.LittleEndian.Uint32(b))
	}
	return 0
}

// Uint32 returns the value of a uint32 Value, 0 for other types.
func (v Value) Uint32() uint32 {
	if b := v.le(TypeUint32); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

// Int64 returns the value of an int64 Value, 0 for other types.
func (v Value) Int64() int64 {
	if b := v.le(TypeInt64); b != nil {
		return int64(binary.LittleEndian.Uint64(b))
	}
	return 0
}

// Uint64 returns the value of a uint64 Value, 0 for other types.
func (v Value) Uint64() uint64 {
	if b := v.le(TypeUint64); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// Float returns the value of a float Value, 0 for other types.
func (v Value) Float() float32 {
	if b := v.le(TypeFloat); b != nil {
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	}
	return 0
}

// Double returns the value of a double Value, 0 for other types.
func (v Value) Double() float64 {
	if b := v.le(TypeDouble); b != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return 0
}

// Binary returns a copy of a binary Value's bytes, nil for other types.
func (v Value) Binary() []byte {
	if v.typ != TypeBinary {
		return nil
	}
	return append([]byte{}, v.data...)
}

// String returns the text of a string Value (up to its NUL). For the other types it
// returns the value as corosync-cmapctl prints it (decimal numbers, "%f" floats) and hex
// for binaries; "" for the zero Value.
func (v Value) String() string {
	switch v.typ {
	case TypeString:
		if i := bytes.IndexByte(v.data, 0); i >= 0 {
			return string(v.data[:i])
		}
		return string(v.data)
	case TypeInt8:
		return strconv.FormatInt(int64(v.Int8()), 10)
	case TypeUint8:
		return strconv.FormatUint(uint64(v.Uint8()), 10)
	case TypeInt16:
		return strconv.FormatInt(int64(v.Int16()), 10)
	case TypeUint16:
		return strconv.FormatUint(uint64(v.Uint16()), 10)
	case TypeInt32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case TypeUint32:
		return strconv.FormatUint(uint64(v.Uint32()), 10)
	case TypeInt64:
		return strconv.FormatInt(v.Int64(), 10)
	case TypeUint64:
		return strconv.FormatUint(v.Uint64(), 10)
	case TypeFloat:
		return strconv.FormatFloat(float64(v.Float()), 'f', 6, 64)
	case TypeDouble:
		return strconv.FormatFloat(v.Double(), 'f', 6, 64)
	case TypeBinary:
		return hex.EncodeToString(v.data)
	}
	return ""
}

// check reports why v cannot be stored with Set, as icmap would refuse it.
func (v Value) check() error {
	if !v.typ.Valid() {
		return fmt.Errorf("%w: type %d: %w", ErrInvalidValue, v.typ, ipc.CSErrInvalid)
	}
	if n := v.typ.Size(); n != 0 && len(v.data) != n {
		return fmt.Errorf("%w: %s value of %d bytes: %w", ErrInvalidValue, v.typ, len(v.data), ipc.CSErrInvalid)
	}
	if v.typ == TypeString && bytes.IndexByte(v.data, 0) != len(v.data)-1 {
		return fmt.Errorf("%w: a string must hold no NUL (corosync stores C strings): %w", ErrInvalidValue, ipc.CSErrInvalid)
	}
	if len(v.data) > MaxValueBytes {
		return fmt.Errorf("%w: %d bytes, cmap stores at most %d: %w", ErrValueTooBig, len(v.data), MaxValueBytes, ipc.CSErrInvalid)
	}
	return nil
}
