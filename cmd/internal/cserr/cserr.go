// Package cserr renders cs_error_t codes as the corosync 3.1.7 C tools print them.
package cserr

import (
	"errors"

	"github.com/corosync-go/corosync/ipc"
	"golang.org/x/sys/unix"
)

// csText is cs_strerror's wording in corosync 3.1.7 (common_lib/error_conversion.c): the
// code's name, "success" for CS_OK.
var csText = map[ipc.CS]string{
	ipc.CSOk: "success", 2: "CS_ERR_LIBRARY", 3: "CS_ERR_VERSION", 4: "CS_ERR_INIT",
	8: "CS_ERR_NO_MEMORY", 13: "CS_ERR_NAME_TOO_LONG", 5: "CS_ERR_TIMEOUT",
	6: "CS_ERR_TRY_AGAIN", 7: "CS_ERR_INVALID_PARAM", 9: "CS_ERR_BAD_HANDLE",
	10: "CS_ERR_BUSY", 11: "CS_ERR_ACCESS", 12: "CS_ERR_NOT_EXIST", 14: "CS_ERR_EXIST",
	15: "CS_ERR_NO_SPACE", 16: "CS_ERR_INTERRUPT", 17: "CS_ERR_NAME_NOT_FOUND",
	18: "CS_ERR_NO_RESOURCES", 19: "CS_ERR_NOT_SUPPORTED", 20: "CS_ERR_BAD_OPERATION",
	21: "CS_ERR_FAILED_OPERATION", 22: "CS_ERR_MESSAGE_ERROR", 23: "CS_ERR_QUEUE_FULL",
	24: "CS_ERR_QUEUE_NOT_AVAILABLE", 25: "CS_ERR_BAD_FLAGS", 26: "CS_ERR_TOO_BIG",
	27: "CS_ERR_NO_SECTIONS", 28: "CS_ERR_CONTEXT_NOT_FOUND", 30: "CS_ERR_TOO_MANY_GROUPS",
	100: "CS_ERR_SECURITY",
}

// Strerror renders a code as libcorosync_common's cs_strerror does.
func Strerror(cs ipc.CS) string {
	if s, ok := csText[cs]; ok {
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
