package main

import (
	"bytes"
	"math"
	"strconv"

	"github.com/corosync-go/corosync/ipc/cmap"
)

// printFlags are the output switches: -b and -q.
type printFlags struct {
	showBinary bool
	quiet      bool
}

// appendKey appends the line print_key prints for key, a value of type t: "key (u32) =
// 5", or the bare value with -q. A binary value is shown only with -b; without it v is not
// looked at. -q leaves "bin)" in place, as 3.1.7 does. An unknown type prints "key (".
func appendKey(b []byte, key string, t cmap.Type, v cmap.Value, f printFlags) []byte {
	if !f.quiet {
		b = append(b, key...)
		b = append(b, " ("...)
	}
	switch t {
	case cmap.TypeBinary:
		b = append(b, "bin)"...)
		if f.showBinary {
			b = append(b, " = "...)
			b = appendBinary(b, v.Bytes())
		}
	case cmap.TypeInt8, cmap.TypeUint8, cmap.TypeInt16, cmap.TypeUint16, cmap.TypeInt32,
		cmap.TypeUint32, cmap.TypeInt64, cmap.TypeUint64, cmap.TypeFloat, cmap.TypeDouble,
		cmap.TypeString:
		if !f.quiet {
			b = append(b, t.String()...)
			b = append(b, ") = "...)
		}
		b = appendScalar(b, t, v)
	}
	return append(b, '\n')
}

// appendScalar appends a non-binary value as printf prints it: decimal integers, "%f"
// for both float types, a string up to its NUL.
func appendScalar(b []byte, t cmap.Type, v cmap.Value) []byte {
	switch t {
	case cmap.TypeInt8:
		return strconv.AppendInt(b, int64(v.Int8()), 10)
	case cmap.TypeUint8:
		return strconv.AppendUint(b, uint64(v.Uint8()), 10)
	case cmap.TypeInt16:
		return strconv.AppendInt(b, int64(v.Int16()), 10)
	case cmap.TypeUint16:
		return strconv.AppendUint(b, uint64(v.Uint16()), 10)
	case cmap.TypeInt32:
		return strconv.AppendInt(b, int64(v.Int32()), 10)
	case cmap.TypeUint32:
		return strconv.AppendUint(b, uint64(v.Uint32()), 10)
	case cmap.TypeInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case cmap.TypeUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case cmap.TypeFloat:
		return appendPrintfF(b, float64(v.Float()))
	case cmap.TypeDouble:
		return appendPrintfF(b, v.Double())
	case cmap.TypeString:
		s := v.Bytes()
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return append(b, s...)
	}
	return b
}

// appendPrintfF appends x as glibc's printf("%f") does: six decimals, correctly rounded,
// and "inf", "-inf", "nan" or "-nan" (the sign of a NaN is shown).
func appendPrintfF(b []byte, x float64) []byte {
	switch {
	case math.IsNaN(x):
		if math.Signbit(x) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	case math.IsInf(x, 1):
		return append(b, "inf"...)
	case math.IsInf(x, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, x, 'f', 6, 64)
}

// appendBinary appends a binary value as print_binary_key does: printable ASCII as is,
// a backslash doubled, other bytes as \xNN. Bytes from 0x80 print as \xFFFFFFNN: 3.1.7
// passes them to printf("%02X") as a sign-extended char.
func appendBinary(b []byte, v []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range v {
		switch {
		case c == '\\':
			b = append(b, `\\`...)
		case c >= ' ' && c < 0x7f:
			b = append(b, c)
		case c >= 0x80:
			b = append(b, `\xFFFFFF`...)
			b = append(b, hex[c>>4], hex[c&15])
		default:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		}
	}
	return b
}
