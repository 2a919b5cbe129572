package wdsvc

// Info is a watchdog's struct watchdog_info (WDIOC_GETSUPPORT).
type Info struct {
	Options  uint32
	Firmware uint32
	Identity string
}

// OptionSetTimeout is WDIOF_SETTIMEOUT: the device's timeout can be set.
const OptionSetTimeout = 0x0080

// Device is an open watchdog device: the ioctls and the write corosync uses.
type Device interface {
	// Info is WDIOC_GETSUPPORT.
	Info() (Info, error)
	// Timeout is WDIOC_GETTIMEOUT, in seconds.
	Timeout() (uint32, error)
	// SetTimeout is WDIOC_SETTIMEOUT: it returns the timeout the driver chose.
	SetTimeout(sec uint32) (uint32, error)
	// Keepalive is WDIOC_KEEPALIVE, the tickle.
	Keepalive() error
	// Enable is WDIOC_SETOPTIONS with WDIOS_ENABLECARD.
	Enable() error
	// MagicClose writes 'V' and closes the device, which stops a driver with "magic
	// close" from rebooting the machine.
	MagicClose() error
	// Fd is the file descriptor, for log lines.
	Fd() int
}

// Devices opens watchdog devices. The engine uses it only when resources.watchdog_device
// names a device (neither absent, empty nor "off"), as corosync 3.1.7 does.
type Devices interface {
	// Writable is access(path, W_OK) == 0.
	Writable(path string) bool
	// Open opens path write-only.
	Open(path string) (Device, error)
}

// Host carries out the recoveries that stop the machine.
type Host interface {
	// Reboot is reboot(RB_AUTOBOOT) (recovery "reboot").
	Reboot() error
	// PowerOff is reboot(RB_POWER_OFF) (recovery "shutdown").
	PowerOff() error
}
