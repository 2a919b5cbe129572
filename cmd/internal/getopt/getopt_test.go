package getopt

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

const testOpts = "VHaslpmfe:v:hin:o:"

func TestParse(t *testing.T) {
	cases := []struct {
		args  []string
		posix bool
		want  Result
	}{
		{[]string{"-sH", "-o", "n", "x"}, false, Result{Opts: []Opt{{'s', ""}, {'H', ""}, {'o', "n"}}, Operands: []string{"x"}}},
		{[]string{"x", "-l"}, false, Result{Opts: []Opt{{'l', ""}}, Operands: []string{"x"}}},
		{[]string{"x", "-l"}, true, Result{Operands: []string{"x", "-l"}}},
		{[]string{"-e5", "-v", "-s"}, false, Result{Opts: []Opt{{'e', "5"}, {'v', "-s"}}}},
		{[]string{"-sx", "-l"}, false, Result{Opts: []Opt{{'s', ""}}, Err: "prog: invalid option -- 'x'\n"}},
		{[]string{"-s", "-n"}, false, Result{Opts: []Opt{{'s', ""}}, Err: "prog: option requires an argument -- 'n'\n"}},
		{[]string{"--help"}, false, Result{Err: "prog: invalid option -- '-'\n"}},
		{[]string{"-:"}, false, Result{Err: "prog: invalid option -- ':'\n"}},
		{[]string{"-", "--", "-x"}, false, Result{Operands: []string{"-", "-x"}}},
		{[]string{""}, false, Result{Operands: []string{""}}},
	}
	for _, c := range cases {
		if got := Parse("prog", c.args, testOpts, c.posix); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q, posix %v) = %+v, want %+v", c.args, c.posix, got, c.want)
		}
	}
}

func TestStrToNum(t *testing.T) {
	cases := []struct {
		s        string
		min, max int64
		want     int64
		ok       bool
	}{
		{"5", 1, 10, 5, true}, {" +7", 1, 10, 7, true}, {"\t\n-3", -5, 0, -3, true},
		{"0", 1, 10, 0, false}, {"11", 1, 10, 0, false}, {"", 0, 10, 0, false}, {"+", 0, 10, 0, false},
		{"5 ", 0, 10, 0, false}, {"0x5", 0, 10, 0, false}, {"5", 10, 1, 0, false},
		{"9223372036854775807", 0, math.MaxInt64, math.MaxInt64, true},
		{"9223372036854775808", 0, math.MaxInt64, 0, false},
		{"-9223372036854775808", math.MinInt64, 0, math.MinInt64, true},
		{"-9223372036854775809", math.MinInt64, 0, 0, false},
		{"99999999999999999999999", math.MinInt64, math.MaxInt64, 0, false},
		{"4294967295", 1, math.MaxUint32, math.MaxUint32, true}, {"4294967296", 1, math.MaxUint32, 0, false},
	}
	for _, c := range cases {
		got, ok := StrToNum(c.s, c.min, c.max)
		if got != c.want || ok != c.ok {
			t.Errorf("StrToNum(%q, %d, %d) = %d, %v; want %d, %v", c.s, c.min, c.max, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParse checks that any command line parses without a crash, that every option
// returned is in the option string with an argument exactly when it takes one, and that
// an error names argv[0] and stops the options.
func FuzzParse(f *testing.F) {
	f.Add("-sH\x00-o\x00n", false)
	f.Add("x\x00-e\x00--\x00-v", true)
	f.Add("-:\x00-n", false)
	f.Fuzz(func(t *testing.T, joined string, posix bool) {
		args := strings.Split(joined, "\x00")
		r := Parse("prog", args, testOpts, posix)
		for _, o := range r.Opts {
			k := strings.IndexByte(testOpts, o.Name)
			if k < 0 || o.Name == ':' {
				t.Fatalf("option %q not in the option string", o.Name)
			}
			takesArg := k+1 < len(testOpts) && testOpts[k+1] == ':'
			if !takesArg && o.Arg != "" {
				t.Fatalf("option %q got an argument", o.Name)
			}
		}
		if r.Err != "" && (!strings.HasPrefix(r.Err, "prog: ") || !strings.HasSuffix(r.Err, "'\n")) {
			t.Fatalf("message %q", r.Err)
		}
		// Each option takes at least one byte of the command line, each operand a word.
		if len(r.Opts) > len(joined) || len(r.Operands) > len(args) {
			t.Fatalf("%d options and %d operands from %q", len(r.Opts), len(r.Operands), args)
		}
	})
}

// FuzzStrToNum checks StrToNum against the range it is given and against a reparse of
// what it accepted.
func FuzzStrToNum(f *testing.F) {
	f.Add("42", int64(0), int64(100))
	f.Add(" -9223372036854775808", int64(math.MinInt64), int64(0))
	f.Fuzz(func(t *testing.T, s string, min, max int64) {
		n, ok := StrToNum(s, min, max)
		if !ok {
			return
		}
		if n < min || n > max {
			t.Fatalf("StrToNum(%q, %d, %d) = %d out of range", s, min, max, n)
		}
		if strings.TrimLeft(s, " \t\n\v\f\r+") == "" {
			t.Fatalf("StrToNum(%q) accepted no digits", s)
		}
	})
}

var testLong = []LongOpt{{Name: "status", HasArg: false, Val: 's'}, {Name: "kill", HasArg: true, Val: 'k'}, {Name: "force", HasArg: false, Val: 0}, {Name: "reload", HasArg: false, Val: 'R'}, {Name: "reopen", HasArg: false, Val: 'L'}}

func TestParseLong(t *testing.T) {
	cases := []struct {
		args []string
		want []LongResult
		err  string
	}{
		{[]string{"--stat", "-k5", "--force"}, []LongResult{{Val: 's', Long: "status"}, {Val: 'k', Arg: "5"}, {Long: "force"}}, ""},
		{[]string{"--kill", "7", "--kill=8"}, []LongResult{{Val: 'k', Long: "kill", Arg: "7"}, {Val: 'k', Long: "kill", Arg: "8"}}, ""},
		{[]string{"-s", "--re"}, []LongResult{{Val: 's'}}, "p: option '--re' is ambiguous; possibilities: '--reload' '--reopen'\n"},
		{[]string{"--force=1"}, nil, "p: option '--force' doesn't allow an argument\n"},
		{[]string{"--kill"}, nil, "p: option '--kill' requires an argument\n"},
		{[]string{"--nope"}, nil, "p: unrecognized option '--nope'\n"},
		{[]string{"-x"}, nil, "p: invalid option -- 'x'\n"},
	}
	for _, c := range cases {
		got, err := ParseLong("p", c.args, "sk:RL", testLong, false)
		msg := ""
		if err != nil {
			msg = err.Msg
		}
		if !reflect.DeepEqual(got, c.want) || msg != c.err {
			t.Errorf("ParseLong(%q) = %+v, %q; want %+v, %q", c.args, got, msg, c.want, c.err)
		}
	}
}

// FuzzParseLong checks that any command line parses without a crash and yields only
// options of the tables, with a message ending in a newline when it stops.
func FuzzParseLong(f *testing.F) {
	f.Add("--stat\x00-k\x005\x00--re", false)
	f.Add("--=x\x00--force=1", true)
	f.Fuzz(func(t *testing.T, joined string, posix bool) {
		opts, err := ParseLong("p", strings.Split(joined, "\x00"), "sk:RL", testLong, posix)
		for _, o := range opts {
			if o.Val == 0 && o.Long != "force" || o.Val != 0 && strings.IndexByte("skRL", o.Val) < 0 {
				t.Fatalf("option %+v", o)
			}
		}
		if err != nil && !strings.HasSuffix(err.Msg, "\n") {
			t.Fatalf("message %q", err.Msg)
		}
	})
}
