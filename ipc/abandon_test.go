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
