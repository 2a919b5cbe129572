package main

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/cmd/internal/getopt"
)

func TestGetopt(t *testing.T) {
	cases := []struct {
		args  []string
		posix bool
		want  getopt.Result
	}{
		{[]string{"-bq", "-g", "k1", "k2"}, false, getopt.Result{
			Opts: []getopt.Opt{{Name: 'b'}, {Name: 'q'}, {Name: 'g'}}, Operands: []string{"k1", "k2"}}},
		{[]string{"k1", "-g", "k2"}, false, getopt.Result{
			Opts: []getopt.Opt{{Name: 'g'}}, Operands: []string{"k1", "k2"}}},
		{[]string{"k1", "-g", "k2"}, true, getopt.Result{Operands: []string{"k1", "-g", "k2"}}},
		{[]string{"-mstats", "-m", "-g", "-p"}, false, getopt.Result{
			Opts: []getopt.Opt{{Name: 'm', Arg: "stats"}, {Name: 'm', Arg: "-g"}}, Err: "prog: option requires an argument -- 'p'\n"}},
		{[]string{"-bx", "-q"}, false, getopt.Result{
			Opts: []getopt.Opt{{Name: 'b'}}, Err: "prog: invalid option -- 'x'\n"}},
		{[]string{"--foo"}, false, getopt.Result{Err: "prog: invalid option -- '-'\n"}},
		{[]string{"-:"}, false, getopt.Result{Err: "prog: invalid option -- ':'\n"}},
		{[]string{"-\xff"}, false, getopt.Result{Err: "prog: invalid option -- '\xff'\n"}},
		{[]string{"-", "--", "-b"}, false, getopt.Result{Operands: []string{"-", "-b"}}},
		{[]string{"-s", "k", "i8", "--", "-5"}, false, getopt.Result{
			Opts: []getopt.Opt{{Name: 's'}}, Operands: []string{"k", "i8", "-5"}}},
		{[]string{"-bpC", "x"}, false, getopt.Result{
			Opts: []getopt.Opt{{Name: 'b'}, {Name: 'p', Arg: "C"}}, Operands: []string{"x"}}},
		{[]string{""}, false, getopt.Result{Operands: []string{""}}},
	}
	for _, c := range cases {
		got := getopt.Parse("prog", c.args, optString, c.posix)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("getopt(%q, posix %v) = %+v, want %+v", c.args, c.posix, got, c.want)
		}
	}
}

// oracleLines formats a getopt result as the oracle's getopt mode prints glibc's.
func oracleLines(r getopt.Result) string {
	var sb strings.Builder
	for _, o := range r.Opts {
		sb.WriteString("o " + string(o.Name))
		if strings.IndexByte("mpC", o.Name) >= 0 {
			sb.WriteString(" " + o.Arg)
		}
		sb.WriteString("\n")
	}
	if r.Err != "" {
		sb.WriteString("E\n")
		return sb.String()
	}
	for _, p := range r.Operands {
		sb.WriteString("P " + p + "\n")
	}
	return sb.String()
}

func TestGetoptAgainstGlibc(t *testing.T) {
	oracle := buildOracle(t)
	words := []string{"-b", "-q", "-g", "-s", "-d", "-D", "-t", "-T", "-h", "-m", "stats", "-mstats",
		"-p", "file", "-C", "all", "--", "-", "key", "-x", "-bq", "-bm", "--foo", "-:", "-gx", "-pfile",
		"", "a b", "-5", "-Cknet", "-qgb"}
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 300 {
		args := make([]string, r.IntN(6))
		for j := range args {
			args[j] = words[r.IntN(len(words))]
		}
		posix := i%4 == 3
		var env []string
		if posix {
			env = []string{"POSIXLY_CORRECT=1"}
		}
		out, stderr := runOracle(t, oracle, nil, env, append([]string{"getopt"}, args...)...)
		got := getopt.Parse("prog", args, optString, posix)
		if want := oracleLines(got); out != want || stderr != got.Err {
			t.Errorf("args %q (posix %v):\n glibc %q %q\n  ours %q %q", args, posix, out, stderr, want, got.Err)
		}
	}
}

func FuzzGetopt(f *testing.F) {
	f.Add("-b\x00-q\x00-g\x00key")
	f.Add("-mstats\x00-s\x00k\x00u8\x00--\x00-5")
	f.Add("--foo\x00-p")
	f.Add("k\x00-\x00-Cx")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		r := getopt.Parse("prog", args, optString, false)
		if r.Err != "" && !strings.HasPrefix(r.Err, "prog: ") {
			t.Fatalf("message %q", r.Err)
		}
		if len(r.Opts) > len(joined) {
			t.Fatalf("%d options from %d bytes", len(r.Opts), len(joined))
		}
		for _, o := range r.Opts {
			if strings.IndexByte(optString, o.Name) < 0 || o.Name == ':' {
				t.Fatalf("option %q is not in the option string", o.Name)
			}
		}
		// Every operand is an argument word.
		for _, p := range r.Operands {
			found := false
			for _, a := range args {
				found = found || a == p
			}
			if !found {
				t.Fatalf("operand %q is not an argument", p)
			}
		}
		if _, early := parseArgs(append([]string{"prog"}, args...), false); early != nil && early.code != 0 && early.code != 1 {
			t.Fatalf("exit code %d", early.code)
		}
	})
}
