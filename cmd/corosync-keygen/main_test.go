package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cases are argument lists; KEY stands for a key path in a fresh directory.
var cases = [][]string{
	{"-k", "KEY"},
	{"-k", "KEY", "-s", "2048"},
	{"-k", "KEY", "-s", "128", "-r", "/dev/zero"},
	{"--key-file=KEY", "--size=200", "-l"},
	{"-lkKEY"},
	{"-k", "KEY", "-s", "4097"},
	{"-k", "KEY", "-s", "127"},
	{"-k", "KEY", "-s", "abc"},
	{"-x"},
	{"-h"},
	{"-k", "KEY/missing/dir"},
	{"-k", "KEY", "-r", "/nonexistent"},
	{"-k"},
	{"--bogus"},
}

type outcome struct {
	stdout, stderr string
	code           int
	key            []byte
	mode           os.FileMode
}

func substitute(args []string, key string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "KEY", key)
	}
	return out
}

// ours runs our keygen as if installed where Debian's is (getopt's messages name argv[0]).
func ours(t *testing.T, args []string) outcome {
	dir := t.TempDir()
	key := filepath.Join(dir, "authkey")
	var stdout, stderr bytes.Buffer
	code := run("/usr/sbin/corosync-keygen", substitute(args, key), &stdout, &stderr)
	return collect(stdout.String(), stderr.String(), code, key, dir)
}

func collect(stdout, stderr string, code int, key, dir string) outcome {
	o := outcome{stdout: strings.ReplaceAll(stdout, dir, "DIR"), stderr: strings.ReplaceAll(stderr, dir, "DIR"), code: code}
	if st, err := os.Stat(key); err == nil {
		o.mode = st.Mode().Perm()
		o.key, _ = os.ReadFile(key)
	}
	return o
}

// TestSameAsDebian runs Debian's corosync-keygen 3.1.7 and ours on the same arguments
// and expects the same output, exit code, key size, key mode (and, from /dev/zero, the
// same key).
func TestSameAsDebian(t *testing.T) {
	const debian = "/usr/sbin/corosync-keygen"
	if _, err := os.Stat(debian); err != nil {
		t.Skip("skipping: Debian's corosync-keygen is not installed (apt-get install corosync)")
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			key := filepath.Join(dir, "authkey")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, debian, substitute(args, key)...)
			cmd.Dir = dir // a bundled -k argument writes relative to here
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			want := collect(stdout.String(), stderr.String(), code, key, dir)
			got := ours(t, args)
			if got.stdout != want.stdout || got.stderr != want.stderr || got.code != want.code {
				t.Errorf("ours:\n%q %q exit %d\nDebian's:\n%q %q exit %d", got.stdout, got.stderr, got.code, want.stdout, want.stderr, want.code)
			}
			if len(got.key) != len(want.key) || got.mode != want.mode {
				t.Errorf("key: ours %d bytes mode %v, Debian's %d bytes mode %v", len(got.key), got.mode, len(want.key), want.mode)
			}
			if strings.Contains(strings.Join(args, " "), "/dev/zero") && !bytes.Equal(got.key, want.key) {
				t.Error("keys from /dev/zero differ")
			}
		})
	}
}

// TestShortRandomSource: corosync 3.1.7 loops forever when the random source ends early;
// ours fails.
func TestShortRandomSource(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("x"), 0o600)
	got := ours(t, []string{"-k", "KEY", "-r", short})
	if got.code != 1 || !strings.Contains(got.stderr, "Unexpected end of") || got.key != nil {
		t.Fatalf("got %+v", got)
	}
}

func TestKeyIsRandom(t *testing.T) {
	a, b := ours(t, []string{"-k", "KEY"}), ours(t, []string{"-k", "KEY"})
	if len(a.key) != defaultKeyBytes || a.mode != 0o400 || bytes.Equal(a.key, b.key) {
		t.Fatalf("two keys: %d bytes mode %v, equal=%v", len(a.key), a.mode, bytes.Equal(a.key, b.key))
	}
}
