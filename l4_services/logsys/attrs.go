package logsys

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// Corosync's lines carry no key=value pairs. Attributes other than the subsystem are
// appended to the message as " (key=value key=value)", so a line without attributes is
// exactly corosync's and one with them stays a single readable line.

// appendAttr renders a as " key=value" (groups flattened to "group.key") after prefix.
func appendAttr(dst []byte, prefix string, a slog.Attr) []byte {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = prefix + a.Key + "."
		}
		for _, g := range v.Group() {
			dst = appendAttr(dst, p, g)
		}
		return dst
	}
	if a.Key == "" && v.Any() == nil {
		return dst
	}
	dst = append(dst, ' ')
	dst = appendText(dst, prefix+a.Key)
	dst = append(dst, '=')
	return appendValue(dst, v)
}

func appendValue(dst []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendText(dst, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(dst, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(dst, v.Uint64(), 10)
	case slog.KindFloat64:
		return strconv.AppendFloat(dst, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(dst, v.Bool())
	case slog.KindDuration:
		return append(dst, v.Duration().String()...)
	case slog.KindTime:
		return v.Time().AppendFormat(dst, time.RFC3339Nano)
	}
	switch x := v.Any().(type) {
	case error:
		return appendText(dst, x.Error())
	case fmt.Stringer:
		return appendText(dst, x.String())
	default:
		return appendText(dst, fmt.Sprint(x))
	}
}

// appendText writes s bare when it is one plain word and Go-quoted otherwise, so a line
// stays one line and its pairs can be split on blanks.
func appendText(dst []byte, s string) []byte {
	if needsQuote(s) {
		return strconv.AppendQuote(dst, s)
	}
	return append(dst, s...)
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return true
		}
		if r == ' ' || r == '=' || r == '"' || r == '(' || r == ')' || !unicode.IsPrint(r) {
			return true
		}
		i += n
	}
	return false
}
