// Package netns creates throw-away network namespaces joined by veth pairs, for tests and
// benchmarks that need real kernel networking without touching the host's own.
//
// Everything it creates carries a unique prefix and is removed by Lab.Close, so a test that
// fails half-way leaves nothing behind.
package netns

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Available reports whether namespaces can be created here, and if not, why in one line.
func Available() (bool, string) {
	if os.Geteuid() != 0 {
		return false, "needs root to create network namespaces (run as root, as CI does)"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return false, "needs the ip command (Debian package iproute2)"
	}
	return true, ""
}

// Lab is a set of namespaces and links created together and removed together.
type Lab struct {
	prefix     string
	namespaces []string
}

// NewLab returns an empty lab whose names start with a short random prefix.
func NewLab() *Lab {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return &Lab{prefix: "cg" + hex.EncodeToString(b[:])}
}

// Name returns the full namespace name for a short one ("a" → "cg1a2b3c-a").
func (l *Lab) Name(short string) string { return l.prefix + "-" + short }

// AddNamespace creates namespace short with its loopback up.
func (l *Lab) AddNamespace(short string) error {
	name := l.Name(short)
	if err := run("ip", "netns", "add", name); err != nil {
		return err
	}
	l.namespaces = append(l.namespaces, name)
	return l.Exec(short, "ip", "link", "set", "lo", "up")
}

// Veth joins namespaces a and b with a veth pair named ifA (in a) and ifB (in b), gives
// them the addresses (CIDR notation, empty for none) and brings both up.
func (l *Lab) Veth(a, ifA, addrA, b, ifB, addrB string) error {
	if err := run("ip", "link", "add", ifA, "netns", l.Name(a), "type", "veth", "peer", "name", ifB, "netns", l.Name(b)); err != nil {
		return err
	}
	for _, side := range []struct{ ns, ifc, addr string }{{a, ifA, addrA}, {b, ifB, addrB}} {
		if side.addr != "" {
			if err := l.Exec(side.ns, "ip", "addr", "add", side.addr, "dev", side.ifc, "nodad"); err != nil {
				return err
			}
		}
		if err := l.Exec(side.ns, "ip", "link", "set", side.ifc, "up"); err != nil {
			return err
		}
	}
	return nil
}

// Bridge creates bridge br in namespace ns, up, with the given ports enslaved.
func (l *Lab) Bridge(ns, br string, ports ...string) error {
	if err := l.Exec(ns, "ip", "link", "add", br, "type", "bridge"); err != nil {
		return err
	}
	for _, p := range ports {
		if err := l.Exec(ns, "ip", "link", "set", p, "master", br); err != nil {
			return err
		}
	}
	return l.Exec(ns, "ip", "link", "set", br, "up")
}

// Exec runs a command inside namespace short and returns an error with its output if it
// fails.
func (l *Lab) Exec(short string, args ...string) error {
	return run(append([]string{"ip", "netns", "exec", l.Name(short)}, args...)...)
}

// Output runs a command inside namespace short and returns its standard output.
func (l *Lab) Output(short string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.Name(short)}, args...)...)
	out, err := cmd.Output()
	return string(out), err
}

// Do runs f on an OS thread switched into namespace short, so that sockets and netlink
// handles f creates belong to that namespace. They stay there after Do returns.
func (l *Lab) Do(short string, f func() error) error {
	return Do(l.Name(short), f)
}

// Close deletes every namespace of the lab (their veths and bridges go with them).
func (l *Lab) Close() error {
	var errs []error
	for i := len(l.namespaces) - 1; i >= 0; i-- {
		if err := run("ip", "netns", "del", l.namespaces[i]); err != nil {
			errs = append(errs, err)
		}
	}
	l.namespaces = nil
	return errors.Join(errs...)
}

// Do runs f on an OS thread switched into the named namespace (as listed by ip netns).
func Do(name string, f func() error) error {
	target, err := os.Open("/run/netns/" + name)
	if err != nil {
		return fmt.Errorf("netns: open %s: %w", name, err)
	}
	defer target.Close()
	runtime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: open own namespace: %w", err)
	}
	defer self.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: enter %s: %w", name, err)
	}
	ferr := f()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is in the wrong namespace: keep it locked so the runtime retires it
		// when this goroutine ends instead of reusing it.
		return errors.Join(ferr, fmt.Errorf("netns: return from %s: %w", name, err))
	}
	runtime.UnlockOSThread()
	return ferr
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
