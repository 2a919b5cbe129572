package xdp

import (
	"errors"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// attachment is the program as attached to one interface.
type attachment struct {
	ns      *namespace
	ifindex int
	progID  ebpf.ProgramID
	mode    string
	flags   int // the mode flag it was attached with, needed again to detach
}

// attach puts prog on the interface through netlink: in the driver first (unless want
// says generic), in generic mode when the driver refuses. UPDATE_IF_NOEXIST keeps it
// from replacing someone else's program; that refusal is final, not a reason to try the
// other mode.
func attach(ns *namespace, ifindex int, prog *ebpf.Program, want string) (*attachment, error) {
	tries := []struct {
		mode  string
		flags int
	}{{ModeNative, unix.XDP_FLAGS_DRV_MODE}, {ModeGeneric, unix.XDP_FLAGS_SKB_MODE}}
	info, err := prog.Info()
	if err != nil {
		return nil, err
	}
	id, _ := info.ID()
	var errs []error
	for _, t := range tries {
		if want != ModeAuto && want != t.mode {
			continue
		}
		err := ns.do(func() error {
			return netlink.LinkSetXdpFdWithFlags(device(ifindex), prog.FD(), t.flags|unix.XDP_FLAGS_UPDATE_IF_NOEXIST)
		})
		if err == nil {
			return &attachment{ns: ns, ifindex: ifindex, progID: id, mode: t.mode, flags: t.flags}, nil
		}
		errs = append(errs, err)
		if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EEXIST) {
			break
		}
	}
	// The last refusal explains best: generic mode works on every driver, so when it is
	// refused too the reason is not the driver.
	return nil, errs[len(errs)-1]
}

// detach removes the program, unless it is no longer ours (someone removed it and
// attached another meanwhile).
func (a *attachment) detach(nl *netlink.Handle) error {
	l, err := nl.LinkByIndex(a.ifindex)
	if err != nil {
		var gone netlink.LinkNotFoundError
		if errors.As(err, &gone) {
			return nil // the program went with the interface
		}
		return err
	}
	if x := l.Attrs().Xdp; x == nil || !x.Attached || x.ProgId != uint32(a.progID) {
		return nil
	}
	return a.ns.do(func() error {
		return netlink.LinkSetXdpFdWithFlags(device(a.ifindex), -1, a.flags)
	})
}

// device names an interface by index for the netlink calls.
func device(ifindex int) netlink.Link {
	return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
}
