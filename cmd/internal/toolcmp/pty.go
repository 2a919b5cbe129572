package toolcmp

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// OpenPTY opens a pseudo-terminal pair: a program given the follower as stdout sees a
// terminal (C's stdio then flushes every line) and the test reads its output from the
// leader.
func OpenPTY() (leader, follower *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("toolcmp: open /dev/ptmx: %w", err)
	}
	leader = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		leader.Close()
		return nil, nil, fmt.Errorf("toolcmp: unlockpt: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		leader.Close()
		return nil, nil, fmt.Errorf("toolcmp: ptsname: %w", err)
	}
	follower, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		leader.Close()
		return nil, nil, fmt.Errorf("toolcmp: open follower: %w", err)
	}
	return leader, follower, nil
}
