package rdma

import (
	"errors"
	"net/netip"
	"os"
	"testing"

	"github.com/Mellanox/rdmamap"
)

// TestNoDeviceOnThisMachine is about machines without RDMA hardware, like CI: discovery
// finds nothing and Open says so in one line that names the way out.
func TestNoDeviceOnThisMachine(t *testing.T) {
	if entries, err := os.ReadDir(rdmamap.RdmaClassDir); err == nil && len(entries) > 0 {
		t.Skipf("this machine has %d RDMA devices in %s", len(entries), rdmamap.RdmaClassDir)
	}
	devs, err := Discover()
	if err != nil || len(devs) != 0 {
		t.Fatalf("Discover = %v, %v; want no devices and no error", devs, err)
	}
	l, err := Open(Config{Local: netip.MustParseAddrPort("10.0.0.1:5405")})
	if l != nil {
		t.Fatal("Open returned a link without a device")
	}
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Open error %v does not wrap ErrNoDevice", err)
	}
	const want = "rdma: no RDMA device found (looked in /sys/class/infiniband); use knet_transport: udp"
	if err.Error() != want {
		t.Fatalf("Open error\n%q, want\n%q", err, want)
	}
}

func TestDeviceForNetdev(t *testing.T) {
	// Loopback never has an RDMA device, whatever the machine.
	if _, err := DeviceForNetdev("lo"); !errors.Is(err, ErrNoDevice) {
		t.Errorf("DeviceForNetdev(lo) error %v, want ErrNoDevice", err)
	}
	_, err := DeviceForNetdev("nosuchif0")
	if err == nil || errors.Is(err, ErrNoDevice) {
		t.Errorf("DeviceForNetdev(nosuchif0) error %v, want a missing-interface error", err)
	}
}
