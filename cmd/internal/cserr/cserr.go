// Package cserr renders cs_error_t codes as the corosync 3.1.7 C tools print them.
package cserr

import (
	"errors"
	"strings"

	"github.com/corosync-go/corosync/ipc"
	"golang.org/x/sys/unix"
)

// Strerror renders a code as libcorosync_common 3.1.7's cs_strerror does: "success" for
// CS_OK, the code's name (without the trailing blanks later versions added), or
// "unknown error".
func Strerror(cs ipc.CS) string {
	if cs == ipc.CSOk {
		return "success"
	}
	if s := cs.String(); strings.HasPrefix(s, "CS_ERR_") {
		return s
	}
	return "unknown error"
}

// errnoCS is libqb's errno to cs_error_t mapping (qb_to_cs_error), which libcfg and
// libcmap apply to connection and transport failures; other errnos are CS_ERR_LIBRARY.
var errnoCS = map[unix.Errno]ipc.CS{
	unix.EBADF: ipc.CSErrBadHandle, unix.ENOMEM: ipc.CSErrNoMemory,
	unix.ENOBUFS: ipc.CSErrTryAgain, unix.ETIMEDOUT: ipc.CSErrTryAgain, unix.EAGAIN: ipc.CSErrTryAgain,
	unix.EBADE: ipc.CSErrFailedOp, unix.ETIME: ipc.CSErrTimeout, unix.EINVAL: ipc.CSErrInvalid,
	unix.EBUSY: ipc.CSErrBusy, unix.EACCES: ipc.CSErrAccess, unix.EOVERFLOW: ipc.CSErrNameTooLong,
	unix.EEXIST: ipc.CSErrExist, unix.ENOSPC: ipc.CSErrNoSpace, unix.EINTR: ipc.CSErrInterrupt,
	unix.ENOENT: ipc.CSErrNotExist, unix.ENODEV: ipc.CSErrNotExist,
	unix.ENOSYS: ipc.CSErrNotSupport, unix.ENOTSUP: ipc.CSErrNotSupport,
	unix.EBADMSG: ipc.CSErrMessage, unix.EMSGSIZE: ipc.CSErrTooBig, unix.E2BIG: ipc.CSErrTooBig,
}

// Of returns the cs_error_t the C libraries would have reported for err: the daemon's
// own code when it answered with one, libqb's mapping of a system error, and
// CS_ERR_LIBRARY for anything else (a lost connection, a malformed answer).
func Of(err error) ipc.CS {
	if err == nil {
		return ipc.CSOk
	}
	var cs ipc.CS
	if errors.As(err, &cs) {
		return cs
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		if cs, ok := errnoCS[errno]; ok {
			return cs
		}
	}
	return ipc.CSErrLibrary
}
