package main

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestGetopt(t *testing.T) {
	cases := []struct {
		args  []string
		posix bool
		want  getoptResult
	}{
		{[]string{"-bq", "-g", "k1", "k2"}, false, getoptResult{
			opts: []opt{{name: 'b'}, {name: 'q'}, {name: 'g'}}, operands: []string{"k1", "k2"}}},
		{[]string{"k1", "-g", "k2"}, false, getoptResult{
			opts: []opt{{name: 'g'}}, operands: []string{"k1", "k2"}}},
		{[]string{"k1", "-g", "k2"}, true, getoptResult{operands: []string{"k1", "-g", "k2"}}},
		{[]string{"-mstats", "-m", "-g", "-p"}, false, getoptResult{
			opts: []opt{{name: 'm', arg: "stats"}, {name: 'm', arg: "-g"}}, err: "prog: option requires an argument -- 'p'\n"}},
		{[]string{"-bx", "-q"}, false, getoptResult{
			opts: []opt{{name: 'b'}}, err: "prog: invalid option -- 'x'\n"}},
		{[]string{"--foo"}, false, getoptResult{err: "prog: invalid option -- '-'\n"}},
		{[]string{"-:"}, false, getoptResult{err: "prog: invalid option -- ':'\n"}},
		{[]string{"-\xff"}, false, getoptResult{err: "prog: invalid option -- '\xff'\n"}},
		{[]string{"-", "--", "-b"}, false, getoptResult{operands: []string{"-", "-b"}}},
		{[]string{"-s", "k", "i8", "--", "-5"}, false, getoptResult{
			opts: []opt{{name: 's'}}, operands: []string{"k", "i8", "-5"}}},
		{[]string{"-bpC", "x"}, false, getoptResult{
			opts: []opt{{name: 'b'}, {name: 'p', arg: "C"}}, operands: []string{"x"}}},
		{[]string{""}, false, getoptResult{operands: []string{""}}},
	}
	for _, c := range cases {
		got := getopt("prog", c.args, optString, c.posix)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("getopt(%q, posix %v) = %+v, want %+v", c.args, c.posix, got, c.want)
		}
	}
}

// oracleLines formats a getopt result as the oracle's getopt mode prints glibc's.
func oracleLines(r getoptResult) string {
	var sb strings.Builder
	for _, o := range r.opts {
		sb.WriteString("o " + string(o.name))
		if strings.IndexByte("mpC", o.name) >= 0 {
			sb.WriteString(" " + o.arg)
		}
		sb.WriteString("\n")
	}
	if r.err != "" {
		sb.WriteString("E\n")
		return sb.String()
	}
	for _, p := range r.operands {
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
		got := getopt("prog", args, optString, posix)
		if want := oracleLines(got); out != want || stderr != got.err {
			t.Errorf("args %q (posix %v):\n glibc %q %q\n  ours %q %q", args, posix, out, stderr, want, got.err)
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
		r := getopt("prog", args, optString, false)
		if r.err != "" && !strings.HasPrefix(r.err, "prog: ") {
			t.Fatalf("message %q", r.err)
		}
		if len(r.opts) > len(joined) {
			t.Fatalf("%d options from %d bytes", len(r.opts), len(joined))
		}
		for _, o := range r.opts {
			if strings.IndexByte(optString, o.name) < 0 || o.name == ':' {
				t.Fatalf("option %q is not in the option string", o.name)
			}
		}
		// Every operand is an argument word.
		for _, p := range r.operands {
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
