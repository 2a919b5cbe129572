package logsys

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// openLog opens a log file as libqb does (fopen "a+": read-write, append, create 0666
// less the umask).
func openLog(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
}

// openError is logsys's message for a log file it cannot open.
func openError(key, path string, err error) error {
	text, code := Strerror(err)
	return &ConfigError{Key: key, Msg: fmt.Sprintf("Can't open logfile '%s' for reason: %s (%d)", path, text, code)}
}

// Strerror is glibc's strerror text and the errno of err: Go's text with a capital, which
// is glibc's. An error without an errno gives its own text and 0.
func Strerror(err error) (string, int) {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error(), 0
	}
	s := errno.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:], int(errno)
}

// Perror is the text of corosync's LOGSYS_PERROR: "msg: strerror (errno)".
func Perror(msg string, err error) string {
	text, code := Strerror(err)
	if code == 0 {
		return msg + ": " + text
	}
	return fmt.Sprintf("%s: %s (%d)", msg, text, code)
}
