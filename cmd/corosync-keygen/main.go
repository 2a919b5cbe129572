// Command corosync-keygen writes a new authentication key for the cluster, with corosync
// 3.1.7's options, messages and exit codes:
//
//	corosync-keygen [-k <keyfile>] [-s size] [-r <randomfile>] [-l] [-h]
//
// One difference: a random source that ends before the key is complete is an error
// (corosync 3.1.7 loops forever printing "Press keys on your keyboard").
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Key sizes corosync accepts (TOTEM_PRIVATE_KEY_LEN_MIN/MAX) and its default.
const (
	minKeyBytes     = 128
	maxKeyBytes     = 4096
	defaultKeyBytes = 256
	defaultKeyFile  = "/etc/corosync/authkey"
	defaultRandom   = "/dev/urandom"
	prog            = "corosync-keygen"
)

const usage = `Usage: corosync-keygen [-k <keyfile>] [-s size] [-m <randomfile>] [-l] [-h]
     -k / --key-file=<filename> -  Write to the specified keyfile
            instead of the default ` + defaultKeyFile + `.
     -r / --random-file -  Random number source file. Default is 
            /dev/urandom. As an example /dev/random may be requested
            (that may require user input for entropy).
     -l / --less-secure - Not used, option is kept only
            for compatibility.
     -s / --size -  Length of key.
     -h / --help -  Print basic usage.
`

// options are the parsed command line.
type options struct {
	keyFile, random string
	size            int
	help            bool
}

// usageError is a command line getopt would refuse; its text goes to stderr.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parseArgs reads the options as getopt_long("k:r:s:lh") does: short options may be
// bundled, an argument may follow in the same word or the next one, long options take
// --name=value or --name value, and "--" ends the options. Other words are ignored.
// argv0 prefixes getopt's complaints, as glibc's getopt prints argv[0].
func parseArgs(argv0 string, args []string) (options, error) {
	o := options{keyFile: defaultKeyFile, random: defaultRandom, size: defaultKeyBytes}
	long := map[string]byte{"key-file": 'k', "less-secure": 'l', "random-file": 'r', "size": 's', "help": 'h'}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		var opts []byte
		var inline []string // an argument attached to the option
		switch {
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			c, ok := long[name]
			if !ok {
				return o, usageError{fmt.Sprintf("%s: unrecognized option '%s'", argv0, a)}
			}
			opts = []byte{c}
			if hasVal {
				if c == 'l' || c == 'h' {
					return o, usageError{fmt.Sprintf("%s: option '--%s' doesn't allow an argument", argv0, name)}
				}
				inline = []string{val}
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			opts = []byte(a[1:])
		default:
			continue
		}
		for j := 0; j < len(opts); j++ {
			c := opts[j]
			switch c {
			case 'l':
			case 'h':
				o.help = true
				return o, nil
			case 'k', 'r', 's':
				var val string
				switch {
				case len(inline) > 0:
					val = inline[0]
				case !strings.HasPrefix(a, "--") && j+1 < len(opts):
					val = string(opts[j+1:])
				case i+1 < len(args):
					i++
					val = args[i]
				default:
					if strings.HasPrefix(a, "--") {
						return o, usageError{fmt.Sprintf("%s: option '%s' requires an argument", argv0, a)}
					}
					return o, usageError{fmt.Sprintf("%s: option requires an argument -- '%c'", argv0, c)}
				}
				j = len(opts)
				switch c {
				case 'k':
					o.keyFile = val
				case 'r':
					o.random = val
				case 's':
					n, err := strconv.ParseInt(val, 10, 64)
					if err != nil || n < minKeyBytes || n > maxKeyBytes {
						return o, sizeError{}
					}
					o.size = int(n)
				}
			default:
				return o, usageError{fmt.Sprintf("%s: invalid option -- '%c'", argv0, c)}
			}
		}
	}
	return o, nil
}

// sizeError is corosync's refusal of a key size.
type sizeError struct{}

func (sizeError) Error() string {
	return fmt.Sprintf("Unsupported key size (supported <%d,%d>)\n", minKeyBytes, maxKeyBytes)
}

// exitError carries corosync-keygen's exit code for a failure.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// generate reads the key and writes it, printing corosync's progress lines to out.
func generate(o options, out io.Writer) error {
	fmt.Fprintln(out, "Corosync Cluster Engine Authentication key generator.")
	fmt.Fprintf(out, "Gathering %d bits for key from %s.\n", o.size*8, o.random)
	src, err := os.Open(o.random)
	if err != nil {
		return exitError{1, "Failed to open random source: " + errnoText(err)}
	}
	defer src.Close()
	if o.random == "/dev/random" {
		fmt.Fprintln(out, "Press keys on your keyboard to generate entropy.")
	}
	key := make([]byte, o.size)
	if _, err := io.ReadFull(src, key); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return exitError{1, "Unexpected end of " + o.random}
		}
		return exitError{1, "Could not read " + o.random + ": " + errnoText(err)}
	}
	f, err := os.OpenFile(o.keyFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return exitError{2, "Could not create " + o.keyFile + ": " + errnoText(err)}
	}
	if err := f.Chmod(0o400); err != nil {
		f.Close()
		return exitError{3, "Failed to set key file permissions to 0400: " + errnoText(err)}
	}
	fmt.Fprintf(out, "Writing corosync key to %s.\n", o.keyFile)
	if _, err := f.Write(key); err != nil {
		f.Close()
		return exitError{4, "Could not write " + o.keyFile + ": " + errnoText(err)}
	}
	if err := f.Close(); err != nil {
		return exitError{5, "Could not close " + o.keyFile + ": " + errnoText(err)}
	}
	return nil
}

// errnoText is strerror's wording, which err(3) prints.
func errnoText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	return strings.ToUpper(s[:1]) + s[1:]
}

// run is main without the process: it returns the exit code.
func run(argv0 string, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(argv0, args)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, ue.msg)
		fmt.Fprintln(stdout, "Error parsing command line options.")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "%s: %s\n", prog, err)
		return 1
	case o.help:
		fmt.Fprintf(stdout, "%s\n", usage)
		return 0
	}
	if err := generate(o, stdout); err != nil {
		var ee exitError
		errors.As(err, &ee)
		fmt.Fprintf(stderr, "%s: %s\n", prog, ee.msg)
		return ee.code
	}
	return 0
}

func main() {
	os.Exit(run(os.Args[0], os.Args[1:], os.Stdout, os.Stderr))
}
