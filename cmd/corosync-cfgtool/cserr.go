package main

import (
	"github.com/corosync-go/corosync/cmd/internal/cserr"
	"github.com/corosync-go/corosync/ipc"
)

// csStrerror renders a code as libcorosync_common's cs_strerror does.
func csStrerror(cs ipc.CS) string { return cserr.Strerror(cs) }

// errCS returns the cs_error_t the C libraries would have reported for err (see
// cserr.Of).
func errCS(err error) ipc.CS { return cserr.Of(err) }
