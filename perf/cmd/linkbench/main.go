// Command linkbench measures one direction of a link between two network namespaces it
// creates (and removes): a sender in namespace tx floods a receiver in namespace rx over
// a veth pair for the given time, and the receiver counts what arrived.
//
//	go run ./perf/cmd/linkbench -link udp|xdp -size BYTES -seconds S [-crypto MODE]
//
// Without -crypto it measures the bare link. With -crypto none|aes256|chacha20poly1305 it
// measures the whole l1 transport (framing, sequence and replay checks, and the cipher)
// over the same link. The last line printed is
//
//	link=KIND size=BYTES pps=N MBps=N
//
// counting datagrams (or transport packets) received per second and payload megabytes
// (10^6 bytes) per second. Needs root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	link "github.com/corosync-go/corosync/l0_link"
	"github.com/corosync-go/corosync/l0_link/netns"
	"github.com/corosync-go/corosync/l0_link/udp"
	transport "github.com/corosync-go/corosync/l1_transport"
)

var (
	txAddr = netip.MustParseAddrPort("10.99.0.1:5405")
	rxAddr = netip.MustParseAddrPort("10.99.0.2:5405")
)

type options struct {
	kind    string
	size    int
	seconds float64
	crypto  string
	noGSO   bool
	batch   int
	sender  string
}

func main() {
	var o options
	flag.StringVar(&o.kind, "link", "udp", "link kind: udp or xdp")
	flag.IntVar(&o.size, "size", 1400, "payload bytes per datagram (or per transport packet)")
	flag.Float64Var(&o.seconds, "seconds", 5, "how long to send")
	flag.StringVar(&o.crypto, "crypto", "", "measure the l1 transport with this crypto_cipher (none, aes256, chacha20poly1305); empty measures the bare link")
	flag.BoolVar(&o.noGSO, "nogso", false, "turn UDP GSO and GRO off (udp only)")
	flag.IntVar(&o.batch, "batch", 64, "datagrams per send call")
	flag.StringVar(&o.sender, "sender", "", "link kind of the sending side (default: the same as -link)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "linkbench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(o); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "linkbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if ok, why := netns.Available(); !ok {
		return errors.New(why)
	}
	if o.size <= 0 || o.size > 65000 || o.seconds <= 0 || o.seconds > 600 || o.batch <= 0 || o.batch > 1024 {
		return errors.New("size must be 1..65000, seconds 0..600, batch 1..1024")
	}
	lab := netns.NewLab()
	defer func() {
		if err := lab.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "linkbench: cleanup:", err)
		}
	}()
	for _, ns := range []string{"tx", "rx"} {
		if err := lab.AddNamespace(ns); err != nil {
			return err
		}
	}
	if err := lab.Veth("tx", "veth0", txAddr.Addr().String()+"/24", "rx", "veth0", rxAddr.Addr().String()+"/24"); err != nil {
		return err
	}
	sendOpts := o
	if o.sender != "" {
		sendOpts.kind = o.sender
	}
	sender, err := openLink(lab, "tx", sendOpts, txAddr)
	if err != nil {
		return err
	}
	receiver, err := openLink(lab, "rx", o, rxAddr)
	if err != nil {
		sender.Close()
		return err
	}
	describe(sender)
	describe(receiver)
	var pkts, bytes uint64
	var elapsed time.Duration
	if o.crypto == "" {
		pkts, bytes, elapsed, err = benchLink(sender, receiver, o)
	} else {
		pkts, bytes, elapsed, err = benchTransport(sender, receiver, o)
	}
	if err != nil {
		return err
	}
	secs := elapsed.Seconds()
	kind := o.kind
	if o.sender != "" && o.sender != o.kind {
		kind = o.sender + "->" + o.kind
	}
	if o.crypto != "" {
		kind += "+l1/" + o.crypto
	}
	fmt.Printf("link=%s size=%d pps=%.0f MBps=%.1f\n", kind, o.size, float64(pkts)/secs, float64(bytes)/secs/1e6)
	return nil
}

func openLink(lab *netns.Lab, ns string, o options, addr netip.AddrPort) (link.Link, error) {
	var l link.Link
	err := lab.Do(ns, func() error {
		var err error
		l, err = open(o, addr, "veth0")
		return err
	})
	return l, err
}

func describe(l link.Link) {
	if u, ok := l.(*udp.Link); ok {
		fmt.Printf("udp: gso=%v gro=%v\n", u.GSO(), u.GRO())
	}
	if d, ok := l.(interface{ Describe() string }); ok {
		fmt.Println(d.Describe())
	}
}

// benchLink floods raw datagrams and counts what the receiver gets while the sender runs.
func benchLink(tx, rx link.Link, o options) (pkts, bytes uint64, elapsed time.Duration, err error) {
	var got, gotBytes atomic.Uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		msgs := make([]link.Message, 256)
		for {
			n, err := rx.Receive(msgs)
			if err != nil {
				return
			}
			got.Add(uint64(n))
			var b uint64
			for _, m := range msgs[:n] {
				b += uint64(len(m.Buf))
			}
			gotBytes.Add(b)
		}
	}()
	payload := make([]byte, o.size)
	batch := make([]link.Message, o.batch)
	for i := range batch {
		batch[i] = link.Message{Buf: payload, Addr: rx.LocalAddr()}
	}
	// Warm up (ARP, offload probes), then measure a window of the flood.
	send := func(d time.Duration) error {
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			if _, err := tx.Send(batch); err != nil && !errors.Is(err, link.ErrClosed) {
				return err
			}
		}
		return nil
	}
	if err := send(200 * time.Millisecond); err != nil {
		return 0, 0, 0, err
	}
	p0, b0, t0 := got.Load(), gotBytes.Load(), time.Now()
	if err := send(time.Duration(o.seconds * float64(time.Second))); err != nil {
		return 0, 0, 0, err
	}
	p1, b1, t1 := got.Load(), gotBytes.Load(), time.Now()
	tx.Close()
	rx.Close()
	wg.Wait()
	return p1 - p0, b1 - b0, t1.Sub(t0), nil
}

// benchTransport runs the same flood through the l1 transport on both ends.
func benchTransport(tx, rx link.Link, o options) (pkts, bytes uint64, elapsed time.Duration, err error) {
	var got, gotBytes atomic.Uint64
	key := make([]byte, 256)
	for i := range key {
		key[i] = byte(i * 31)
	}
	nodes := []transport.Node{{ID: 1, Addrs: [transport.MaxLinks]netip.AddrPort{txAddr}}, {ID: 2, Addrs: [transport.MaxLinks]netip.AddrPort{rxAddr}}}
	crypto := transport.CryptoConfig{Cipher: o.crypto, Key: key}
	if o.crypto == "none" {
		crypto = transport.CryptoConfig{Cipher: "none", Hash: "none"}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	rt, err := transport.New(ctx, transport.Config{LocalNode: 2, Nodes: nodes, Crypto: crypto,
		Links: []transport.LinkSpec{{Number: 0, Link: rx}}}, func(_ transport.NodeID, p []byte) {
		got.Add(1)
		gotBytes.Add(uint64(len(p)))
	}, quiet)
	if err != nil {
		return 0, 0, 0, err
	}
	defer rt.Close()
	st, err := transport.New(ctx, transport.Config{LocalNode: 1, Nodes: nodes, Crypto: crypto,
		Links: []transport.LinkSpec{{Number: 0, Link: tx}}}, nil, quiet)
	if err != nil {
		return 0, 0, 0, err
	}
	defer st.Close()
	payload := make([]byte, o.size)
	batch := make([]transport.Packet, o.batch)
	for i := range batch {
		batch[i] = transport.Packet{To: 2, Data: payload}
	}
	send := func(d time.Duration) {
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			_ = st.Send(batch)
		}
	}
	send(200 * time.Millisecond)
	p0, b0, t0 := got.Load(), gotBytes.Load(), time.Now()
	send(time.Duration(o.seconds * float64(time.Second)))
	p1, b1, t1 := got.Load(), gotBytes.Load(), time.Now()
	return p1 - p0, b1 - b0, t1.Sub(t0), nil
}
