package config

import (
	"fmt"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// Type is a cmap value type, numbered as cmap numbers them (CMAP_VALUETYPE_*); it is the
// cmap package's type, which the daemon's map (icmap) stores, so values move into it
// without translation.
type Type = cmap.Type

// The cmap value types. The parser produces only Uint8, Uint16, Uint32, Int32, Uint64 and
// String, as coroparse.c does.
const (
	Int8   = cmap.TypeInt8
	Uint8  = cmap.TypeUint8
	Int16  = cmap.TypeInt16
	Uint16 = cmap.TypeUint16
	Int32  = cmap.TypeInt32
	Uint32 = cmap.TypeUint32
	Int64  = cmap.TypeInt64
	Uint64 = cmap.TypeUint64
	Float  = cmap.TypeFloat
	Double = cmap.TypeDouble
	String = cmap.TypeString
	Binary = cmap.TypeBinary
)

// Value is a typed configuration value. V holds the Go value of the type: uint8 for Uint8,
// uint16 for Uint16, uint32 for Uint32, int32 for Int32, uint64 for Uint64 and string for
// String (the other types do not come out of a configuration file).
type Value struct {
	Type Type
	V    any
}

// U8 returns a Uint8 value.
func U8(v uint8) Value { return Value{Uint8, v} }

// U16 returns a Uint16 value.
func U16(v uint16) Value { return Value{Uint16, v} }

// U32 returns a Uint32 value.
func U32(v uint32) Value { return Value{Uint32, v} }

// I32 returns an Int32 value.
func I32(v int32) Value { return Value{Int32, v} }

// U64 returns a Uint64 value.
func U64(v uint64) Value { return Value{Uint64, v} }

// Str returns a String value.
func Str(s string) Value { return Value{String, s} }

// ICMAP converts v to the daemon map's encoding. A Value whose V does not match its Type
// converts to the zero value of the type.
func (v Value) ICMAP() icmap.Value {
	switch x := v.V.(type) {
	case uint8:
		return cmap.Uint8(x)
	case uint16:
		return cmap.Uint16(x)
	case uint32:
		return cmap.Uint32(x)
	case int32:
		return cmap.Int32(x)
	case uint64:
		return cmap.Uint64(x)
	case string:
		return cmap.String(x)
	}
	z, _ := cmap.NewValue(v.Type, make([]byte, v.Type.Size()))
	return z
}

// Text is the value as corosync-cmapctl prints it after "= ".
func (v Value) Text() string { return v.ICMAP().String() }

// String formats v as corosync-cmapctl's "(type) = value" tail.
func (v Value) String() string { return fmt.Sprintf("(%s) = %s", v.Type, v.Text()) }

// Uint returns an unsigned integer value widened to uint64; ok is false for strings.
func (v Value) Uint() (n uint64, ok bool) {
	switch x := v.V.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	return 0, false
}

// Equal reports whether two values have the same type and Go value.
func (v Value) Equal(w Value) bool { return v.Type == w.Type && v.V == w.V }
