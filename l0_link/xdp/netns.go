package xdp

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// namespace is the network namespace Open ran in. Interface indexes and the package-level
// netlink calls of vishvananda/netlink resolve in the namespace of the calling thread, and
// Close may run on any thread, so detaching the program goes through here: done elsewhere,
// it could hit an unrelated interface that happens to share the index.
type namespace struct {
	f *os.File
}

func currentNamespace() (*namespace, error) {
	f, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, err
	}
	return &namespace{f: f}, nil
}

// do runs fn on a thread inside the namespace.
func (n *namespace) do(fn func() error) error {
	runtime.LockOSThread()
	here, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer here.Close()
	if sameFile(here, n.f) {
		defer runtime.UnlockOSThread()
		return fn()
	}
	if err := unix.Setns(int(n.f.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter network namespace: %w", err)
	}
	ferr := fn()
	if err := unix.Setns(int(here.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: the runtime retires it when this goroutine ends rather
		// than reuse a thread stuck in the wrong namespace.
		return errors.Join(ferr, fmt.Errorf("return from network namespace: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

func (n *namespace) close() error { return n.f.Close() }

// sameFile reports whether both files are the same inode (namespaces compare that way).
func sameFile(a, b *os.File) bool {
	var sa, sb unix.Stat_t
	if unix.Fstat(int(a.Fd()), &sa) != nil || unix.Fstat(int(b.Fd()), &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
