package getopt

import "strings"

// LongOpt is one entry of getopt_long's table. Val is the short option it stands for, or
// 0 for an option with no short form (getopt_long then returns 0, as for --force).
type LongOpt struct {
	Name   string
	HasArg bool
	Val    byte
}

// LongResult is one option getopt_long returned: Val is the short option (0 for a long
// option without one, then Long names it) and Arg its argument.
type LongResult struct {
	Val  byte
	Long string
	Arg  string
}

// Error is a command line glibc's getopt_long refuses; Msg is the complaint it
// prints on stderr, newline included.
type Error struct{ Msg string }

func (e *Error) Error() string { return strings.TrimSuffix(e.Msg, "\n") }

// ParseLong reads args (argv without argv[0]) as glibc's getopt_long does with the
// short option string short and the table long, without optional arguments: options are
// returned in order, words that are not options are skipped (or, with requireOrder, as
// under POSIXLY_CORRECT, end the options), "--" ends the options, short options may be
// bundled, an argument may follow in the same word or the next, long options may be
// abbreviated to a unique prefix and take "--name=value" or "--name value". It stops at
// the first mistake and returns the options before it with an Error whose message
// names argv0, as glibc's do.
func ParseLong(argv0 string, args []string, short string, long []LongOpt, requireOrder bool) ([]LongResult, *Error) {
	var opts []LongResult
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if requireOrder {
				break
			}
			continue
		}
		if a[1] == '-' {
			o, used, err := longOption(argv0, a[2:], args[i+1:], long)
			if err != nil {
				return opts, err
			}
			opts = append(opts, o)
			i += used
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			k := strings.IndexByte(short, c)
			if k < 0 || c == ':' || c == ';' {
				return opts, &Error{argv0 + ": invalid option -- '" + string([]byte{c}) + "'\n"}
			}
			if k+1 >= len(short) || short[k+1] != ':' {
				opts = append(opts, LongResult{Val: c})
				continue
			}
			switch {
			case j+1 < len(a):
				opts = append(opts, LongResult{Val: c, Arg: a[j+1:]})
			case i+1 < len(args):
				i++
				opts = append(opts, LongResult{Val: c, Arg: args[i]})
			default:
				return opts, &Error{argv0 + ": option requires an argument -- '" + string([]byte{c}) + "'\n"}
			}
			break
		}
	}
	return opts, nil
}

// longOption resolves one "--word" (word without its dashes) against the table: an exact
// name first, else the only prefix match (several matches that differ are ambiguous).
// rest are the words after it, from which a required argument may come; used is how many
// of them it took.
func longOption(argv0, word string, rest []string, long []LongOpt) (o LongResult, used int, err *Error) {
	name, value, hasValue := strings.Cut(word, "=")
	found := -1
	for k, l := range long {
		if l.Name == name {
			found = k
			break
		}
	}
	if found < 0 {
		var ambiguous []int
		for k, l := range long {
			if !strings.HasPrefix(l.Name, name) {
				continue
			}
			if found < 0 {
				found = k
				continue
			}
			f := long[found]
			if f.HasArg != l.HasArg || f.Val != l.Val {
				if ambiguous == nil {
					ambiguous = append(ambiguous, found)
				}
				ambiguous = append(ambiguous, k)
			}
		}
		if ambiguous != nil {
			var b strings.Builder
			b.WriteString(argv0 + ": option '--" + word + "' is ambiguous; possibilities:")
			for _, k := range ambiguous {
				b.WriteString(" '--" + long[k].Name + "'")
			}
			b.WriteString("\n")
			return o, 0, &Error{b.String()}
		}
	}
	if found < 0 {
		return o, 0, &Error{argv0 + ": unrecognized option '--" + word + "'\n"}
	}
	l := long[found]
	o = LongResult{Val: l.Val, Long: l.Name}
	switch {
	case hasValue && !l.HasArg:
		return o, 0, &Error{argv0 + ": option '--" + l.Name + "' doesn't allow an argument\n"}
	case hasValue:
		o.Arg = value
	case l.HasArg && len(rest) > 0:
		o.Arg = rest[0]
		used = 1
	case l.HasArg:
		return o, 0, &Error{argv0 + ": option '--" + l.Name + "' requires an argument\n"}
	}
	return o, used, nil
}
