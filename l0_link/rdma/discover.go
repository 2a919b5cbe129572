package rdma

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"

	"github.com/Mellanox/rdmamap"
	link "github.com/corosync-go/corosync/l0_link"
)

// ErrNoDevice means there is no RDMA device to use: none at all, or none behind the
// network interface asked for.
var ErrNoDevice = errors.New("rdma: no RDMA device found")

// noDeviceError is the one line an operator sees when the machine has no RDMA hardware,
// saying where we looked and what to configure instead.
func noDeviceError() error {
	return fmt.Errorf("%w (looked in %s); use knet_transport: udp", ErrNoDevice, rdmamap.RdmaClassDir)
}

// Device is an RDMA device as sysfs shows it.
type Device struct {
	// Name is the kernel name, e.g. "mlx5_0"; Config.Device takes it.
	Name string
	// Ports are the device's port numbers (usually just 1).
	Ports []uint8
	// CharDevices are the /dev/infiniband nodes that belong to the device, which a
	// container needs mapped in to use it.
	CharDevices []string
}

// Discover lists the RDMA devices of this machine, sorted by name. A machine without any
// (no /sys/class/infiniband) gives an empty list and no error.
func Discover() ([]Device, error) {
	if _, err := os.Stat(rdmamap.RdmaClassDir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("rdma: %w", err)
	}
	names := rdmamap.GetRdmaDeviceList()
	slices.Sort(names)
	devs := make([]Device, 0, len(names))
	for _, name := range names {
		devs = append(devs, describe(name))
	}
	return devs, nil
}

// DeviceForNetdev finds the RDMA device behind a network interface (the RoCE function of
// an Ethernet NIC, or the HCA under an IPoIB interface). An interface without one gives an
// error wrapping ErrNoDevice; an interface that does not exist gives a plain error.
func DeviceForNetdev(netdev string) (Device, error) {
	if _, err := net.InterfaceByName(netdev); err != nil {
		return Device{}, fmt.Errorf("rdma: netdev %q: %w", netdev, err)
	}
	name, err := rdmamap.GetRdmaDeviceForNetdevice(netdev)
	if err != nil || name == "" {
		// rdmamap answers "unknown device type" for loopback or bridges and "not found"
		// for plain NICs; to the caller both mean there is no RDMA here.
		return Device{}, fmt.Errorf("%w behind netdev %q", ErrNoDevice, netdev)
	}
	return describe(name), nil
}

// describe fills in what sysfs says about one device. Port directories that are not
// numbers are skipped rather than failing discovery: sysfs is not ours to validate.
func describe(name string) Device {
	d := Device{Name: name, CharDevices: rdmamap.GetRdmaCharDevices(name)}
	for _, p := range rdmamap.GetPorts(name) {
		if n, err := strconv.ParseUint(p, 10, 8); err == nil {
			d.Ports = append(d.Ports, uint8(n))
		}
	}
	slices.Sort(d.Ports)
	return d
}

// chooseDevice picks the device Open uses when cfg.Device is empty: the one behind
// cfg.Netdev, else the one behind the interface holding Local's IP, else the only one.
// Guessing among several would risk sending on the wrong fabric, so that is an error.
func chooseDevice(cfg Config, devs []Device) (string, error) {
	if cfg.Device != "" {
		return cfg.Device, nil
	}
	netdev := cfg.Netdev
	if netdev == "" {
		netdev = interfaceWith(cfg.Local.Addr())
	}
	if netdev != "" {
		d, err := DeviceForNetdev(netdev)
		if err == nil {
			return d.Name, nil
		}
		if cfg.Netdev != "" {
			return "", err
		}
	}
	if len(devs) == 1 {
		return devs[0].Name, nil
	}
	return "", fmt.Errorf("rdma: %d RDMA devices and none behind the interface of %s; configure the device or netdev",
		len(devs), cfg.Local.Addr())
}

// interfaceWith names the network interface that has address a, or returns "".
func interfaceWith(a netip.Addr) string {
	ifc, err := link.InterfaceWith(peerKey(a))
	if err != nil {
		return ""
	}
	return ifc.Name
}
