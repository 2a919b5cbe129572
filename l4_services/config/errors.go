package config

import "fmt"

// ParseError is a problem found while reading a configuration file: its name, the 1-based
// line (0 when the problem is not on a line, as for a file that cannot be read) and
// coroparse.c's description of what was wrong.
type ParseError struct {
	File string
	Line int
	Msg  string
}

// Error reads like corosync's "parser error: FILE:LINE: MSG" without the prefix.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ValidationError is a configuration that parses but that corosync 3.1.7 refuses to run
// on. Key names the configuration key at fault and Line is where the file set it, when the
// problem has one key (0 otherwise). Msg is corosync's reason, without its "parse error in
// config: " prefix.
type ValidationError struct {
	File string
	Line int
	Key  string
	Msg  string
}

// Error reads "FILE:LINE: MSG", or "FILE: MSG" when no line is known.
func (e *ValidationError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}
