// Command corosync-quorumtool shows and changes the running corosync's quorum state, with
// corosync 3.1.7's options, output, messages and exit codes, byte for byte:
//
//	corosync-quorumtool [-s|-m|-l|-v votes [-n nodeid]|-e expected|-f] [-a] [-p] [-H] [-i] [-o a|n|i] [-h] [-V]
//
// -s (the default) prints the quorum and votequorum state and the membership and exits
// 0 when quorate, 2 when not, 1 on errors; -m prints it again at every change; -l prints
// the membership only. -v and -e change a node's votes and the expected votes, -f
// unregisters a quorum device. Names come from the nodelist, else from a reverse lookup
// of the node's first address (all of them with -a; addresses only with -i).
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
