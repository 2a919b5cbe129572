// Command corosync-cfgtool displays and changes the running corosync's state, with
// corosync 3.1.7's options, output, messages and exit codes, byte for byte:
//
//	corosync-cfgtool [[-i <interface ip>] [-b] -s] [-R] [-L] [-k nodeid] [-a nodeid] [-h] [-H]
//
// -s prints the links and each node's state over them (-b briefly), -n the reachable
// nodes and their links, -a a node's addresses; -R reloads corosync.conf cluster-wide,
// -L reopens the log files, -k kills a node, -H [--force] shuts the local daemon down.
// Like 3.1.7 it accepts -i but ignores it.
package main

import (
	"bufio"
	"context"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	// stdout is buffered unless it is a terminal, as C's stdio does, so that output
	// merged with stderr comes in the same order as the C tool's.
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
