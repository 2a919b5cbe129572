package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"
)

// slowEcho answers each request, in order as corosync's services do, with its own id in
// the response header, after a delay of as many milliseconds as its first payload word.
type slowEcho struct{ name string }

func (s slowEcho) Name() string       { return s.name }
func (s slowEcho) Connected(*Conn)    {}
func (s slowEcho) Disconnected(*Conn) {}
func (s slowEcho) Request(c *Conn, h RequestHeader, msg []byte) {
	time.Sleep(time.Duration(binary.LittleEndian.Uint32(msg[16:])) * time.Millisecond)
	b := make([]byte, 32)
	PutResponseHeader(b, h.ID, CSOk)
	c.Respond(b)
}

// TestAbandonedRequestAnswerIsDiscarded: a request whose context ends before its answer
// must not have that answer taken for the next request's.
func TestAbandonedRequestAnswerIsDiscarded(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			svc := slowEcho{fmt.Sprintf("cgtest-%d-slow-%s", os.Getpid(), tr)}
			srv := NewServer(Config{Transport: tr, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			ln, err := srv.Listen(svc)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.ServeOn(ctx, ln, svc) }()
			defer func() { cancel(); <-done; waitShmClean(t) }()
			c, err := Dial(context.Background(), svc.name)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			req := func(id int32, delayMS uint32) []byte {
				b := make([]byte, 20)
				PutRequestHeader(b, id)
				binary.LittleEndian.PutUint32(b[16:], delayMS)
				return b
			}
			short, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer stop()
			if _, err := c.Request(short, req(1, 200)); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("slow request: %v, want a deadline error", err)
			}
			resp, err := c.Request(context.Background(), req(2, 0))
			if err != nil {
				t.Fatal(err)
			}
			if id := int32(binary.LittleEndian.Uint32(resp)); id != 2 {
				t.Fatalf("the next request got the answer of request %d", id)
			}
		})
	}
}

// flowEcho answers requests at once and hands each new connection to the test.
type flowEcho struct {
	name  string
	conns chan *Conn
}

func (s flowEcho) Name() string       { return s.name }
func (s flowEcho) Connected(c *Conn)  { s.conns <- c }
func (s flowEcho) Disconnected(*Conn) {}
func (s flowEcho) Request(c *Conn, h RequestHeader, msg []byte) {
	if h.ID == 7 { // a "multicast": no answer
		return
	}
	b := make([]byte, 24)
	PutResponseHeader(b, h.ID, CSOk)
	c.Respond(b)
}

// TestFlowControlLevels: level 1 refuses requests and sends, level 2 (libcpg's
// fc_enable_max around multicasts) refuses only sends, level 0 refuses nothing.
func TestFlowControlLevels(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			svc := flowEcho{fmt.Sprintf("cgtest-%d-flow-%s", os.Getpid(), tr), make(chan *Conn, 1)}
			srv := NewServer(Config{Transport: tr, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			ln, err := srv.Listen(svc)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.ServeOn(ctx, ln, svc) }()
			defer func() { cancel(); <-done; waitShmClean(t) }()
			c, err := Dial(context.Background(), svc.name)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conn := <-svc.conns
			try := func() (reqErr, sendErr error) {
				req := make([]byte, 16)
				PutRequestHeader(req, 1)
				_, reqErr = c.Request(context.Background(), req)
				mc := make([]byte, 16)
				PutRequestHeader(mc, 7)
				return reqErr, c.Send(mc)
			}
			for _, lv := range []struct {
				level         int32
				request, send bool // refused?
			}{{1, true, true}, {2, false, true}, {0, false, false}} {
				conn.SetFlowControl(lv.level)
				reqErr, sendErr := try()
				if errors.Is(reqErr, ErrTryAgain) != lv.request || errors.Is(sendErr, ErrTryAgain) != lv.send {
					t.Errorf("level %d: request %v, send %v; want refused=%v/%v", lv.level, reqErr, sendErr, lv.request, lv.send)
				}
			}
		})
	}
}
