package ipc

import (
	"errors"
	"fmt"
	"net"
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

// socketTransport is libqb's QB_IPC_SOCKET: a 24-byte shared control block and unix
// datagram sockets with abstract names.
type socketTransport struct {
	c           *Conn
	controlPath string
	base        string
	ctlMu       sync.RWMutex // Lock only to unmap control
	control     []byte
	reqSock     *net.UnixConn
	evSock      *net.UnixConn
	respAddr    *net.UnixAddr
	evAddr      *net.UnixAddr
}

func (s *Server) newSocketTransport(c *Conn, desc string) (*socketTransport, error) {
	t := &socketTransport{c: c, controlPath: desc + "-control-" + c.svc.Name(), base: desc + "-" + c.svc.Name()}
	f, err := s.createOwned(t.controlPath, controlBytes, c.creds)
	if err != nil {
		return nil, err
	}
	t.control, err = unix.Mmap(int(f.Fd()), 0, controlBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	f.Close()
	if err != nil {
		t.cleanup()
		return nil, err
	}
	if t.reqSock, err = bindDgram(t.base+"-request", int(c.maxBytes)); err != nil {
		t.cleanup()
		return nil, err
	}
	if t.evSock, err = bindDgram(t.base+"-event-tx", int(c.maxBytes)); err != nil {
		t.cleanup()
		return nil, err
	}
	t.respAddr = abstractAddr("unixgram", t.base+"-response")
	t.evAddr = abstractAddr("unixgram", t.base+"-event")
	return t, nil
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

func (t *socketTransport) handshakeNames() (string, string, string) {
	return t.controlPath, t.base, ""
}

func (t *socketTransport) connType() int32 { return typeSocket }

// serve reads one datagram per request. The setup socket only tells liveness: in socket
// mode nothing else may travel on it after the handshake.
func (t *socketTransport) serve(dispatch func([]byte) bool) {
	go func() {
		var b [64]byte
		for {
			if _, err := t.c.setup.Read(b[:]); err != nil {
				t.c.Close()
				return
			}
		}
	}()
	buf := make([]byte, t.c.maxBytes+1)
	for {
		n, _, err := t.reqSock.ReadFromUnix(buf)
		if err != nil {
			return
		}
		t.controlAdd(ctlRequestSent, -1)
		if !dispatch(buf[:n]) {
			return
		}
	}
}

func (t *socketTransport) respond(msg []byte) error {
	if err := t.send(t.reqSock, t.respAddr, msg, t.c.s.responseWait(), nil); err != nil {
		return err
	}
	t.controlAdd(ctlResponseSent, 1)
	return nil
}

func (t *socketTransport) sendEvents(msg []byte, next func() ([]byte, bool), done <-chan struct{}, written func()) error {
	for ok := true; ok; msg, ok = next() {
		if err := t.sendEvent(msg, done); err != nil {
			return err
		}
		written()
	}
	return nil
}

func (t *socketTransport) sendEvent(msg []byte, done <-chan struct{}) error {
	if err := t.send(t.evSock, t.evAddr, msg, t.c.s.cfg.SendTimeout, done); err != nil {
		return err
	}
	t.controlAdd(ctlEventSent, 1)
	return nil
}

// send writes one datagram, waiting at most wait for a client that does not read. With
// done set (events) it also waits for a client that has not bound its socket yet; those
// retries are counted (send_retries) and queue the client's events. A full socket is
// waited for in Go's poller, which does not say so: it is not counted.
func (t *socketTransport) send(sock *net.UnixConn, to *net.UnixAddr, msg []byte, wait time.Duration, done <-chan struct{}) error {
	for attempt := 0; ; attempt++ {
		sock.SetWriteDeadline(time.Now().Add(wait))
		_, err := sock.WriteToUnix(msg, to)
		if err == nil {
			return nil
		}
		missing := errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.ENOENT)
		if done == nil || !missing || attempt >= eventConnectRetries {
			return err
		}
		t.c.noteEventWait()
		select {
		case <-done:
			return net.ErrClosed
		case <-time.After(eventConnectPause):
		}
	}
}

func (t *socketTransport) setFlow(level int32) { t.controlStore(ctlRequestFlow, level) }

func (t *socketTransport) close() {
	if t.reqSock != nil {
		t.reqSock.Close()
	}
	if t.evSock != nil {
		t.evSock.Close()
	}
}

func (t *socketTransport) cleanup() {
	t.close()
	t.ctlMu.Lock()
	if t.control != nil {
		unix.Munmap(t.control)
		t.control = nil
	}
	t.ctlMu.Unlock()
}

// The control block is shared with the client, which may truncate the file under us: a
// fault on it must not crash the daemon, so accesses run with panic-on-fault and recover.
func (t *socketTransport) controlAdd(off int, delta int32) {
	t.ctlMu.RLock()
	defer t.ctlMu.RUnlock()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { recover() }()
	if t.control != nil {
		atomic.AddInt32((*int32)(unsafe.Pointer(&t.control[off])), delta)
	}
}

func (t *socketTransport) controlStore(off int, v int32) {
	t.ctlMu.RLock()
	defer t.ctlMu.RUnlock()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { recover() }()
	if t.control != nil {
		atomic.StoreInt32((*int32)(unsafe.Pointer(&t.control[off])), v)
	}
}
