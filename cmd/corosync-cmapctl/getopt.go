package main

import "strings"

// opt is one option getopt returned: its letter and, for letters followed by ':' in the
// option string, its argument.
type opt struct {
	name byte
	arg  string
}

// getoptResult is what a whole getopt(3) loop over argv yields: the options in the order
// they appear, the operands (what is left in argv after optind once glibc has permuted
// them to the end), and, when getopt returned '?', the message it printed. Options after
// the bad one are not parsed: corosync-cmapctl exits at the first '?'.
type getoptResult struct {
	opts     []opt
	operands []string
	err      string
}

// getopt parses args (argv without argv[0]) as glibc's getopt(argc, argv, optstring)
// does: options may be bundled ("-bq"), an option's argument is the rest of its word or
// the next word whatever it looks like, "--" ends the options, "-" alone is an operand,
// and operands may come before options (glibc permutes argv) unless posixlyCorrect (the
// POSIXLY_CORRECT environment variable) makes the first operand end the options. There
// are no long options: "--name" is the options '-', 'n', ... and '-' is invalid.
// Messages are prefixed with argv0, as glibc prints argv[0].
func getopt(argv0 string, args []string, optstring string, posixlyCorrect bool) getoptResult {
	var r getoptResult
	for i := 0; i < len(args); i++ {
		word := args[i]
		if word == "--" {
			r.operands = append(r.operands, args[i+1:]...)
			return r
		}
		if len(word) < 2 || word[0] != '-' {
			if posixlyCorrect {
				r.operands = append(r.operands, args[i:]...)
				return r
			}
			r.operands = append(r.operands, word)
			continue
		}
		for j := 1; j < len(word); j++ {
			c := word[j]
			k := strings.IndexByte(optstring, c)
			if k < 0 || c == ':' || c == ';' {
				r.err = argv0 + ": invalid option -- '" + string([]byte{c}) + "'\n"
				return r
			}
			if k+1 >= len(optstring) || optstring[k+1] != ':' {
				r.opts = append(r.opts, opt{name: c})
				continue
			}
			if j+1 < len(word) {
				r.opts = append(r.opts, opt{name: c, arg: word[j+1:]})
			} else if i+1 < len(args) {
				i++
				r.opts = append(r.opts, opt{name: c, arg: args[i]})
			} else {
				r.err = argv0 + ": option requires an argument -- '" + string([]byte{c}) + "'\n"
				return r
			}
			break
		}
	}
	return r
}
