// Package getopt parses command lines as glibc's getopt(3) and getopt_long(3) do, for the
// corosync tools whose output, messages included, must match the C tools byte for byte.
package getopt

import "strings"

// Opt is one option getopt returned: its letter and, for letters followed by ':' in the
// option string, its argument.
type Opt struct {
	Name byte
	Arg  string
}

// Result is what a whole getopt loop over argv yields: the options in the order they
// appear, the operands (what glibc leaves after optind once it has permuted them to the
// end), and, when getopt returned '?', the message it printed on stderr (newline
// included). Options after the bad one are not parsed: the tools stop at the first '?'.
type Result struct {
	Opts     []Opt
	Operands []string
	Err      string
}

// Parse reads args (argv without argv[0]) as glibc's getopt(argc, argv, optstring) does:
// options may be bundled ("-sH"), an option's argument is the rest of its word or the
// next word whatever it looks like, "--" ends the options, "-" alone is an operand, and
// operands may come before options (glibc permutes argv) unless posixlyCorrect (the
// POSIXLY_CORRECT environment variable) makes the first operand end the options. There
// are no long options: "--name" is the options '-', 'n', ... and '-' is invalid.
// Messages are prefixed with argv0, as glibc prints argv[0].
func Parse(argv0 string, args []string, optstring string, posixlyCorrect bool) Result {
	var r Result
	for i := 0; i < len(args); i++ {
		word := args[i]
		if word == "--" {
			r.Operands = append(r.Operands, args[i+1:]...)
			return r
		}
		if len(word) < 2 || word[0] != '-' {
			if posixlyCorrect {
				r.Operands = append(r.Operands, args[i:]...)
				return r
			}
			r.Operands = append(r.Operands, word)
			continue
		}
		for j := 1; j < len(word); j++ {
			c := word[j]
			k := strings.IndexByte(optstring, c)
			if k < 0 || c == ':' || c == ';' {
				r.Err = argv0 + ": invalid option -- '" + string([]byte{c}) + "'\n"
				return r
			}
			if k+1 >= len(optstring) || optstring[k+1] != ':' {
				r.Opts = append(r.Opts, Opt{Name: c})
				continue
			}
			if j+1 < len(word) {
				r.Opts = append(r.Opts, Opt{Name: c, Arg: word[j+1:]})
			} else if i+1 < len(args) {
				i++
				r.Opts = append(r.Opts, Opt{Name: c, Arg: args[i]})
			} else {
				r.Err = argv0 + ": option requires an argument -- '" + string([]byte{c}) + "'\n"
				return r
			}
			break
		}
	}
	return r
}

// StrToNum is corosync's util_strtonum: s must be, whole, a number strtoll(s, 10)
// accepts (leading white space, an optional sign, decimal digits) without overflow,
// from min to max.
func StrToNum(s string, min, max int64) (int64, bool) {
	if min > max {
		return 0, false
	}
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	overflow := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (1<<63-d)/10 {
			overflow = true
		}
		if !overflow {
			v = v*10 + d
		}
	}
	// strtoll fails (ERANGE) beyond [-2^63, 2^63-1].
	if i == start || i != len(s) || overflow || (!neg && v > 1<<63-1) {
		return 0, false
	}
	n := int64(v)
	if neg {
		n = -int64(v) // v == 2^63 wraps to MinInt64, as wanted
	}
	if n < min || n > max {
		return 0, false
	}
	return n, true
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}
