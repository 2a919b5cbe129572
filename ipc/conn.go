package ipc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// controlBytes is socket mode's shared control block: {sent, flow_control} int32 pairs
// for the request, response and event channels.
const controlBytes = 24

// Control block offsets.
const (
	ctlRequestSent  = 0
	ctlRequestFlow  = 4
	ctlResponseSent = 8
	ctlEventSent    = 16
)

// eventConnectRetries and eventConnectPause mirror libqb: the client binds its event
// socket only after the handshake, so the first event may have to wait for it.
const (
	eventConnectRetries = 10
	eventConnectPause   = 100 * time.Millisecond
)

// Conn is one client connection (socket transport).
type Conn struct {
	s     *Server
	svc   Service
	creds Creds

	setup       *net.UnixConn
	dir         string
	controlPath string
	base        string
	ctlMu       sync.RWMutex // Lock only to unmap control
	control     []byte
	reqSock     *net.UnixConn
	evSock      *net.UnixConn
	respAddr    *net.UnixAddr
	evAddr      *net.UnixAddr
	maxBytes    uint32

	respMu sync.Mutex
	events chan []byte

	closeOnce sync.Once
	done      chan struct{}

	// State is the service's own per-connection data.
	State any
}

// Creds returns the client's credentials.
func (c *Conn) Creds() Creds { return c.creds }

// MaxMessageBytes is the negotiated largest message.
func (c *Conn) MaxMessageBytes() int { return int(c.maxBytes) }

func (s *Server) newSocketConn(uc *net.UnixConn, svc Service, creds Creds, maxBytes uint32) (*Conn, error) {
	setupFD := 0
	if raw, err := uc.SyscallConn(); err == nil {
		raw.Control(func(fd uintptr) { setupFD = int(fd) })
	}
	dir, err := s.connDir(creds, setupFD)
	if err != nil {
		return nil, err
	}
	c := &Conn{s: s, svc: svc, creds: creds, setup: uc, dir: dir, maxBytes: maxBytes,
		events: make(chan []byte, s.cfg.EventQueueMessages), done: make(chan struct{})}
	desc := dir + "/qb"
	c.controlPath = desc + "-control-" + svc.Name()
	c.base = desc + "-" + svc.Name()
	fail := func(err error) (*Conn, error) {
		c.cleanup()
		return nil, err
	}
	f, err := s.createOwned(c.controlPath, controlBytes, creds)
	if err != nil {
		return fail(err)
	}
	c.control, err = unix.Mmap(int(f.Fd()), 0, controlBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	f.Close()
	if err != nil {
		return fail(err)
	}
	if c.reqSock, err = bindDgram(c.base+"-request", int(maxBytes)); err != nil {
		return fail(err)
	}
	if c.evSock, err = bindDgram(c.base+"-event-tx", int(maxBytes)); err != nil {
		return fail(err)
	}
	c.respAddr = abstractAddr("unixgram", c.base+"-response")
	c.evAddr = abstractAddr("unixgram", c.base+"-event")
	return c, nil
}

func bindDgram(name string, bufBytes int) (*net.UnixConn, error) {
	uc, err := net.ListenUnixgram("unixgram", abstractAddr("unixgram", name))
	if err != nil {
		return nil, fmt.Errorf("ipc: bind @%s: %w", name, err)
	}
	uc.SetReadBuffer(bufBytes)
	uc.SetWriteBuffer(bufBytes)
	return uc, nil
}

// run serves the connection until it ends, then cleans up.
func (c *Conn) run() {
	c.s.active.Add(1)
	defer c.s.active.Add(-1)
	c.svc.Connected(c)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.watchSetup() }()
	go func() { defer wg.Done(); c.writeEvents() }()
	c.readRequests()
	c.Close()
	wg.Wait()
	c.svc.Disconnected(c)
	c.cleanup()
}

// watchSetup waits for the setup socket to close: the client is gone. In socket mode
// nothing else travels on it after the handshake.
func (c *Conn) watchSetup() {
	var b [64]byte
	for {
		if _, err := c.setup.Read(b[:]); err != nil {
			c.Close()
			return
		}
	}
}

// readRequests reads one datagram per request and hands it to the service.
func (c *Conn) readRequests() {
	buf := make([]byte, c.maxBytes+1)
	for {
		n, _, err := c.reqSock.ReadFromUnix(buf)
		if err != nil {
			return
		}
		msg := buf[:n]
		if n == 0 {
			return // a zero-length request means disconnect
		}
		h, err := DecodeRequestHeader(msg)
		if err != nil || n > int(c.maxBytes) {
			// A framing error leaves no way to know which answer the client waits
			// for; corosync drops such a client too.
			c.s.cfg.Log.Warn("ipc: dropping client that sent a malformed request", "service", c.svc.Name(), "pid", c.creds.PID, "err", err)
			return
		}
		if h.ID == msgDisconnect {
			return
		}
		c.controlAdd(ctlRequestSent, -1)
		c.svc.Request(c, h, msg)
	}
}

// Respond sends the answer to the oldest unanswered request.
func (c *Conn) Respond(msg []byte) error {
	c.respMu.Lock()
	defer c.respMu.Unlock()
	if err := c.send(c.reqSock, c.respAddr, msg, false); err != nil {
		return err
	}
	c.controlAdd(ctlResponseSent, 1)
	return nil
}

// Event queues an event for the client. A client whose queue is full is disconnected.
func (c *Conn) Event(msg []byte) error {
	select {
	case <-c.done:
		return net.ErrClosed
	default:
	}
	select {
	case c.events <- msg:
		return nil
	default:
		c.s.cfg.Log.Warn("ipc: dropping client whose event queue is full", "service", c.svc.Name(), "pid", c.creds.PID, "events", cap(c.events))
		c.Close()
		return errors.New("ipc: event queue full")
	}
}

func (c *Conn) writeEvents() {
	for {
		select {
		case <-c.done:
			return
		case msg := <-c.events:
			if err := c.send(c.evSock, c.evAddr, msg, true); err != nil {
				c.Close()
				return
			}
			c.controlAdd(ctlEventSent, 1)
		}
	}
}

// send writes one datagram, waiting at most SendTimeout for a client that does not read.
func (c *Conn) send(sock *net.UnixConn, to *net.UnixAddr, msg []byte, retryMissing bool) error {
	for attempt := 0; ; attempt++ {
		sock.SetWriteDeadline(time.Now().Add(c.s.cfg.SendTimeout))
		_, err := sock.WriteToUnix(msg, to)
		if err == nil {
			return nil
		}
		missing := errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.ENOENT)
		if retryMissing && missing && attempt < eventConnectRetries {
			select {
			case <-c.done:
				return net.ErrClosed
			case <-time.After(eventConnectPause):
			}
			continue
		}
		if !errors.Is(err, net.ErrClosed) {
			c.s.cfg.Log.Warn("ipc: dropping client that does not read", "service", c.svc.Name(), "pid", c.creds.PID, "err", err)
		}
		c.Close()
		return err
	}
}

// SetFlowControl sets the level clients check before sending: 0 open, 1 all sends
// refused (TRY_AGAIN), 2 only sends that opt in (cpg multicasts) refused.
func (c *Conn) SetFlowControl(level int32) {
	c.controlStore(ctlRequestFlow, level)
}

// Close disconnects the client. Safe to call more than once and from any goroutine.
func (c *Conn) Close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.setup.Close()
		if c.reqSock != nil {
			c.reqSock.Close()
		}
		if c.evSock != nil {
			c.evSock.Close()
		}
	})
}

// Done is closed when the connection ends.
func (c *Conn) Done() <-chan struct{} { return c.done }

// cleanup removes every file of the connection.
func (c *Conn) cleanup() {
	c.ctlMu.Lock()
	if c.control != nil {
		unix.Munmap(c.control)
		c.control = nil
	}
	c.ctlMu.Unlock()
	if c.reqSock != nil {
		c.reqSock.Close()
	}
	if c.evSock != nil {
		c.evSock.Close()
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// The control block is shared with the client, which may truncate the file under us: a
// fault on it must not crash the daemon, so accesses run with panic-on-fault and recover.
func (c *Conn) controlAdd(off int, delta int32) {
	c.ctlMu.RLock()
	defer c.ctlMu.RUnlock()
	defer recoverFault(debug.SetPanicOnFault(true))
	if c.control != nil {
		atomic.AddInt32((*int32)(unsafe.Pointer(&c.control[off])), delta)
	}
}

func (c *Conn) controlStore(off int, v int32) {
	c.ctlMu.RLock()
	defer c.ctlMu.RUnlock()
	defer recoverFault(debug.SetPanicOnFault(true))
	if c.control != nil {
		atomic.StoreInt32((*int32)(unsafe.Pointer(&c.control[off])), v)
	}
}

func recoverFault(old bool) {
	debug.SetPanicOnFault(old)
	recover()
}
