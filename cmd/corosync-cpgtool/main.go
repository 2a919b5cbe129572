// Command corosync-cpgtool lists the running corosync's closed process groups and their
// members, with corosync 3.1.7's options, output, messages and exit codes, byte for
// byte:
//
//	corosync-cpgtool [-d delimiter] [-e] [-n] [-h]
//
// Without options it prints each group and its members' pids, node ids and addresses;
// -n prints the group names only, -d separates fields with a character (one line per
// member), -e prints group names without escaping unprintable bytes.
package main

import (
	"bufio"
	"context"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	// stdout is buffered unless it is a terminal, as C's stdio does.
	out := bufio.NewWriterSize(os.Stdout, 4096)
	var stdout io.Writer = out
	if _, err := unix.IoctlGetTermios(int(os.Stdout.Fd()), unix.TCGETS); err == nil {
		stdout = os.Stdout
	}
	_, posixlyCorrect := os.LookupEnv("POSIXLY_CORRECT")
	code := run(context.Background(), os.Args, posixlyCorrect, stdout, os.Stderr, daemonDeps())
	out.Flush()
	os.Exit(code)
}
