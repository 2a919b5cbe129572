package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/netns"
	"golang.org/x/sys/unix"
)

// TestThreeNodes joins a, b and c through a bridge in a fourth namespace and has every
// node send to every other. It checks that all datagrams arrive, that AF_XDP carries them
// once ARP has resolved, that traffic the program does not own (another port, ICMP, ARP,
// fragments) still reaches the kernel, and that Close ends a pending Receive and removes
// the program.
func TestThreeNodes(t *testing.T) {
	lab := newLab(t)
	names := []string{"a", "b", "c"}
	star(t, lab, names...)
	var nodes []*node
	var links []*Link
	for i, n := range names {
		l := openIn(t, lab, n, Config{Interface: "x" + n, Local: netip.MustParseAddrPort(fmt.Sprintf("10.77.0.%d:%d", i+1, testPort))})
		links = append(links, l)
		nodes = append(nodes, startNode(l))
	}
	watchdog(t, 15*time.Second, links...)

	// The first exchange goes largely through the kernel while ARP resolves; by the
	// second the neighbours are known and AF_XDP carries it.
	exchange(t, nodes, 0, 150)
	before := make([]uint64, len(links))
	for i, l := range links {
		before[i] = l.stats.txSlow.Load()
	}
	exchange(t, nodes, 150, 150)
	for i, l := range links {
		checkFastPath(t, names[i], l)
		if slow := l.stats.txSlow.Load() - before[i]; slow > 0 {
			t.Errorf("%s: %d datagrams of the second exchange went through the kernel", names[i], slow)
		}
	}

	t.Run("other-port-reaches-kernel", func(t *testing.T) { otherPortReachesKernel(t, lab) })
	t.Run("ping-and-arp-reach-kernel", func(t *testing.T) { pingAndARP(t, lab) })
	t.Run("fragments-take-slow-path", func(t *testing.T) { fragmentsTakeSlowPath(t, lab, nodes[0]) })

	// Close must end the pending Receive of every node with ErrClosed.
	for i, n := range nodes {
		must(t, n.l.Close())
		select {
		case err := <-n.done:
			if !errors.Is(err, link.ErrClosed) {
				t.Errorf("node %s: Receive ended with %v, want link.ErrClosed", names[i], err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("node %s: Receive still blocked 2 s after Close", names[i])
		}
		if _, err := n.l.Send([]link.Message{{Buf: []byte{1}, Addr: links[0].LocalAddr()}}); !errors.Is(err, link.ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
	}
	for i, n := range names {
		out, _ := lab.Output(n, "ip", "link", "show", "x"+n)
		if strings.Contains(out, "xdp") {
			t.Errorf("node %d: program still attached after Close: %s", i, out)
		}
	}
}

// otherPortReachesKernel sends from b to a UDP port on a that the link does not own: the
// program must pass it to a's kernel socket.
func otherPortReachesKernel(t *testing.T, lab *netns.Lab) {
	var rx, tx *net.UDPConn
	must(t, lab.Do("a", func() (err error) {
		rx, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 77, 0, 1), Port: testPort + 1})
		return err
	}))
	defer rx.Close()
	must(t, lab.Do("b", func() (err error) {
		tx, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(10, 77, 0, 1), Port: testPort + 1})
		return err
	}))
	defer tx.Close()
	buf := make([]byte, 64)
	for try := 0; try < 10; try++ {
		if _, err := tx.Write([]byte("other port")); err != nil {
			t.Fatal(err)
		}
		_ = rx.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, _, err := rx.ReadFromUDP(buf); err == nil && string(buf[:n]) == "other port" {
			return
		}
	}
	t.Fatal("a UDP datagram to another port never reached the kernel socket")
}

// pingAndARP sends an ICMP echo from b to a through a raw socket and waits for the
// reply, which a's kernel only sends if the program passed the request; then checks that
// b's kernel learnt a's MAC by ARP through the program.
func pingAndARP(t *testing.T, lab *netns.Lab) {
	var fd int
	must(t, lab.Do("b", func() (err error) {
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
		return err
	}))
	defer unix.Close(fd)
	const id = 0x7a7a
	echo := []byte{8, 0, 0, 0, id >> 8, id & 0xff, 0, 1, 'x', 'd', 'p', '!'}
	binary.BigEndian.PutUint16(echo[2:], checksum(echo))
	to := &unix.SockaddrInet4{Addr: [4]byte{10, 77, 0, 1}}
	buf := make([]byte, 1500)
	replied := false
	for try := 0; try < 10 && !replied; try++ {
		must(t, unix.Sendto(fd, echo, 0, to))
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for !replied {
			if n, _ := unix.Poll(pfd, 200); n <= 0 {
				break
			}
			n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
			if err != nil || n < 20 {
				continue
			}
			icmp := buf[int(buf[0]&0x0f)*4 : n]
			replied = len(icmp) >= 8 && icmp[0] == 0 && binary.BigEndian.Uint16(icmp[4:]) == id
		}
	}
	if !replied {
		t.Fatal("no ICMP echo reply from a: the program did not pass ICMP")
	}
	out, err := lab.Output("b", "ip", "neigh", "show", "10.77.0.1")
	must(t, err)
	mac, err := lab.Output("a", "cat", "/sys/class/net/xa/address")
	must(t, err)
	if !strings.Contains(out, strings.TrimSpace(mac)) {
		t.Fatalf("b's neighbour entry for a is %q, want lladdr %s", strings.TrimSpace(out), strings.TrimSpace(mac))
	}
}

// fragmentsTakeSlowPath sends a datagram larger than the MTU from an ordinary socket in b
// to a's link: the kernel fragments it, the program passes the fragments, a's kernel
// reassembles them and the link returns the datagram from its slow-path socket.
func fragmentsTakeSlowPath(t *testing.T, lab *netns.Lab, a *node) {
	var tx *net.UDPConn
	must(t, lab.Do("b", func() (err error) {
		tx, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(a.l.LocalAddr()))
		return err
	}))
	defer tx.Close()
	big := make([]byte, 3000)
	for i := range big {
		big[i] = byte(i % 251)
	}
	big[0] = 0xee
	for try := 0; try < 10; try++ {
		if _, err := tx.Write(big); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-a.other:
			if len(m.Buf) != len(big) || m.Buf[1] != big[1] || m.Buf[len(big)-1] != big[len(big)-1] {
				t.Fatalf("reassembled datagram: %d bytes", len(m.Buf))
			}
			if a.l.stats.rxSlow.Load() == 0 {
				t.Fatal("the datagram did not come through the slow path")
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatal("a fragmented datagram never reached the link")
}

// TestModesReopenIPv6 runs a pair of links in forced generic mode, then in automatic
// mode over IPv6 on the same interfaces, which also shows that Close releases the queue
// and the program so they can be opened again.
func TestModesReopenIPv6(t *testing.T) {
	lab := newLab(t)
	must(t, lab.AddNamespace("a"))
	must(t, lab.AddNamespace("b"))
	must(t, lab.Veth("a", "xa", "10.77.0.1/24", "b", "xb", "10.77.0.2/24"))
	must(t, lab.Exec("a", "ip", "addr", "add", "fd77::1/64", "dev", "xa", "nodad"))
	must(t, lab.Exec("b", "ip", "addr", "add", "fd77::2/64", "dev", "xb", "nodad"))
	for _, tc := range []struct {
		name, mode string
		addrA      string
		addrB      string
	}{
		{"ipv4-generic", ModeGeneric, "10.77.0.1", "10.77.0.2"},
		{"ipv4-native-reopened", ModeNative, "10.77.0.1", "10.77.0.2"},
		{"ipv6-auto", ModeAuto, "fd77::1", "fd77::2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			small := Config{Mode: tc.mode, RxFrames: 512, TxFrames: 512}
			ca, cb := small, small
			ca.Interface, ca.Local = "xa", netip.AddrPortFrom(netip.MustParseAddr(tc.addrA), testPort)
			cb.Interface, cb.Local = "xb", netip.AddrPortFrom(netip.MustParseAddr(tc.addrB), testPort)
			la, lb := openIn(t, lab, "a", ca), openIn(t, lab, "b", cb)
			if tc.mode != ModeAuto && la.Mode() != tc.mode {
				t.Fatalf("mode %s, asked for %s", la.Mode(), tc.mode)
			}
			watchdog(t, 10*time.Second, la, lb)
			na, nb := startNode(la), startNode(lb)
			exchange(t, []*node{na, nb}, 0, 64)
			exchange(t, []*node{na, nb}, 64, 64)
			checkFastPath(t, "a", la)
			checkFastPath(t, "b", lb)
			must(t, la.Close())
			must(t, lb.Close())
			<-na.done
			<-nb.done
		})
	}
}

// TestMultiQueue gives a's veth four RX queues: the link must open a socket on each, and
// datagrams from many flows, which veth spreads over the queues by flow hash, must all
// arrive whichever queue they land on.
func TestMultiQueue(t *testing.T) {
	lab := newLab(t)
	must(t, lab.AddNamespace("a"))
	must(t, lab.AddNamespace("b"))
	const q = "4"
	must(t, lab.Exec("a", "ip", "link", "add", "xa", "numtxqueues", q, "numrxqueues", q, "type", "veth",
		"peer", "name", "xb", "numtxqueues", q, "numrxqueues", q, "netns", lab.Name("b")))
	for _, side := range []struct{ ns, dev, addr string }{{"a", "xa", "10.77.0.1/24"}, {"b", "xb", "10.77.0.2/24"}} {
		must(t, lab.Exec(side.ns, "ip", "addr", "add", side.addr, "dev", side.dev, "nodad"))
		must(t, lab.Exec(side.ns, "ip", "link", "set", side.dev, "up"))
	}
	la := openIn(t, lab, "a", Config{Interface: "xa", Local: netip.MustParseAddrPort("10.77.0.1:5405"), RxFrames: 256, TxFrames: 256})
	if la.Queues() != 4 {
		t.Fatalf("%d queues, want 4", la.Queues())
	}
	watchdog(t, 10*time.Second, la)
	na := startNode(la)

	const flows = 32
	conns := make([]*net.UDPConn, flows)
	must(t, lab.Do("b", func() error {
		for i := range conns {
			c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(la.LocalAddr()))
			if err != nil {
				return err
			}
			conns[i] = c
		}
		return nil
	}))
	want := make(map[string]bool)
	for i, c := range conns {
		defer c.Close()
		want[fmt.Sprintf("flow %d", i)] = true
	}
	deadline := time.After(5 * time.Second)
	for len(want) > 0 {
		for i, c := range conns {
			if want[fmt.Sprintf("flow %d", i)] {
				_, _ = c.Write([]byte(fmt.Sprintf("flow %d", i)))
			}
		}
		for wait := time.After(100 * time.Millisecond); ; {
			select {
			case m := <-na.other:
				delete(want, string(m.Buf))
				continue
			case <-wait:
			case <-deadline:
				t.Fatalf("%d flows never arrived", len(want))
			}
			break
		}
	}
	must(t, la.Close())
	<-na.done // after this the receive counters are stable
	var perQueue []uint64
	used := 0
	for _, s := range la.socks {
		perQueue = append(perQueue, s.received)
		if s.received > 0 {
			used++
		}
	}
	t.Logf("frames per RX queue: %v", perQueue)
	if used < 2 {
		t.Errorf("%d flows all arrived on one queue: %v", flows, perQueue)
	}
}
