package logsys

import (
	"strconv"
	"strings"
	"time"
)

// The line formats, built as corosync 3.1.7 builds them (exec/logconfig.c and logsys.c)
// and expanded as libqb 2.0.6 expands them (lib/log_format.c), so that quirks such as the
// missing blank after the ident in a timestamp-less file line come out the same.

// baseFormat is logsys's format_buffer after corosync_main_config_format_set: the stderr
// format, from which the file and syslog formats derive.
func baseFormat(c *Config) string {
	f := "%7p [%6g] %b"
	if c.Fileline {
		if g, ok := insertFormat(f, " %f:%l", "g]"); ok {
			f = g
		} else if g, ok := insertFormat(f, "%f:%l", ""); ok {
			f = g
		}
	}
	if c.FunctionName {
		// After "f:" when fileline put "%f:%l" there: "%f:%n:%l".
		if g, ok := insertFormat(f, "%n:", "f:"); ok {
			f = g
		} else if g, ok := insertFormat(f, " %n", "g]"); ok {
			f = g
		}
	}
	switch c.Timestamp {
	case TimestampOn:
		f, _ = insertFormat(f, "%t ", "")
	case TimestampHires:
		f, _ = insertFormat(f, "%T ", "")
	}
	return f
}

// insertFormat is logconfig.c's insert_into_buffer: entry goes right after the first
// occurrence of after, or in front when after is empty; it fails when entry is already
// there or after is not.
func insertFormat(format, entry, after string) (string, bool) {
	if strings.Contains(format, entry) {
		return format, false
	}
	if after == "" {
		return entry + format, true
	}
	i := strings.Index(format, after)
	if i < 0 {
		return format, false
	}
	i += len(after)
	return format[:i] + entry + format[i:], true
}

// fileFormat is logsys_file_format_get: the timestamp, then "[%P] %H %N" glued to what
// followed the timestamp, so without one the ident runs into the priority.
func fileFormat(base string) string {
	head, rest := "", base
	if i := strings.Index(base, "%t"); i >= 0 {
		head, rest = "%t ", base[i+2:]
	}
	if i := strings.Index(base, "%T"); i >= 0 {
		head, rest = "%T ", base[i+2:]
	}
	return head + "[%P] %H %N" + rest
}

// syslogFormat is logsys_format_set's copy without %t, %T and %p (with their widths),
// keeping the blanks that followed them.
func syslogFormat(base string) string {
	var out []byte
	for c := 0; c < len(base); c++ {
		if base[c] == '%' {
			rem := c
			for c++; c < len(base); c++ {
				if isDigit(base[c]) {
					continue
				}
				if base[c] == 't' || base[c] == 'p' || base[c] == 'T' {
					c++
				} else {
					c = rem
				}
				break
			}
		}
		if c >= len(base) {
			break
		}
		out = append(out, base[c])
	}
	return string(out)
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// maxLine is libqb's QB_LOG_MAX_LEN less its NUL: the longest message and line.
const maxLine = 511

// spec is one conversion of a libqb format: %[-][width]verb.
type spec struct {
	verb   byte
	width  int
	ralign bool
	end    int // index after the verb
}

// parseSpec reads the conversion starting at format[i] == '%'.
func parseSpec(format string, i int) spec {
	s := spec{}
	j := i + 1
	if j < len(format) && format[j] == '-' {
		s.ralign = true
		j++
	}
	for ; j < len(format) && isDigit(format[j]); j++ {
		if s.width < maxLine {
			s.width = s.width*10 + int(format[j]-'0')
		}
	}
	if j < len(format) {
		s.verb = format[j]
		j++
	}
	s.end = j
	return s
}

// appendField is libqb's _strcpy_cutoff: a width cuts or pads the value, on the left
// with '-'.
func appendField(dst []byte, value string, width int, ralign bool) []byte {
	if width == 0 {
		return append(dst, value...)
	}
	if len(value) > width {
		value = value[:width]
	}
	pad := width - len(value)
	if ralign {
		dst = append(dst, strings.Repeat(" ", pad)...)
		return append(dst, value...)
	}
	dst = append(dst, value...)
	return append(dst, strings.Repeat(" ", pad)...)
}

// staticFormat is qb_log_target_format_static: %P, %H and %N become the pid, host and
// ident once per configuration; other conversions stay for expand.
func staticFormat(format string, pid int, host, ident string) string {
	var out []byte
	for i := 0; i < len(format) && len(out) < maxLine; {
		if format[i] != '%' {
			out = append(out, format[i])
			i++
			continue
		}
		s := parseSpec(format, i)
		switch s.verb {
		case 'P':
			out = appendField(out, strconv.Itoa(pid), s.width, s.ralign)
		case 'H':
			out = appendField(out, host, s.width, s.ralign)
		case 'N':
			out = appendField(out, ident, s.width, s.ralign)
		default:
			out = append(out, format[i:s.end]...)
		}
		i = s.end
	}
	if len(out) > maxLine {
		out = out[:maxLine]
	}
	return string(out)
}

// entry is what a line is made of.
type entry struct {
	time     time.Time
	priority Priority
	subsys   string
	message  string
	file     string
	function string
	line     int
}

// expand is qb_log_target_format: the line for e in a static-expanded format, cut at
// maxLine bytes and without one trailing newline.
func expand(dst []byte, format string, e *entry) []byte {
	start := len(dst)
	for i := 0; i < len(format); {
		if format[i] != '%' {
			dst = append(dst, format[i])
			i++
			continue
		}
		s := parseSpec(format, i)
		var v string
		switch s.verb {
		case 'g':
			v = e.subsys
		case 'n':
			v = e.function
		case 'f':
			v = e.file
		case 'l':
			v = strconv.Itoa(e.line)
		case 't':
			v = e.time.Format("Jan 02 15:04:05")
		case 'T':
			v = e.time.Format("Jan 02 15:04:05.000")
		case 'b':
			v = e.message
		case 'p':
			v = e.priority.String()
		}
		dst = appendField(dst, v, s.width, s.ralign)
		i = s.end
		if len(dst)-start >= maxLine {
			break
		}
	}
	if len(dst)-start > maxLine {
		dst = dst[:start+maxLine]
	}
	if len(dst) > start && dst[len(dst)-1] == '\n' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// clipMessage is what vsnprintf into libqb's 512-byte buffer leaves of a message: at most
// maxLine bytes, and one trailing newline dropped when it fitted.
func clipMessage(m string) string {
	if len(m) > maxLine {
		return m[:maxLine]
	}
	return strings.TrimSuffix(m, "\n")
}

// syslogHeader is glibc 2.36's syslog(3) framing with LOG_PID, no hostname:
// "<PRI>Mmm dd hh:mm:ss IDENT[PID]: ".
func syslogHeader(dst []byte, facility Facility, p Priority, t time.Time, ident string, pid int) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(facility)*8+int64(p), 10)
	dst = append(dst, '>')
	dst = t.AppendFormat(dst, "Jan _2 15:04:05")
	dst = append(dst, ' ')
	dst = append(dst, ident...)
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(pid), 10)
	return append(dst, "]: "...)
}

// syslogPriority is libqb's priority bump for corosync (LOG_INFO - LOG_DEBUG): debug goes
// out as info and trace as debug; ok is false for what would fall below debug.
func syslogPriority(p Priority) (Priority, bool) {
	if p > PriorityInfo {
		p--
	}
	if p > PriorityDebug {
		return 0, false
	}
	if p < PriorityEmerg {
		p = PriorityEmerg
	}
	return p, true
}
