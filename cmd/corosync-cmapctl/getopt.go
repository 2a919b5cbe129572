package main

import getoptpkg "github.com/corosync-go/corosync/cmd/internal/getopt"

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
	g := getoptpkg.Parse(argv0, args, optstring, posixlyCorrect)
	r := getoptResult{operands: g.Operands, err: g.Err}
	for _, o := range g.Opts {
		r.opts = append(r.opts, opt{name: o.Name, arg: o.Arg})
	}
	return r
}
