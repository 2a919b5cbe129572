package main

import (
	"math"

	"github.com/corosync-go/corosync/ipc/cmap"
)

// typeNames maps the type names -s and -p accept to cmap types.
var typeNames = map[string]cmap.Type{
	"i8": cmap.TypeInt8, "u8": cmap.TypeUint8, "i16": cmap.TypeInt16, "u16": cmap.TypeUint16,
	"i32": cmap.TypeInt32, "u32": cmap.TypeUint32, "i64": cmap.TypeInt64, "u64": cmap.TypeUint64,
	"flt": cmap.TypeFloat, "dbl": cmap.TypeDouble, "str": cmap.TypeString, "bin": cmap.TypeBinary,
}

// valueError is a value set_key refuses; its text (with newline) goes to stderr and the
// tool exits with 1.
type valueError struct{ msg string }

func (e valueError) Error() string { return e.msg }

// parseValue turns -s's type name and value text into the value set_key would store.
// Binary values are not handled here: their text names a file (see readBinary), so for
// "bin" it returns the type and a zero Value. Numbers are read as set_key reads them
// (sscanf, then a range check for the narrower integers).
func parseValue(typeName, text string) (cmap.Type, cmap.Value, error) {
	t, ok := typeNames[typeName]
	if !ok {
		return 0, cmap.Value{}, valueError{"Unknown type " + typeName + "\n"}
	}
	invalid := valueError{text + " is not valid " + typeName + " type value\n"}
	outOfRange := valueError{text + " is not valid " + typeName + " integer\n"}
	switch t {
	case cmap.TypeInt8, cmap.TypeInt16, cmap.TypeInt32, cmap.TypeInt64:
		n, ok := scanInt64(text)
		if !ok {
			return 0, cmap.Value{}, invalid
		}
		v, ok := signedValue(t, n)
		if !ok {
			return 0, cmap.Value{}, outOfRange
		}
		return t, v, nil
	case cmap.TypeUint8, cmap.TypeUint16, cmap.TypeUint32, cmap.TypeUint64:
		n, ok := scanUint64(text)
		if !ok {
			return 0, cmap.Value{}, invalid
		}
		v, ok := unsignedValue(t, n)
		if !ok {
			return 0, cmap.Value{}, outOfRange
		}
		return t, v, nil
	case cmap.TypeFloat:
		f, ok := scanFloat(text, 32)
		if !ok {
			return 0, cmap.Value{}, invalid
		}
		return t, cmap.Float(float32(f)), nil
	case cmap.TypeDouble:
		f, ok := scanFloat(text, 64)
		if !ok {
			return 0, cmap.Value{}, invalid
		}
		return t, cmap.Double(f), nil
	case cmap.TypeString:
		return t, cmap.String(text), nil
	}
	return t, cmap.Value{}, nil
}

// signedValue narrows n to type t, reporting false when it does not fit.
func signedValue(t cmap.Type, n int64) (cmap.Value, bool) {
	switch t {
	case cmap.TypeInt8:
		return cmap.Int8(int8(n)), n >= math.MinInt8 && n <= math.MaxInt8
	case cmap.TypeInt16:
		return cmap.Int16(int16(n)), n >= math.MinInt16 && n <= math.MaxInt16
	case cmap.TypeInt32:
		return cmap.Int32(int32(n)), n >= math.MinInt32 && n <= math.MaxInt32
	}
	return cmap.Int64(n), true
}

// unsignedValue narrows n to type t, reporting false when it does not fit.
func unsignedValue(t cmap.Type, n uint64) (cmap.Value, bool) {
	switch t {
	case cmap.TypeUint8:
		return cmap.Uint8(uint8(n)), n <= math.MaxUint8
	case cmap.TypeUint16:
		return cmap.Uint16(uint16(n)), n <= math.MaxUint16
	case cmap.TypeUint32:
		return cmap.Uint32(uint32(n)), n <= math.MaxUint32
	}
	return cmap.Uint64(n), true
}
