package main

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/corosync-go/corosync/cmd/internal/cserr"
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
)

func TestCSName(t *testing.T) {
	// cs_strerror's strings in Debian's libcorosync_common.so.4 (3.1.7), without the
	// trailing blanks later versions print.
	want := map[ipc.CS]string{
		0: "unknown error", 1: "success", 2: "CS_ERR_LIBRARY", 3: "CS_ERR_VERSION", 4: "CS_ERR_INIT",
		5: "CS_ERR_TIMEOUT", 6: "CS_ERR_TRY_AGAIN", 7: "CS_ERR_INVALID_PARAM", 8: "CS_ERR_NO_MEMORY",
		9: "CS_ERR_BAD_HANDLE", 10: "CS_ERR_BUSY", 11: "CS_ERR_ACCESS", 12: "CS_ERR_NOT_EXIST",
		13: "CS_ERR_NAME_TOO_LONG", 14: "CS_ERR_EXIST", 15: "CS_ERR_NO_SPACE", 16: "CS_ERR_INTERRUPT",
		17: "CS_ERR_NAME_NOT_FOUND", 18: "CS_ERR_NO_RESOURCES", 19: "CS_ERR_NOT_SUPPORTED",
		20: "CS_ERR_BAD_OPERATION", 21: "CS_ERR_FAILED_OPERATION", 22: "CS_ERR_MESSAGE_ERROR",
		23: "CS_ERR_QUEUE_FULL", 24: "CS_ERR_QUEUE_NOT_AVAILABLE", 25: "CS_ERR_BAD_FLAGS",
		26: "CS_ERR_TOO_BIG", 27: "CS_ERR_NO_SECTIONS", 28: "CS_ERR_CONTEXT_NOT_FOUND",
		29: "unknown error", 30: "CS_ERR_TOO_MANY_GROUPS", 31: "unknown error", 100: "CS_ERR_SECURITY",
		-1: "unknown error",
	}
	for cs, name := range want {
		if got := cserr.Strerror(cs); got != name {
			t.Errorf("Strerror(%d) = %q, want %q", cs, got, name)
		}
	}
}

func TestCSOf(t *testing.T) {
	cases := []struct {
		err  error
		want ipc.CS
	}{
		{ipc.CSErrNotExist, ipc.CSErrNotExist},
		{fmt.Errorf("cmap: set: %w", ipc.CSErrAccess), ipc.CSErrAccess},
		{fmt.Errorf("%w: x: %w", cmap.ErrValueTooBig, ipc.CSErrInvalid), ipc.CSErrInvalid},
		{fmt.Errorf("ipc: connect: %w", syscall.ECONNREFUSED), ipc.CSErrLibrary},
		{fmt.Errorf("ipc: refused: %w", syscall.EACCES), ipc.CSErrAccess},
		{syscall.EAGAIN, ipc.CSErrTryAgain},
		{syscall.EMSGSIZE, ipc.CSErrTooBig},
		{cmap.ErrClosed, ipc.CSErrLibrary},
	}
	for _, c := range cases {
		if got := cserr.Of(c.err); got != c.want {
			t.Errorf("Of(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestPerrorText(t *testing.T) {
	_, err := os.Open("/nonexistent/file")
	if got, want := perrorText("Can't open input file", err), "Can't open input file: No such file or directory\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for errno, want := range map[syscall.Errno]string{
		syscall.EACCES: "Permission denied", syscall.ENOTDIR: "Not a directory",
		syscall.ELOOP: "Too many levels of symbolic links", syscall.ENAMETOOLONG: "File name too long",
	} {
		if got := perrorText("p", &os.PathError{Op: "open", Path: "x", Err: errno}); got != "p: "+want+"\n" {
			t.Errorf("%v: %q", errno, got)
		}
	}
}
