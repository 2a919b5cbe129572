package xdp

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenNoSuchInterface is the XDP-unavailable case a caller falls back from. It only
// asks netlink about a name that does not exist, so it runs anywhere, root or not.
func TestOpenNoSuchInterface(t *testing.T) {
	l, err := Open(Config{Interface: "xdpnone0", Local: netip.MustParseAddrPort("10.77.0.1:5405")})
	if err == nil {
		l.Close()
		t.Fatal("Open succeeded on an interface that does not exist")
	}
	const want = "xdp: cannot attach program to xdpnone0: no such interface"
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatal("error does not wrap ErrUnavailable, so a caller would not fall back")
	}
}

func TestOpenInvalidConfigIsNotUnavailable(t *testing.T) {
	for _, cfg := range []Config{
		{Local: netip.MustParseAddrPort("10.77.0.1:5405")},
		{Interface: "eth0", Local: netip.MustParseAddrPort("10.77.0.1:0")},
		{Interface: "eth0", Local: netip.MustParseAddrPort("0.0.0.0:5405")},
		{Interface: "eth0", Local: netip.MustParseAddrPort("10.77.0.1:5405"), RxFrames: 1000},
		{Interface: "eth0", Local: netip.MustParseAddrPort("10.77.0.1:5405"), FrameBytes: 1024},
		{Interface: "eth0", Local: netip.MustParseAddrPort("10.77.0.1:5405"), Mode: "hardware"},
	} {
		_, err := Open(cfg)
		if err == nil || errors.Is(err, ErrUnavailable) || !strings.HasPrefix(err.Error(), "xdp: invalid configuration: ") {
			t.Errorf("%+v: got %v, want an invalid-configuration error", cfg, err)
		}
	}
}

func TestErrorsAreOneClearLine(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{unavailable("cannot load XDP program", fmt.Errorf("load: %w", unix.EPERM)),
			"xdp: cannot load XDP program: operation not permitted (needs root, or CAP_NET_ADMIN, CAP_BPF and CAP_IPC_LOCK)"},
		{unavailable("cannot open AF_XDP socket on eth0 queue 0", errors.New("syscall.Socket failed: address family not supported by protocol")),
			"xdp: cannot open AF_XDP socket on eth0 queue 0: the kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)"},
		{unavailable("cannot open AF_XDP socket on eth0 queue 0", errors.New("unix.SetsockoptUint64 XDP_UMEM_REG failed: no buffer space available")),
			"xdp: cannot open AF_XDP socket on eth0 queue 0: cannot lock memory (raise RLIMIT_MEMLOCK, ulimit -l, or run with CAP_IPC_LOCK)"},
		{unavailable("cannot load XDP program", errors.New("invalid argument\nverifier log line 1\nline 2")),
			"xdp: cannot load XDP program: invalid argument"},
	}
	for _, c := range cases {
		if c.err.Error() != c.want {
			t.Errorf("got %q, want %q", c.err, c.want)
		}
		if !errors.Is(c.err, ErrUnavailable) {
			t.Errorf("%q does not wrap ErrUnavailable", c.err)
		}
	}
	if err := unavailable("x", fmt.Errorf("y: %w", unix.EPERM)); !errors.Is(err, unix.EPERM) {
		t.Error("the cause is not kept for errors.Is")
	}
}
