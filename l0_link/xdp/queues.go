package xdp

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ethtoolChannels is struct ethtool_channels from include/uapi/linux/ethtool.h.
type ethtoolChannels struct {
	cmd                                         uint32
	maxRx, maxTx, maxOther, maxCombined         uint32
	rxCount, txCount, otherCount, combinedCount uint32
}

// ifreqPtr is struct ifreq carrying a pointer, as SIOCETHTOOL wants. The pointer field is
// typed so the garbage collector sees it.
type ifreqPtr struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(unsafe.Pointer(nil))]byte
}

// rxQueues returns how many RX queues ifname has, that is how many AF_XDP sockets it takes
// to see all of its traffic. sockFD is any socket in the interface's namespace.
//
// The ethtool channel counts come first because they answer for the namespace of sockFD;
// /sys/class/net describes the namespace sysfs was mounted in, which for a process that
// entered a namespace without remounting (as tests do) is another one. sysfs is used when
// ethtool has no answer and its entry has our interface index; failing both, one queue.
func rxQueues(sockFD int, ifname string, ifindex int) int {
	if n := ethtoolRxQueues(sockFD, ifname); n > 0 {
		return n
	}
	if n := sysfsRxQueues(ifname, ifindex); n > 0 {
		return n
	}
	return 1
}

func ethtoolRxQueues(sockFD int, ifname string) int {
	ch := &ethtoolChannels{cmd: unix.ETHTOOL_GCHANNELS}
	var req ifreqPtr
	copy(req.name[:unix.IFNAMSIZ-1], ifname)
	req.data = unsafe.Pointer(ch)
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(sockFD), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&req)))
	if errno != 0 {
		return 0
	}
	// Each combined channel and each RX-only channel has one RX queue.
	return int(ch.rxCount + ch.combinedCount)
}

func sysfsRxQueues(ifname string, ifindex int) int {
	dir := filepath.Join("/sys/class/net", ifname)
	idx, err := os.ReadFile(filepath.Join(dir, "ifindex"))
	if err != nil {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(idx))); err != nil || n != ifindex {
		return 0
	}
	queues, _ := filepath.Glob(filepath.Join(dir, "queues", "rx-*"))
	return len(queues)
}
