package ipc

import (
	"errors"
	"net"
	"runtime/debug"
	"sync"
	"time"
)

// ringFullPause is how often a full ring is retried while a slow client catches up.
const ringFullPause = 200 * time.Microsecond

// shmTransport is libqb's QB_IPC_SHM: three rings in shared memory (request, response,
// event) with the setup socket as doorbell: the client writes one byte after each
// request; the server writes one byte after each event, none after responses.
type shmTransport struct {
	c                 *Conn
	reqName, respName string
	evName            string
	mu                sync.RWMutex // RLock to use the rings, Lock to release them
	req, resp, ev     *ring
	released          bool
}

func (s *Server) newShmTransport(c *Conn, desc string) (*shmTransport, error) {
	svc := c.svc.Name()
	t := &shmTransport{c: c, reqName: desc + "-request-" + svc, respName: desc + "-response-" + svc, evName: desc + "-event-" + svc}
	var err error
	if t.req, err = s.createRing(t.reqName, c.maxBytes, c.creds); err != nil {
		return nil, err
	}
	if t.resp, err = s.createRing(t.respName, c.maxBytes, c.creds); err != nil {
		t.cleanup()
		return nil, err
	}
	if t.ev, err = s.createRing(t.evName, c.maxBytes, c.creds); err != nil {
		t.cleanup()
		return nil, err
	}
	return t, nil
}

func (t *shmTransport) handshakeNames() (string, string, string) {
	return t.reqName, t.respName, t.evName
}

func (t *shmTransport) connType() int32 { return typeShm }

// serve waits for doorbell bytes and then takes every committed request off the ring.
// The byte count is only a hint: requests are taken by semaphore token.
func (t *shmTransport) serve(dispatch func([]byte) bool) {
	buf := make([]byte, t.c.maxBytes)
	bell := make([]byte, 64)
	// debt is requests taken less doorbell bytes read: each request has one byte, and a
	// request taken while spinning leaves its byte for a later read.
	debt := 0
	for {
		woke := false
		if !t.spinForRequest() {
			n, err := t.c.setup.Read(bell)
			if err != nil {
				return
			}
			debt -= n
			woke = debt < 0 // some byte is for a request not taken yet
		}
		took := 0
		for {
			msg, ok, err := t.nextRequest(buf)
			if err != nil {
				t.c.drop("its request ring is corrupt", err)
				return
			}
			if !ok {
				break
			}
			took++
			debt++
			if !dispatch(msg) {
				return
			}
		}
		if woke && took == 0 {
			// A doorbell with no request behind it: libqb's recv_retries.
			t.c.counters.recvRetries.Add(1)
		}
	}
}

// spinForRequest polls the request semaphore for the server's RequestSpin; true means a
// request is there (its doorbell byte is read later, with the rest).
func (t *shmTransport) spinForRequest() (found bool) {
	spin := t.c.s.cfg.RequestSpin
	if spin < 0 {
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.released {
		return false
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			found = false
		}
	}()
	for end := time.Now().Add(spin); time.Now().Before(end); {
		if uint32(t.req.sem().Load()) > 0 {
			return true
		}
	}
	return false
}

func (t *shmTransport) nextRequest(buf []byte) (msg []byte, ok bool, err error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.released {
		return nil, false, nil
	}
	if !t.req.guardedTryWait(&err) {
		return nil, false, err
	}
	msg, err = t.req.read(buf)
	if err != nil {
		return nil, false, err
	}
	return msg, true, nil
}

// write puts msg on r, retrying a full ring until wait has passed. Every retry is counted
// (libqb's send_retries); one for an event also marks the client's events as queueing.
func (t *shmTransport) write(r *ring, msg []byte, wait time.Duration, done <-chan struct{}, event bool) error {
	deadline := time.Now().Add(wait)
	for {
		err := t.tryWrite(r, msg)
		if !errors.Is(err, errRingFull) {
			return err
		}
		if time.Now().After(deadline) {
			return err
		}
		if event {
			t.c.noteEventWait()
		} else {
			t.c.counters.sendRetries.Add(1)
		}
		select {
		case <-done:
			return net.ErrClosed
		case <-time.After(ringFullPause):
		}
	}
}

func (t *shmTransport) respond(msg []byte) error {
	return t.write(t.resp, msg, t.c.s.responseWait(), t.c.done, false)
}

func (t *shmTransport) sendEvents(msg []byte, next func() ([]byte, bool), done <-chan struct{}, written func()) error {
	// Events written but not yet announced: the client learns of events from their
	// doorbells, so they are announced before any wait for room in the ring, and in
	// bounded batches.
	unrung := 0
	for {
		err := t.tryWrite(t.ev, msg)
		if errors.Is(err, errRingFull) {
			if err = t.ringBells(unrung); err == nil {
				unrung = 0
				err = t.write(t.ev, msg, t.c.s.cfg.SendTimeout, done, true)
			}
		}
		if err != nil {
			return err
		}
		unrung++
		written()
		if unrung == eventBellsMax {
			if err := t.ringBells(unrung); err != nil {
				return err
			}
			unrung = 0
		}
		var ok bool
		if msg, ok = next(); !ok {
			return t.ringBells(unrung)
		}
	}
}

// eventBellsMax bounds the events announced by one doorbell write.
const eventBellsMax = 64

// eventBells are the doorbell bytes (zeros) of up to eventBellsMax events; read only.
var eventBells [eventBellsMax]byte

// tryWrite puts msg on r if it has room now.
func (t *shmTransport) tryWrite(r *ring, msg []byte) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.released {
		return net.ErrClosed
	}
	return r.write(msg)
}

// ringBells writes n event doorbells at once, one byte per event (libqb's clients read one
// for each event they take); clients poll the setup socket for events.
func (t *shmTransport) ringBells(n int) error {
	if n == 0 {
		return nil
	}
	t.c.setup.SetWriteDeadline(time.Now().Add(t.c.s.cfg.SendTimeout))
	_, err := t.c.setup.Write(eventBells[:n])
	return err
}

func (t *shmTransport) setFlow(level int32) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.released {
		t.req.setUserWord(level)
	}
}

func (t *shmTransport) close() {}

func (t *shmTransport) cleanup() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.released {
		return
	}
	t.released = true
	for _, r := range []*ring{t.req, t.resp, t.ev} {
		if r != nil {
			r.release()
		}
	}
}
