package ipc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Service is one corosync service reachable over IPC (cmap, cfg, cpg, quorum, votequorum).
type Service interface {
	// Name is the IPC name clients connect to ("cmap", ...).
	Name() string
	// Connected is called once per authorised connection, before any request.
	Connected(c *Conn)
	// Request handles one request. msg (header included) is valid only during the call.
	// Unless the request expects no answer (cpg MCAST), the service calls c.Respond
	// exactly once, now or later from any goroutine; responses go out in call order.
	Request(c *Conn, h RequestHeader, msg []byte)
	// Disconnected is called once when the client goes away or is dropped.
	Disconnected(c *Conn)
}

// Creds are the client's credentials as the kernel reports them.
type Creds struct {
	PID      int32
	UID, GID uint32
}

// Config configures a Server.
type Config struct {
	// Authorize decides for non-root clients (corosync's uidgid rules); nil refuses them.
	// Clients with uid 0 or gid 0 are always allowed.
	Authorize func(Creds) bool
	// ShmDir is where per-connection files go (/dev/shm).
	ShmDir string
	// Transport is corosync's system.qb_ipc_type: "shm" (the default; "native" means
	// the same on Linux) or "socket".
	Transport string
	// MaxMessageBytes is the negotiated message size floor (DefaultMaxMessageBytes).
	MaxMessageBytes uint32
	// EventQueueMessages bounds the events waiting for a slow client; past it the client is
	// disconnected rather than allowed to grow the daemon's memory.
	EventQueueMessages int
	// SendTimeout bounds how long a response or event may wait for a client that does not
	// read; past it the client is disconnected.
	SendTimeout time.Duration
	// RequestSpin is how long a shm connection polls its request ring after serving a
	// request before it sleeps on the doorbell (DefaultRequestSpin when 0; negative: it
	// never polls). A daemon under realtime scheduling turns it off: polling at realtime
	// priority takes the CPU from the very client that is to send the next request.
	RequestSpin time.Duration
	// ConnectionsChanged, when set, is called after a connection becomes visible to
	// Connections and after it leaves it, so that stats.ipcs trackers hear of it at once
	// (corosync adds and removes the keys as the connection comes and goes).
	ConnectionsChanged func()
	Log                *slog.Logger
}

// Defaults.
const (
	DefaultEventQueueMessages = 4096
	DefaultSendTimeout        = 5 * time.Second
	// DefaultRequestSpin: a client that sends its next request within it is served
	// without a wake-up (which costs tens of microseconds on these VMs).
	DefaultRequestSpin = 20 * time.Microsecond
	handshakeTimeout   = 5 * time.Second
)

// maxResponseWait bounds how long Respond waits for room: a libqb client has one request
// outstanding, so a full response ring or socket means a client that sends without
// reading, and a service that answers under a lock must not stall behind it for long.
const maxResponseWait = 100 * time.Millisecond

func (s *Server) responseWait() time.Duration { return min(s.cfg.SendTimeout, maxResponseWait) }

// Server accepts libqb IPC connections for services.
type Server struct {
	cfg Config
	pid int
	// counters for stats.ipcs.*
	accepted, refused, active atomic.Int64

	// conns are the connections their services have accepted (Connections); connIDs
	// numbers them.
	connMu  sync.Mutex
	conns   map[*Conn]struct{}
	connIDs atomic.Uint64
}

// NewServer returns a server; call Serve once per service.
func NewServer(cfg Config) *Server {
	if cfg.Transport == "native" || cfg.Transport == "" {
		cfg.Transport = "shm"
	}
	if cfg.ShmDir == "" {
		cfg.ShmDir = "/dev/shm"
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.EventQueueMessages <= 0 {
		cfg.EventQueueMessages = DefaultEventQueueMessages
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.RequestSpin == 0 {
		cfg.RequestSpin = DefaultRequestSpin
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Server{cfg: cfg, pid: os.Getpid(), conns: map[*Conn]struct{}{}}
}

// Serve listens on the service's abstract socket and serves it until ctx ends.
func (s *Server) Serve(ctx context.Context, svc Service) error {
	ln, err := s.Listen(svc)
	if err != nil {
		return err
	}
	return s.ServeOn(ctx, ln, svc)
}

// Listen opens the service's abstract listening socket (in the caller's network
// namespace).
func (s *Server) Listen(svc Service) (*net.UnixListener, error) {
	if n := svc.Name(); n == "" || strings.ContainsAny(n, "/\x00") || len(n) > 64 {
		return nil, fmt.Errorf("ipc: service name %q must be 1..64 bytes without / or NUL", n)
	}
	ln, err := net.ListenUnix("unix", abstractAddr("unix", svc.Name()))
	if err != nil {
		// net's error repeats the address, which libqb pads with NULs to the full
		// sun_path: keep only the cause (for example "address already in use").
		if op, ok := errors.AsType[*net.OpError](err); ok {
			err = op.Err
		}
		return nil, fmt.Errorf("ipc: listen on @%s: %w", svc.Name(), err)
	}
	return ln, nil
}

// ServeOn accepts connections on ln until ctx ends, then closes the listener and every
// connection of the service and waits for their cleanup.
func (s *Server) ServeOn(ctx context.Context, ln *net.UnixListener, svc Service) error {
	var conns sync.Map // *Conn → struct{}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		conns.Range(func(k, _ any) bool { k.(*Conn).Close(); return true })
	})
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		uc, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.cfg.Log.Warn("ipc accept failed", "service", svc.Name(), "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.handshake(uc, svc)
			if err != nil {
				s.refused.Add(1)
				s.cfg.Log.Debug("ipc connection refused", "service", svc.Name(), "err", err)
				uc.Close()
				return
			}
			conns.Store(c, struct{}{})
			if ctx.Err() != nil {
				// The stop ran before the Store and missed this connection.
				c.Close()
			}
			c.run()
			conns.Delete(c)
		}()
	}
}

// handshake reads the client's request, authorises it and sets the connection up.
func (s *Server) handshake(uc *net.UnixConn, svc Service) (*Conn, error) {
	uc.SetDeadline(time.Now().Add(handshakeTimeout))
	buf := make([]byte, ConnectRequestBytes)
	if _, err := io.ReadFull(uc, buf); err != nil {
		return nil, err
	}
	req, err := decodeConnectRequest(buf)
	if err != nil {
		return nil, err
	}
	creds, err := peerCreds(uc)
	if err != nil {
		return nil, err
	}
	refuse := func(errno unix.Errno, why error) (*Conn, error) {
		b, _ := encodeConnectResponse(connectResponse{errno: -int32(errno)})
		uc.Write(b)
		return nil, why
	}
	if creds.UID != 0 && creds.GID != 0 && (s.cfg.Authorize == nil || !s.cfg.Authorize(creds)) {
		return refuse(unix.EACCES, fmt.Errorf("ipc: uid %d gid %d not allowed", creds.UID, creds.GID))
	}
	maxBytes := max(req.maxMessageBytes, s.cfg.MaxMessageBytes)
	c, err := s.newConn(uc, svc, creds, maxBytes)
	if err != nil {
		return refuse(unix.EMFILE, err)
	}
	reqName, respName, evName := c.tr.handshakeNames()
	resp, err := encodeConnectResponse(connectResponse{connType: c.tr.connType(), maxMessageBytes: maxBytes,
		request: reqName, response: respName, event: evName})
	if err == nil {
		// One write: libqb 2.0.6 clients fail the connect on a short read.
		_, err = uc.Write(resp)
	}
	if err != nil {
		c.cleanup()
		return nil, err
	}
	uc.SetDeadline(time.Time{})
	s.accepted.Add(1)
	return c, nil
}

func peerCreds(uc *net.UnixConn) (Creds, error) {
	raw, err := uc.SyscallConn()
	if err != nil {
		return Creds{}, err
	}
	var cr *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cr, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Creds{}, err
	}
	if cerr != nil {
		return Creds{}, cerr
	}
	return Creds{PID: cr.Pid, UID: cr.Uid, GID: cr.Gid}, nil
}

// connDir creates the private per-connection directory, named as libqb names it.
func (s *Server) connDir(creds Creds, setupFD int) (string, error) {
	dir, err := os.MkdirTemp(s.cfg.ShmDir, fmt.Sprintf("qb-%d-%d-%d-", s.pid, creds.PID, setupFD))
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o770); err != nil {
		os.Remove(dir)
		return "", err
	}
	if err := os.Chown(dir, int(creds.UID), int(creds.GID)); err != nil {
		os.Remove(dir)
		return "", err
	}
	return dir, nil
}

func (s *Server) createOwned(path string, size int, creds Creds) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Chown(int(creds.UID), int(creds.GID)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Stats are the server's connection counters (stats.ipcs.*).
type Stats struct {
	Accepted, Refused, Active int64
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{Accepted: s.accepted.Load(), Refused: s.refused.Load(), Active: s.active.Load()}
}

// dirOf is the directory of a per-connection path.
func dirOf(p string) string { return filepath.Dir(p) }
