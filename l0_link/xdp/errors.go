package xdp

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrUnavailable is wrapped by every error Open returns because this host, kernel,
// driver or process cannot run an AF_XDP link (not root, no such interface, no AF_XDP in
// the kernel, the driver refuses the program, locked-memory limit, another XDP program
// already attached). A caller seeing errors.Is(err, ErrUnavailable) can open a plain UDP
// link on the same address instead; errors that would stop a UDP link as well (an invalid
// configuration, the address in use) do not wrap it.
var ErrUnavailable = errors.New("xdp: AF_XDP link unavailable")

// openError is a one-line explanation of why Open gave up.
type openError struct {
	msg         string
	cause       error
	unavailable bool
}

func (e *openError) Error() string { return e.msg }

func (e *openError) Unwrap() []error {
	if e.unavailable {
		return []error{ErrUnavailable, e.cause}
	}
	return []error{e.cause}
}

// unavailable reports that step (e.g. "cannot attach program to eth9") failed because
// of the environment; the message reads "xdp: <step>: <reason>".
func unavailable(step string, cause error) error {
	return &openError{msg: "xdp: " + step + ": " + reason(cause), cause: cause, unavailable: true}
}

// failed reports a step that failed for a reason that would stop a UDP link too.
func failed(step string, cause error) error {
	return &openError{msg: "xdp: " + step + ": " + reason(cause), cause: cause}
}

// reason turns cause into a short single line, naming the likely fix for the errnos
// people meet when setting up AF_XDP. Library messages can span lines (verifier logs), so
// only their first line is kept.
func reason(cause error) string {
	var errno unix.Errno
	if !errors.As(cause, &errno) {
		// slavc/xdp formats errnos with %v, so only their text survives.
		for _, e := range [...]unix.Errno{unix.EPERM, unix.EACCES, unix.ENOMEM, unix.ENOBUFS, unix.EAFNOSUPPORT,
			unix.ENODEV, unix.ENXIO, unix.EBUSY, unix.EEXIST, unix.EOPNOTSUPP} {
			if strings.HasSuffix(cause.Error(), e.Error()) {
				errno = e
			}
		}
	}
	switch errno {
	case unix.EPERM, unix.EACCES:
		return "operation not permitted (needs root, or CAP_NET_ADMIN, CAP_BPF and CAP_IPC_LOCK)"
	case unix.ENOMEM, unix.ENOBUFS: // ENOBUFS: UMEM registration over RLIMIT_MEMLOCK
		return "cannot lock memory (raise RLIMIT_MEMLOCK, ulimit -l, or run with CAP_IPC_LOCK)"
	case unix.EAFNOSUPPORT:
		return "the kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)"
	case unix.ENODEV, unix.ENXIO:
		return "no such interface"
	case unix.EBUSY, unix.EEXIST:
		return "busy: another XDP program or AF_XDP socket already uses it"
	case unix.EOPNOTSUPP:
		return "not supported by the driver or kernel"
	}
	msg := cause.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
