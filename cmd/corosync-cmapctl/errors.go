package main

import (
	"errors"
	"syscall"
)

// perrorText is what perror(prefix) prints for err: "prefix: " and glibc's message for
// its errno. Go's errno texts are glibc's with a lower-case first letter.
func perrorText(prefix string, err error) string {
	msg := "Unknown error"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg = errno.Error()
		if msg != "" && msg[0] >= 'a' && msg[0] <= 'z' {
			msg = string(msg[0]-'a'+'A') + msg[1:]
		}
	}
	return prefix + ": " + msg + "\n"
}
