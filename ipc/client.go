package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrTryAgain is returned when the server's flow control, or a full request ring, refuses a
// send for now. It is the code CSErrTryAgain, as libqb's clients report it.
var ErrTryAgain error = CSErrTryAgain

// ErrDisconnected is returned once the server has closed the connection.
var ErrDisconnected = errors.New("ipc: disconnected by the server")

// Client is the client side of one IPC connection, over whichever transport the server
// chose (shm or socket). It is what our Go service libraries build on. Requests are
// serialised: one outstanding at a time, as libqb's clients do.
type Client struct {
	setup *net.UnixConn
	shm   bool
	// shm transport
	reqRing, respRing, evRing *ring
	bells                     chan struct{}
	// socket transport
	reqSock  *net.UnixConn
	evSock   *net.UnixConn
	control  []byte
	maxBytes int
	dir      string
	ctlPath  string

	mu   sync.Mutex // one request at a time
	emu  sync.Mutex // one Event at a time; Close takes both before unmapping the rings
	owed int        // answers of requests abandoned by their context, still to come
	buf  []byte
	ebuf []byte

	closed    atomic.Bool
	gone      atomic.Bool // the server closed the setup socket
	serverPID int         // from SO_PEERCRED; 0 if unknown
}

// Dial connects to the named service ("cmap", ...) over its abstract socket.
func Dial(ctx context.Context, service string) (*Client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", abstractAddr("unix", service).String())
	if err != nil {
		return nil, fmt.Errorf("ipc: connect to %s: %w", service, err)
	}
	setup := nc.(*net.UnixConn)
	fail := func(err error) (*Client, error) {
		setup.Close()
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		setup.SetDeadline(dl)
	} else {
		setup.SetDeadline(time.Now().Add(handshakeTimeout))
	}
	req := make([]byte, ConnectRequestBytes)
	binary.LittleEndian.PutUint32(req[0:], uint32(msgAuthenticate&0xffffffff))
	binary.LittleEndian.PutUint32(req[8:], ConnectRequestBytes)
	binary.LittleEndian.PutUint32(req[16:], DefaultMaxMessageBytes)
	if _, err := setup.Write(req); err != nil {
		return fail(err)
	}
	resp := make([]byte, ConnectResponseBytes)
	if _, err := io.ReadFull(setup, resp); err != nil {
		return fail(fmt.Errorf("ipc: handshake with %s: %w", service, err))
	}
	if errno := int32(binary.LittleEndian.Uint32(resp[16:])); errno != 0 {
		return fail(fmt.Errorf("ipc: %s refused the connection: %w", service, unix.Errno(-errno)))
	}
	setup.SetDeadline(time.Time{})
	c := &Client{setup: setup, maxBytes: int(binary.LittleEndian.Uint32(resp[28:]))}
	if cr, err := peerCreds(setup); err == nil {
		c.serverPID = int(cr.PID)
	}
	names := [3]string{cString(resp[40 : 40+pathMax]), cString(resp[40+pathMax : 40+2*pathMax]), cString(resp[40+2*pathMax : 40+3*pathMax])}
	if c.maxBytes <= 0 || c.maxBytes > 64<<20 || !strings.HasPrefix(names[0], "/") || !strings.HasPrefix(names[1], "/") {
		return fail(errors.New("ipc: malformed handshake answer"))
	}
	var err2 error
	switch t := int32(binary.LittleEndian.Uint32(resp[24:])); t {
	case typeShm:
		err2 = c.openShm(names)
	case typeSocket:
		err2 = c.openSocket(names)
	default:
		err2 = fmt.Errorf("ipc: %s offers transport %d, which libqb clients do not speak either", service, t)
	}
	if err2 != nil {
		c.Close()
		return nil, err2
	}
	c.buf = make([]byte, c.maxBytes)
	c.ebuf = make([]byte, c.maxBytes)
	go c.watchSetup()
	return c, nil
}

// watchSetup notices the server going away: datagram sockets see no EOF, so without this
// a request to a dead server would wait forever. libqb's clients poll the setup socket
// for the same reason.
func (c *Client) watchSetup() {
	var b [64]byte
	for {
		n, err := c.setup.Read(b[:])
		if err != nil {
			break
		}
		// In shm mode each byte announces an event; the ring's semaphore is the
		// authority, so a bell lost to a full channel costs nothing.
		for i := 0; c.shm && i < n; i++ {
			select {
			case c.bells <- struct{}{}:
			default:
			}
		}
	}
	c.gone.Store(true)
	if c.shm {
		close(c.bells)
		return
	}
	past := time.Unix(1, 0)
	c.reqSock.SetReadDeadline(past)
	c.evSock.SetReadDeadline(past)
}

// Request sends one request (header included; its size field is set here) and returns
// the response, valid until the next Request. If ctx ends first, the request stays sent
// and its late answer is discarded by the next Request, which waits for it.
func (c *Client) Request(ctx context.Context, req []byte) ([]byte, error) {
	if len(req) < RequestHeaderBytes || len(req) > c.maxBytes {
		return nil, fmt.Errorf("ipc: request of %d bytes (limit %d)", len(req), c.maxBytes)
	}
	binary.LittleEndian.PutUint32(req[8:], uint32(len(req)))
	c.mu.Lock()
	defer c.mu.Unlock()
	// Answers still owed to abandoned requests come first, in order: take them off before
	// this request so they are not mistaken for its answer.
	for c.owed > 0 {
		if _, err := c.receiveResponse(ctx); err != nil {
			return nil, err
		}
		c.owed--
	}
	if err := c.send(req, 1); err != nil {
		return nil, err
	}
	resp, err := c.receiveResponse(ctx)
	if err != nil && ctx.Err() != nil && !c.gone.Load() {
		c.owed++
	}
	return resp, err
}

func (c *Client) receiveResponse(ctx context.Context) ([]byte, error) {
	if c.shm {
		return c.receiveRing(ctx, c.respRing, c.buf)
	}
	return c.receive(ctx, c.reqSock, c.buf)
}

// Send sends a request that gets no response (cpg MCAST). It is refused with
// ErrTryAgain at flow-control levels 1 and 2, as libcpg refuses multicasts (its
// fc_enable_max is 2 around them): corosync sets 2 while sync runs or the totem queue is
// critical, and drops a multicast it cannot take since it cannot answer TRY_AGAIN.
func (c *Client) Send(req []byte) error {
	binary.LittleEndian.PutUint32(req[8:], uint32(len(req)))
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.send(req, 2)
}

// send writes one request unless the flow-control word is between 1 and fcMax (libqb's
// fc_enable_max: 1 for requests, 2 for cpg multicasts).
func (c *Client) send(req []byte, fcMax int32) error {
	if c.closed.Load() {
		return net.ErrClosed
	}
	if c.gone.Load() {
		return ErrDisconnected
	}
	if c.shm {
		if flow := int32(c.reqRing.u32(ringOffUserData).Load()); flow >= 1 && flow <= fcMax {
			return ErrTryAgain
		}
		if err := c.reqRing.write(req); err != nil {
			if errors.Is(err, errRingFull) {
				return ErrTryAgain
			}
			return err
		}
		_, err := c.setup.Write([]byte{0}) // the doorbell
		return c.sendError(err)
	}
	if flow := atomic.LoadInt32((*int32)(unsafe.Pointer(&c.control[ctlRequestFlow]))); flow >= 1 && flow <= fcMax {
		return ErrTryAgain
	}
	if _, err := c.reqSock.Write(req); err != nil {
		return c.sendError(err)
	}
	atomic.AddInt32((*int32)(unsafe.Pointer(&c.control[ctlRequestSent])), 1)
	return nil
}

// sendError turns the errors of writing to a server that has gone (before the watcher has
// noticed) into ErrDisconnected.
func (c *Client) sendError(err error) error {
	if errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.ECONNREFUSED) {
		c.gone.Store(true)
		return ErrDisconnected
	}
	return err
}

// receiveSpin is how long a shm client polls for its answer before sleeping on the
// futex: a sleep and wake-up cost tens of microseconds on these VMs.
const receiveSpin = 50 * time.Microsecond

// receiveRing takes the next message off a shm ring, waiting as needed.
func (c *Client) receiveRing(ctx context.Context, r *ring, buf []byte) ([]byte, error) {
	stop := func() bool { return c.gone.Load() || c.closed.Load() || ctx.Err() != nil }
	if !r.semWait(receiveSpin, 100*time.Millisecond, stop) {
		if c.gone.Load() {
			return nil, ErrDisconnected
		}
		if c.closed.Load() {
			return nil, net.ErrClosed
		}
		return nil, ctx.Err()
	}
	msg, err := r.read(buf)
	if err != nil {
		return nil, err
	}
	if len(msg) < ResponseHeaderBytes || int(binary.LittleEndian.Uint32(msg[8:])) != len(msg) {
		return nil, errors.New("ipc: malformed message from the server")
	}
	return msg, nil
}

// Event waits for the next event and returns it, valid until the next Event call.
func (c *Client) Event(ctx context.Context) ([]byte, error) {
	if !c.shm {
		return c.receive(ctx, c.evSock, c.ebuf)
	}
	c.emu.Lock()
	defer c.emu.Unlock()
	for {
		if c.closed.Load() {
			return nil, net.ErrClosed
		}
		if c.evRing.semTryWait() {
			select { // consume the event's bell if it has come
			case <-c.bells:
			default:
			}
			return c.evRing.read(c.ebuf)
		}
		select {
		case _, ok := <-c.bells:
			if !ok {
				return nil, ErrDisconnected
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *Client) receive(ctx context.Context, sock *net.UnixConn, buf []byte) ([]byte, error) {
	if c.gone.Load() {
		return nil, ErrDisconnected
	}
	setDeadline := func() {
		if dl, ok := ctx.Deadline(); ok {
			sock.SetReadDeadline(dl)
		} else {
			sock.SetReadDeadline(time.Time{})
		}
	}
	setDeadline()
	stop := context.AfterFunc(ctx, func() { sock.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		if c.gone.Load() {
			return nil, ErrDisconnected
		}
		n, err := sock.Read(buf)
		if err == nil {
			if n < ResponseHeaderBytes || int(binary.LittleEndian.Uint32(buf[8:])) != n {
				return nil, errors.New("ipc: malformed message from the server")
			}
			return buf[:n], nil
		}
		switch {
		case c.gone.Load():
			return nil, ErrDisconnected
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case !errors.Is(err, os.ErrDeadlineExceeded):
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			// Our deadline, reached a moment before the context's own timer fires.
			<-ctx.Done()
			return nil, ctx.Err()
		}
		// A deadline left by an earlier call's cancellation, whose AfterFunc ran late:
		// set ours again and read on.
		setDeadline()
	}
}

// Close disconnects and removes the connection's files, as libqb's clients do.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.reqSock != nil {
		c.reqSock.Close()
	}
	if c.evSock != nil {
		c.evSock.Close()
	}
	if c.ctlPath != "" {
		os.Remove(c.ctlPath)
		os.Remove(c.dir)
	}
	err := c.setup.Close()
	// The setup socket is closed, so the server tears down and the watcher closes the
	// bells. A Request or Event in flight on another goroutine sees closed (or the bells
	// closing) within one wait slice; the rings are unmapped only once both have left.
	c.mu.Lock()
	c.emu.Lock()
	defer c.emu.Unlock()
	defer c.mu.Unlock()
	if c.control != nil {
		unix.Munmap(c.control)
	}
	for _, r := range []*ring{c.reqRing, c.respRing, c.evRing} {
		if r != nil {
			r.detach()
		}
	}
	if c.shm && c.serverDead() {
		c.removeRings()
	}
	return err
}

// serverDead reports whether the server process no longer exists, in which case nobody
// else will remove the connection's files (libqb's clients force-unlink in that case too).
func (c *Client) serverDead() bool {
	return c.serverPID > 0 && unix.Kill(c.serverPID, 0) == unix.ESRCH
}

// removeRings unlinks the rings' files and their directory, touching only files inside
// the directory of the request ring's header.
func (c *Client) removeRings() {
	if c.reqRing == nil {
		return
	}
	dir := filepath.Dir(c.reqRing.hdrPath)
	for _, r := range []*ring{c.reqRing, c.respRing, c.evRing} {
		if r == nil {
			continue
		}
		for _, p := range []string{r.hdrPath, r.dataPath} {
			if p != "" && filepath.Dir(p) == dir {
				os.Remove(p)
			}
		}
	}
	os.Remove(dir)
}

// ResponseError returns the cs_error_t of a response or event.
func ResponseError(msg []byte) CS {
	if len(msg) < ResponseHeaderBytes {
		return CSErrLibrary
	}
	return CS(binary.LittleEndian.Uint32(msg[16:]))
}

func (c *Client) openShm(names [3]string) error {
	c.shm = true
	c.bells = make(chan struct{}, 4096)
	var err error
	if c.reqRing, err = openRing(names[0]); err != nil {
		return err
	}
	if c.respRing, err = openRing(names[1]); err != nil {
		return err
	}
	c.evRing, err = openRing(names[2])
	return err
}

func (c *Client) openSocket(names [3]string) error {
	c.ctlPath = names[0]
	c.dir = dirOf(c.ctlPath)
	f, err := os.OpenFile(c.ctlPath, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	c.control, err = unix.Mmap(int(f.Fd()), 0, controlBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	f.Close()
	if err != nil {
		return err
	}
	if c.reqSock, err = dialDgram(names[1]+"-response", names[1]+"-request", c.maxBytes); err != nil {
		return err
	}
	c.evSock, err = dialDgram(names[1]+"-event", names[1]+"-event-tx", c.maxBytes)
	return err
}

func dialDgram(local, remote string, bufBytes int) (*net.UnixConn, error) {
	uc, err := net.DialUnix("unixgram", abstractAddr("unixgram", local), abstractAddr("unixgram", remote))
	if err != nil {
		return nil, fmt.Errorf("ipc: connect @%s: %w", remote, err)
	}
	uc.SetReadBuffer(bufBytes)
	uc.SetWriteBuffer(bufBytes)
	return uc, nil
}

func cString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}
