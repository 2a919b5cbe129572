package main

import (
	"errors"
	"strings"
	"syscall"

	"github.com/corosync-go/corosync/ipc"
)

// csName is cs_strerror as libcorosync_common 3.1.7 has it: "success" for CS_OK, the
// code's name (without the trailing blanks later versions added) or "unknown error".
func csName(cs ipc.CS) string {
	if cs == ipc.CSOk {
		return "success"
	}
	s := cs.String()
	if !strings.HasPrefix(s, "CS_ERR_") || strings.HasPrefix(s, "CS_ERR(") {
		return "unknown error"
	}
	return s
}

// csOf is the cs_error_t libcmap would have returned for err: the daemon's code or one
// the client library checked for itself, an errno translated as qb_to_cs_error does, and
// CS_ERR_LIBRARY for anything else (a refused or broken connection).
func csOf(err error) ipc.CS {
	var cs ipc.CS
	if errors.As(err, &cs) {
		return cs
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errnoCS(errno)
	}
	return ipc.CSErrLibrary
}

// errnoCS is qb_to_cs_error for a libqb call that failed with errno.
func errnoCS(errno syscall.Errno) ipc.CS {
	switch errno {
	case syscall.EBADF:
		return ipc.CSErrBadHandle
	case syscall.ENOMEM:
		return ipc.CSErrNoMemory
	case syscall.ENOBUFS, syscall.ETIMEDOUT, syscall.EAGAIN:
		return ipc.CSErrTryAgain
	case syscall.EBADE:
		return ipc.CSErrFailedOp
	case syscall.ETIME:
		return ipc.CSErrTimeout
	case syscall.EINVAL:
		return ipc.CSErrInvalid
	case syscall.EBUSY:
		return ipc.CSErrBusy
	case syscall.EACCES:
		return ipc.CSErrAccess
	case syscall.EOVERFLOW:
		return ipc.CSErrNameTooLong
	case syscall.EEXIST:
		return ipc.CSErrExist
	case syscall.ENOSPC:
		return ipc.CSErrNoSpace
	case syscall.EINTR:
		return ipc.CSErrInterrupt
	case syscall.ENOENT, syscall.ENODEV:
		return ipc.CSErrNotExist
	case syscall.ENOSYS, syscall.ENOTSUP:
		return ipc.CSErrNotSupport
	case syscall.EBADMSG:
		return ipc.CSErrMessage
	case syscall.EMSGSIZE, syscall.E2BIG:
		return ipc.CSErrTooBig
	}
	return ipc.CSErrLibrary
}

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
