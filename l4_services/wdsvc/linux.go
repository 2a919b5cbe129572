package wdsvc

import (
	"bytes"
	"os"

	"golang.org/x/sys/unix"
)

// LinuxDevices opens real watchdog devices (/dev/watchdog and the like). Opening one
// starts it: the machine reboots unless it is tickled or magically closed. Never give it a
// real device in tests.
type LinuxDevices struct{}

// Writable implements Devices.
func (LinuxDevices) Writable(path string) bool { return unix.Access(path, unix.W_OK) == nil }

// Open implements Devices.
func (LinuxDevices) Open(path string) (Device, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	return &linuxDevice{f: f}, nil
}

type linuxDevice struct{ f *os.File }

func (d *linuxDevice) fd() int { return int(d.f.Fd()) }

// Fd implements Device.
func (d *linuxDevice) Fd() int { return d.fd() }

// Info implements Device.
func (d *linuxDevice) Info() (Info, error) {
	wi, err := unix.IoctlGetWatchdogInfo(d.fd())
	if err != nil {
		return Info{}, err
	}
	id := wi.Identity[:]
	if i := bytes.IndexByte(id, 0); i >= 0 {
		id = id[:i]
	}
	return Info{Options: wi.Options, Firmware: wi.Version, Identity: string(id)}, nil
}

// Timeout implements Device.
func (d *linuxDevice) Timeout() (uint32, error) {
	v, err := unix.IoctlGetUint32(d.fd(), unix.WDIOC_GETTIMEOUT)
	return v, err
}

// SetTimeout implements Device. The driver writes the timeout it chose back into the
// argument; corosync reads it again with WDIOC_GETTIMEOUT, and so does the engine.
func (d *linuxDevice) SetTimeout(sec uint32) (uint32, error) {
	if err := unix.IoctlSetPointerInt(d.fd(), unix.WDIOC_SETTIMEOUT, int(sec)); err != nil {
		return 0, err
	}
	return d.Timeout()
}

// Keepalive implements Device.
func (d *linuxDevice) Keepalive() error { return unix.IoctlWatchdogKeepalive(d.fd()) }

// Enable implements Device.
func (d *linuxDevice) Enable() error {
	return unix.IoctlSetPointerInt(d.fd(), unix.WDIOC_SETOPTIONS, unix.WDIOS_ENABLECARD)
}

// MagicClose implements Device.
func (d *linuxDevice) MagicClose() error {
	_, werr := d.f.Write([]byte{'V'})
	cerr := d.f.Close()
	if werr != nil {
		return werr
	}
	return cerr
}

// SystemHost stops the machine with reboot(2), as corosync's recoveries do. It needs
// CAP_SYS_BOOT; without it the calls fail and the engine goes on, as corosync does.
type SystemHost struct{}

// Reboot implements Host.
func (SystemHost) Reboot() error { return unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART) }

// PowerOff implements Host.
func (SystemHost) PowerOff() error { return unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF) }
