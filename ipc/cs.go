package ipc

import "strconv"

var csNames = map[CS]string{
	CSOk: "CS_OK", CSErrLibrary: "CS_ERR_LIBRARY", 3: "CS_ERR_VERSION", 4: "CS_ERR_INIT",
	CSErrTimeout: "CS_ERR_TIMEOUT", CSErrTryAgain: "CS_ERR_TRY_AGAIN",
	CSErrInvalid: "CS_ERR_INVALID_PARAM", CSErrNoMemory: "CS_ERR_NO_MEMORY",
	CSErrBadHandle: "CS_ERR_BAD_HANDLE", CSErrBusy: "CS_ERR_BUSY", CSErrAccess: "CS_ERR_ACCESS",
	CSErrNotExist: "CS_ERR_NOT_EXIST", CSErrNameTooLong: "CS_ERR_NAME_TOO_LONG",
	CSErrExist: "CS_ERR_EXIST", CSErrNoSpace: "CS_ERR_NO_SPACE", CSErrInterrupt: "CS_ERR_INTERRUPT",
	CSErrNameNotFound: "CS_ERR_NAME_NOT_FOUND", CSErrNoResources: "CS_ERR_NO_RESOURCES", CSErrNotSupport: "CS_ERR_NOT_SUPPORTED",
	20: "CS_ERR_BAD_OPERATION", CSErrFailedOp: "CS_ERR_FAILED_OPERATION", CSErrMessage: "CS_ERR_MESSAGE_ERROR",
	23: "CS_ERR_QUEUE_FULL", 24: "CS_ERR_QUEUE_NOT_AVAILABLE", 25: "CS_ERR_BAD_FLAGS",
	CSErrTooBig: "CS_ERR_TOO_BIG", CSErrNoSections: "CS_ERR_NO_SECTIONS", 28: "CS_ERR_CONTEXT_NOT_FOUND",
	30: "CS_ERR_TOO_MANY_GROUPS", 100: "CS_ERR_SECURITY",
}

// String returns corosync's name for the code (CS_ERR_TRY_AGAIN, ...).
func (e CS) String() string {
	if n, ok := csNames[e]; ok {
		return n
	}
	return "CS_ERR(" + strconv.Itoa(int(e)) + ")"
}

// Error makes a non-OK code usable as a Go error: client libraries return it as is, so
// callers can compare with errors.Is(err, ipc.CSErrTryAgain).
func (e CS) Error() string { return "corosync: " + e.String() }

// Err returns nil for CS_OK and the code itself otherwise.
func (e CS) Err() error {
	if e == CSOk {
		return nil
	}
	return e
}
