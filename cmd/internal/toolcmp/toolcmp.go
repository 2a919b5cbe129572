// Package toolcmp runs one of our command line tools and Debian's corosync 3.1.7 tool of
// the same name side by side in a namespace, for comparison tests: same arguments, same
// environment, argv[0] the same, and stdout, stderr and exit code compared.
package toolcmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
	"time"
)

// SysPath is the PATH both tools run with; ours comes first through its directory.
const SysPath = "/usr/sbin:/usr/bin:/sbin:/bin"

// Commander runs programs inside a namespace where a daemon serves: a
// refcorosync.Instance, a refcluster.Node, a refcorosync.Netns without daemon, or
// anything that runs our corosyncd.
type Commander interface {
	Command(name string, args ...string) *exec.Cmd
}

// Tool is one of our tools built for a test, and Debian's of the same name.
type Tool struct {
	// Name is the program name ("corosync-quorumtool").
	Name string
	// Dir holds our build of it.
	Dir string
	// Mask rewrites output before comparison (the Date: line of corosync-quorumtool).
	Mask func(string) string
}

// Build builds the package in the current directory as name into a fresh directory. It
// skips the test when Debian's tool is missing.
func Build(t testing.TB, name string) *Tool {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/" + name); err != nil {
		t.Skipf("skipping: Debian's %s is not installed (apt-get install corosync)", name)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, goBin, "build", "-o", filepath.Join(dir, name), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return &Tool{Name: name, Dir: dir}
}

// Result is what a run showed: its streams apart (or merged in Stdout), and its exit
// code.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Which says whose tool a run uses.
type Which bool

// The two tools.
const (
	Debian Which = false
	Ours   Which = true
)

func (w Which) String() string {
	if w == Ours {
		return "ours"
	}
	return "debian"
}

// Cmd returns the command that runs one of the tools with args in ns under timeout(1),
// with a fixed environment, argv[0] the bare name.
func (tl *Tool) Cmd(ns Commander, which Which, args ...string) *exec.Cmd {
	path := SysPath
	if which == Ours {
		path = tl.Dir + ":" + SysPath
	}
	cmd := ns.Command("timeout", append([]string{"-k", "5", "30", tl.Name}, args...)...)
	cmd.Env = []string{"PATH=" + path, "LC_ALL=C"}
	return cmd
}

// Run runs one tool and returns what it showed (masked). With merged, stdout and stderr
// share one pipe, as with 2>&1.
func (tl *Tool) Run(t testing.TB, ns Commander, which Which, merged bool, args ...string) Result {
	t.Helper()
	cmd := tl.Cmd(ns, which, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if merged {
		cmd.Stderr = &so
	}
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %q: %v", tl.Name, args, err)
	}
	if code == 124 || code == 137 {
		t.Fatalf("%s %q timed out (%s)", tl.Name, args, which)
	}
	return Result{tl.mask(so.String()), tl.mask(se.String()), code}
}

func (tl *Tool) mask(s string) string {
	if tl.Mask == nil {
		return s
	}
	return tl.Mask(s)
}

// Same runs both tools with args and fails the test unless they show the same; it
// returns Debian's result.
func (tl *Tool) Same(t testing.TB, ns Commander, merged bool, args ...string) Result {
	t.Helper()
	want := tl.Run(t, ns, Debian, merged, args...)
	got := tl.Run(t, ns, Ours, merged, args...)
	if got != want {
		t.Errorf("%s %q (merged %v):\nours   %s\ndebian %s", tl.Name, args, merged, show(got), show(want))
	}
	return want
}

// Compare runs every command line with both tools in ns, streams apart, and merged too
// when the tool wrote on both (where their order shows).
func (tl *Tool) Compare(t testing.TB, ns Commander, cases [][]string) {
	t.Helper()
	for _, args := range cases {
		if r := tl.Same(t, ns, false, args...); r.Stdout != "" && r.Stderr != "" {
			tl.Same(t, ns, true, args...)
		}
	}
}

func show(r Result) string {
	return fmt.Sprintf("code %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// dateLine is corosync-quorumtool's Date: line.
var dateLine = regexp.MustCompile(`(?m)^Date:             .*$`)

// MaskDate replaces the Date: lines' times, which differ between two runs.
func MaskDate(s string) string { return dateLine.ReplaceAllString(s, "Date:             (masked)") }
