package ipc

import (
	"errors"
	"net"
	"os"
	"sync"
)

// transport is how one connection's messages travel: datagram sockets (socket mode) or
// shared-memory rings (shm mode).
type transport interface {
	// handshakeNames are the request, response and event fields of the handshake answer.
	handshakeNames() (request, response, event string)
	connType() int32
	// serve reads requests and hands each to dispatch until the connection ends
	// (setup socket closed, client error, or close).
	serve(dispatch func(msg []byte) bool)
	respond(msg []byte) error
	// sendEvents delivers msg, then those next gives while it gives any, in order, each
	// waiting at most the server's SendTimeout; written runs after each is handed over.
	sendEvents(msg []byte, next func() ([]byte, bool), done <-chan struct{}, written func()) error
	setFlow(level int32)
	// close unblocks serve and sendEvents; cleanup then releases files and memory.
	close()
	cleanup()
}

// Conn is one client connection.
type Conn struct {
	s        *Server
	svc      Service
	creds    Creds
	setup    *net.UnixConn
	dir      string
	maxBytes uint32
	tr       transport

	respMu sync.Mutex
	events chan []byte

	closeOnce sync.Once
	done      chan struct{}

	id       uint64
	procName string
	counters connCounters

	// State is the service's own per-connection data.
	State any
}

// Creds returns the client's credentials.
func (c *Conn) Creds() Creds { return c.creds }

// MaxMessageBytes is the negotiated largest message.
func (c *Conn) MaxMessageBytes() int { return int(c.maxBytes) }

func (s *Server) newConn(uc *net.UnixConn, svc Service, creds Creds, maxBytes uint32) (*Conn, error) {
	setupFD := 0
	if raw, err := uc.SyscallConn(); err == nil {
		raw.Control(func(fd uintptr) { setupFD = int(fd) })
	}
	dir, err := s.connDir(creds, setupFD)
	if err != nil {
		return nil, err
	}
	c := &Conn{s: s, svc: svc, creds: creds, setup: uc, dir: dir, maxBytes: maxBytes,
		events: make(chan []byte, s.cfg.EventQueueMessages), done: make(chan struct{}),
		id: s.connIDs.Add(1), procName: procName(creds.PID)}
	desc := dir + "/qb"
	if s.cfg.Transport == "socket" {
		c.tr, err = s.newSocketTransport(c, desc)
	} else {
		c.tr, err = s.newShmTransport(c, desc)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// run serves the connection until it ends, then cleans up.
func (c *Conn) run() {
	c.s.active.Add(1)
	defer c.s.active.Add(-1)
	c.svc.Connected(c)
	c.s.register(c)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.writeEvents() }()
	c.tr.serve(c.dispatch)
	c.Close()
	wg.Wait()
	c.s.unregister(c)
	c.svc.Disconnected(c)
	c.cleanup()
}

// dispatch validates one request and hands it to the service; false ends the connection.
func (c *Conn) dispatch(msg []byte) bool {
	if len(msg) == 0 {
		return false // a zero-length request means disconnect
	}
	h, err := DecodeRequestHeader(msg)
	if err != nil || len(msg) > int(c.maxBytes) {
		// A framing error leaves no way to know which answer the client waits for;
		// corosync drops such a client too.
		c.s.cfg.Log.Warn("ipc: dropping client that sent a malformed request", "service", c.svc.Name(), "pid", c.creds.PID, "err", err)
		return false
	}
	if h.ID == msgDisconnect {
		return false
	}
	c.counters.requests.Add(1)
	c.svc.Request(c, h, msg)
	return true
}

// Respond sends the answer to the oldest unanswered request.
func (c *Conn) Respond(msg []byte) error {
	c.respMu.Lock()
	defer c.respMu.Unlock()
	select {
	case <-c.done:
		return net.ErrClosed
	default:
	}
	if err := c.tr.respond(msg); err != nil {
		c.drop("cannot answer", err)
		return err
	}
	c.counters.responses.Add(1)
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
		err := errors.New("ipc: event queue full")
		c.drop("events not consumed", err)
		return err
	}
}

func (c *Conn) writeEvents() {
	// next takes the events queued meanwhile, so that the shm transport announces them
	// with one doorbell write (a cpg frame's deliveries) instead of one each.
	next := func() ([]byte, bool) {
		select {
		case m := <-c.events:
			return m, true
		default:
			return nil, false
		}
	}
	for {
		select {
		case <-c.done:
			return
		case msg := <-c.events:
			if err := c.tr.sendEvents(msg, next, c.done, c.noteEventSent); err != nil {
				c.drop("cannot deliver an event", err)
				return
			}
		}
	}
}

func (c *Conn) drop(why string, err error) {
	select {
	case <-c.done:
		return
	default:
	}
	c.s.cfg.Log.Warn("ipc: dropping client: "+why, "service", c.svc.Name(), "pid", c.creds.PID, "err", err)
	c.Close()
}

// SetFlowControl sets the level clients check before sending: 0 open, 1 all sends
// refused (TRY_AGAIN), 2 only sends that opt in (cpg multicasts) refused.
func (c *Conn) SetFlowControl(level int32) {
	c.tr.setFlow(level)
	k := &c.counters
	if k.flowControl.Swap(level) != level {
		k.flowControlShown.Store(level)
		k.flowControlCount.Add(1)
	}
}

// Close disconnects the client. Safe to call more than once and from any goroutine.
func (c *Conn) Close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.setup.Close()
		c.tr.close()
	})
}

// Done is closed when the connection ends.
func (c *Conn) Done() <-chan struct{} { return c.done }

// cleanup removes every file of the connection.
func (c *Conn) cleanup() {
	c.tr.cleanup()
	os.RemoveAll(c.dir)
}
