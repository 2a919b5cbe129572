package cserr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"golang.org/x/sys/unix"
)

func TestOfAndStrerror(t *testing.T) {
	cases := []struct {
		err  error
		cs   ipc.CS
		text string
	}{
		{nil, ipc.CSOk, "success"},
		{fmt.Errorf("x: %w", ipc.CSErrNotExist), ipc.CSErrNotExist, "CS_ERR_NOT_EXIST"},
		{fmt.Errorf("dial: %w", unix.ECONNREFUSED), ipc.CSErrLibrary, "CS_ERR_LIBRARY"},
		{unix.EAGAIN, ipc.CSErrTryAgain, "CS_ERR_TRY_AGAIN"},
		{errors.New("other"), ipc.CSErrLibrary, "CS_ERR_LIBRARY"},
		{ipc.CS(99), 99, "unknown error"},
	}
	for _, c := range cases {
		cs := Of(c.err)
		if cs != c.cs || Strerror(cs) != c.text {
			t.Errorf("Of(%v) = %d %q, want %d %q", c.err, cs, Strerror(cs), c.cs, c.text)
		}
	}
}
