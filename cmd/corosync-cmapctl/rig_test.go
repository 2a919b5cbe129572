package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// refToolDir holds Debian's corosync-cmapctl.
const refToolDir = "/usr/sbin"

// namespace is where the tools run: a reference daemon's namespace or a bare one.
type namespace interface {
	Command(name string, args ...string) *exec.Cmd
}

// runResult is what one run of a tool printed and returned.
type runResult struct {
	stdout, stderr string
	code           int
}

func (r runResult) String() string {
	return fmt.Sprintf("exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
}

// rig runs both tools in a namespace.
type rig struct {
	t      *testing.T
	ns     namespace
	ourDir string // holds our corosync-cmapctl
	tmp    string // files the cases use
}

func newRig(t *testing.T, ns namespace) *rig {
	t.Helper()
	if _, err := os.Stat(filepath.Join(refToolDir, "corosync-cmapctl")); err != nil {
		t.Skip("skipping: Debian's corosync-cmapctl is not installed (apt-get install corosync)")
	}
	r := &rig{t: t, ns: ns, ourDir: t.TempDir(), tmp: t.TempDir()}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "/usr/local/go/bin/go"
	}
	// Named as the real tool so that the daemon's stats show the same process name.
	build := exec.Command(goTool, "build", "-o", filepath.Join(r.ourDir, "corosync-cmapctl"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return r
}

// command prepares corosync-cmapctl from dir, run as "corosync-cmapctl" (so that getopt's
// messages name the same program) under timeout.
func (r *rig) command(dir string, args ...string) *exec.Cmd {
	cmd := r.ns.Command("timeout", append([]string{"10", "corosync-cmapctl"}, args...)...)
	cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin:/usr/sbin:/sbin"}
	cmd.WaitDelay = 15 * time.Second
	return cmd
}

// run runs the tool from dir with stdin and returns its result.
func (r *rig) run(dir string, stdin string, args ...string) runResult {
	r.t.Helper()
	cmd := r.command(dir, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	} // else /dev/null
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := runResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		r.t.Fatalf("%s %q: %v", dir, args, err)
	}
	if res.code == 124 {
		r.t.Fatalf("%s %q timed out", dir, args)
	}
	return res
}

// ref runs the reference tool.
func (r *rig) ref(args ...string) runResult {
	r.t.Helper()
	return r.run(refToolDir, "", args...)
}

// file writes a file for the cases and returns its path.
func (r *rig) file(name string, data []byte) string {
	r.t.Helper()
	p := filepath.Join(r.tmp, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		r.t.Fatal(err)
	}
	return p
}

// cmpCase is one argument set both tools run.
type cmpCase struct {
	args  []string
	stdin string
	// reset restores the fixture keys before each tool runs (for cases that change them).
	reset bool
	// check are argument sets the reference tool runs after each tool, to compare the
	// state each left behind.
	check [][]string
}

// compare runs a case with both tools and reports any difference.
func (r *rig) compare(t *testing.T, c cmpCase, reset func()) {
	t.Helper()
	var results [2][]runResult
	for i, dir := range []string{refToolDir, r.ourDir} {
		if c.reset {
			reset()
		}
		results[i] = append(results[i], r.run(dir, c.stdin, c.args...))
		for _, chk := range c.check {
			results[i] = append(results[i], r.ref(chk...))
		}
	}
	for k := range results[0] {
		if results[0][k] != results[1][k] {
			what := "the run"
			if k > 0 {
				what = fmt.Sprintf("check %q afterwards", c.check[k-1])
			}
			t.Errorf("%q: %s differs\nreference: %v\n     ours: %v", c.args, what, results[0][k], results[1][k])
		}
	}
}

// listing is a tool's output split into "key (type)" and value parts, sorted.
type listing struct {
	heads, values []string
}

func parseListing(out string, normalize func(string) string) listing {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" {
		lines = nil
	}
	sort.Strings(lines)
	var l listing
	for _, line := range lines {
		head, value, _ := strings.Cut(line, " = ")
		l.heads = append(l.heads, normalize(head))
		l.values = append(l.values, value)
	}
	return l
}

// compareVolatile runs a listing with the reference tool, ours, and the reference tool
// again. Exit codes, stderr and the keys with their types must match; values must match
// where both reference runs agree and compareValue allows it (counters move meanwhile).
func (r *rig) compareVolatile(t *testing.T, args []string, normalize func(string) string, compareValue func(head string) bool) {
	t.Helper()
	a, ours, b := r.ref(args...), r.run(r.ourDir, "", args...), r.ref(args...)
	if a.code != ours.code || a.stderr != ours.stderr {
		t.Errorf("%q: reference %v\nours %v", args, a, ours)
	}
	la, lo, lb := parseListing(a.stdout, normalize), parseListing(ours.stdout, normalize), parseListing(b.stdout, normalize)
	if len(la.heads) == 0 {
		t.Fatalf("%q: the reference listed nothing: %v", args, a)
	}
	if strings.Join(la.heads, "\n") != strings.Join(lb.heads, "\n") {
		t.Fatalf("%q: the reference's keys changed between two runs:\n%s\n---\n%s", args, a.stdout, b.stdout)
	}
	if strings.Join(la.heads, "\n") != strings.Join(lo.heads, "\n") {
		t.Errorf("%q: keys differ\nreference:\n%s\nours:\n%s", args, strings.Join(la.heads, "\n"), strings.Join(lo.heads, "\n"))
		return
	}
	for i, h := range la.heads {
		if la.values[i] == lb.values[i] && compareValue(h) && la.values[i] != lo.values[i] {
			t.Errorf("%q: %s = %q, reference %q", args, h, lo.values[i], la.values[i])
		}
	}
}
