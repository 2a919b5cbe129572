package xdp

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	sxdp "github.com/slavc/xdp"
	"golang.org/x/sys/unix"
)

// completionRingRx is the completion ring size of a receive-only socket: the kernel wants
// one for every UMEM, but nothing is ever completed on it.
const completionRingRx = 64

// bindRetry is how long a busy queue is retried before Open gives up.
const bindRetry = 500 * time.Millisecond

// queueSocket is the AF_XDP socket of one RX queue with its own UMEM. Frames
// [0, RxFrames) of the UMEM receive; on the transmitting socket frames from RxFrames on
// transmit (that split is how slavc/xdp's GetDescs hands them out).
//
// The receive side (fill, RX ring, their frames) is touched only by Link.Receive and the
// transmit side (TX, completion ring, their frames) only by Link.Send, and slavc/xdp keeps
// the two sides' state apart, so Send and Receive can run at once without a lock. Poll
// mixes both sides, so this package polls the descriptors itself.
type queueSocket struct {
	queue int
	sock  *sxdp.Socket
	inode uint64 // of the socket, to find its ring mappings in /proc/self/maps
	// held counts RX frames handed up by the last Receive, which go back to the fill ring
	// at the start of the next one.
	held int
	// received counts frames taken off this queue's RX ring (Receive's, for diagnostics
	// and tests of queue spreading).
	received uint64
}

// openQueueSocket creates and binds the socket for queue and hands every RX frame to the
// kernel. Bind flags are 0 so the kernel picks zero-copy where the driver supports it.
func openQueueSocket(ifindex, queue int, cfg *Config, tx bool) (*queueSocket, error) {
	opts := sxdp.SocketOptions{
		NumFrames:              cfg.RxFrames,
		FrameSize:              cfg.FrameBytes,
		FillRingNumDescs:       cfg.RxFrames,
		RxRingNumDescs:         cfg.RxFrames,
		CompletionRingNumDescs: completionRingRx,
	}
	if tx {
		opts.NumFrames += cfg.TxFrames
		opts.TxRingNumDescs = cfg.TxFrames
		opts.CompletionRingNumDescs = cfg.TxFrames
	}
	// The kernel releases a closed AF_XDP socket's hold on its queue in deferred work, so
	// right after a Close (of this link reopening, say) the queue can look busy for some
	// milliseconds. A socket of another process holds it for good; after bindRetry the
	// queue is reported busy.
	var s *sxdp.Socket
	var err error
	for deadline := time.Now().Add(bindRetry); ; time.Sleep(5 * time.Millisecond) {
		s, err = newSocket(ifindex, queue, &opts)
		if err == nil || !strings.HasSuffix(err.Error(), unix.EBUSY.Error()) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	q := &queueSocket{queue: queue, sock: s}
	var st unix.Stat_t
	if err := unix.Fstat(s.FD(), &st); err != nil {
		q.close()
		return nil, err
	}
	q.inode = st.Ino
	q.refill()
	return q, nil
}

// refill gives free RX frames back to the kernel.
func (q *queueSocket) refill() {
	q.sock.Fill(q.sock.GetDescs(q.sock.NumFreeFillSlots(), true))
	q.held = 0
}

// zeroCopy asks the kernel whether the socket ended up in zero-copy mode.
func (q *queueSocket) zeroCopy() bool {
	flags, err := unix.GetsockoptInt(q.sock.FD(), unix.SOL_XDP, unix.XDP_OPTIONS)
	return err == nil && flags&unix.XDP_OPTIONS_ZEROCOPY != 0
}

// kernelStats reads the kernel's counters of the socket (XDP_STATISTICS) directly rather
// than through slavc/xdp's Stats, which also reads ring indexes that Send and Receive own.
func (q *queueSocket) kernelStats() (unix.XDPStatistics, error) {
	var st unix.XDPStatistics
	size := uint32(unsafe.Sizeof(st))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(q.sock.FD()), unix.SOL_XDP, unix.XDP_STATISTICS,
		uintptr(unsafe.Pointer(&st)), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return st, errno
	}
	return st, nil
}

// transmit puts descs on the TX ring and kicks the kernel. slavc/xdp panics on a sendto
// error it does not expect (ENETDOWN when the interface goes down, ENXIO when it goes
// away); the ring is already updated by then, so the panic is turned into an error.
func (q *queueSocket) transmit(descs []sxdp.Desc) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("AF_XDP transmit: %v", r)
			// The panic message ends in "errno=<n>"; keep the errno for errors.Is.
			msg := fmt.Sprint(r)
			if i := strings.LastIndex(msg, "errno="); i >= 0 {
				if n, perr := strconv.Atoi(msg[i+len("errno="):]); perr == nil {
					err = fmt.Errorf("AF_XDP transmit: %w", unix.Errno(n))
				}
			}
		}
	}()
	return q.sock.Transmit(descs), nil
}

// txPending is how many descriptors the kernel has not yet taken off the TX ring.
func (q *queueSocket) txPending(ringSize int) int {
	return ringSize - q.sock.NumFreeTxSlots()
}

// close closes the socket and frees its UMEM. slavc/xdp's Close leaves the four ring
// mappings in place, and each holds a reference to the socket: the kernel would keep it
// bound to the queue (a later bind fails with EBUSY) and its UMEM pinned until the process
// exits. So the mappings of this socket are found in /proc/self/maps and unmapped.
func (q *queueSocket) close() error {
	err := q.sock.Close()
	if uerr := unmapSocket(q.inode); err == nil {
		err = uerr
	}
	return err
}

// newSocket is slavc/xdp's NewSocket, cleaning up after it when it fails: its error path
// closes the descriptor but leaves the ring mappings (see close), so the AF_XDP ring
// mappings that appeared during the call are unmapped.
func newSocket(ifindex, queue int, opts *sxdp.SocketOptions) (*sxdp.Socket, error) {
	before, berr := ringMappings()
	s, err := sxdp.NewSocket(ifindex, queue, opts)
	if err != nil && berr == nil {
		after, _ := ringMappings()
		for inode := range after {
			if _, old := before[inode]; !old {
				_ = unmapSocket(inode)
			}
		}
	}
	return s, err
}

// mapping is the address range of one line of /proc/self/maps.
type mapping struct{ start, end uint64 }

// ringMappings returns the AF_XDP ring mappings of this process by socket inode: socket
// mappings at one of the ring offsets.
func ringMappings() (map[uint64][]mapping, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := make(map[uint64][]mapping)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || !strings.HasPrefix(fields[5], "socket:[") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseUint(fields[2], 16, 64)
		inode, err4 := strconv.ParseUint(fields[4], 10, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil || err4 != nil || end <= start {
			continue
		}
		switch off {
		case unix.XDP_PGOFF_RX_RING, unix.XDP_PGOFF_TX_RING, unix.XDP_UMEM_PGOFF_FILL_RING, unix.XDP_UMEM_PGOFF_COMPLETION_RING:
			out[inode] = append(out[inode], mapping{start, end})
		}
	}
	return out, sc.Err()
}

// unmapSocket unmaps every ring mapping of the socket with the given inode.
func unmapSocket(inode uint64) error {
	all, err := ringMappings()
	if err != nil {
		return err
	}
	for _, m := range all[inode] {
		if _, _, errno := unix.Syscall(unix.SYS_MUNMAP, uintptr(m.start), uintptr(m.end-m.start), 0); errno != 0 {
			return fmt.Errorf("unmap AF_XDP ring: %w", errno)
		}
	}
	return nil
}
