package ipc

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// inProcessCmap serves a stub cmap under a unique name in this process (no root needed:
// the unique name cannot collide with a real corosync's "cmap").
func inProcessCmap(t testing.TB, transport string) (*cmapStub, *Server) {
	t.Helper()
	stub := newCmapStub()
	stub.name = fmt.Sprintf("cgtest-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	srv := NewServer(Config{Transport: transport, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SendTimeout: time.Second})
	ln, err := srv.Listen(stub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeOn(ctx, ln, stub) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		waitShmClean(t)
	})
	return stub, srv
}

func waitShmClean(t testing.TB) {
	t.Helper()
	var left []string
	for i := 0; i < 100; i++ {
		left, _ = filepath.Glob(fmt.Sprintf("/dev/shm/qb-%d-*", os.Getpid()))
		if len(left) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("left in /dev/shm: %v", left)
}

func cmapGet(key string, want uint64) []byte {
	b := make([]byte, 288)
	binary.LittleEndian.PutUint32(b, 2)
	putCmapName(b, 16, key)
	binary.LittleEndian.PutUint64(b[280:], want)
	return b
}

func cmapSetU32(key string, v uint32) []byte {
	b := make([]byte, 300)
	binary.LittleEndian.PutUint32(b, 0)
	putCmapName(b, 16, key)
	binary.LittleEndian.PutUint64(b[280:], 4)
	b[288] = 6
	binary.LittleEndian.PutUint32(b[296:], v)
	return b
}

func TestGoClientRequestsAndEvents(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { testGoClient(t, tr) })
	}
}

func testGoClient(t *testing.T, transport string) {
	stub, srv := inProcessCmap(t, transport)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, stub.name)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Request(ctx, cmapSetU32("a.b", 7))
	if err != nil || ResponseError(resp) != CSOk || len(resp) != 24 {
		t.Fatalf("SET: %v %v", err, resp)
	}
	resp, err = c.Request(ctx, cmapGet("a.b", 16))
	if err != nil || ResponseError(resp) != CSOk || len(resp) != 56 || binary.LittleEndian.Uint32(resp[40:]) != 7 {
		t.Fatalf("GET: %v %v", err, resp)
	}
	if resp, _ := c.Request(ctx, cmapGet("no.such", 16)); ResponseError(resp) != CSErrNotExist {
		t.Fatalf("GET of a missing key: %v", ResponseError(resp))
	}
	// Track the prefix and change a key: the change arrives as an event.
	track := make([]byte, 296)
	binary.LittleEndian.PutUint32(track, 7)
	putCmapName(track, 16, "a.")
	binary.LittleEndian.PutUint32(track[280:], 4|2|8)
	binary.LittleEndian.PutUint64(track[288:], 0xc0ffee)
	if resp, err := c.Request(ctx, track); err != nil || ResponseError(resp) != CSOk {
		t.Fatalf("TRACK_ADD: %v", err)
	}
	c.Request(ctx, cmapSetU32("a.c", 9))
	ev, err := c.Event(ctx)
	if err != nil || binary.LittleEndian.Uint32(ev) != 9 || binary.LittleEndian.Uint64(ev[24:]) != 0xc0ffee {
		t.Fatalf("event: %v %v", err, ev)
	}
	if st := srv.Stats(); st.Active != 1 || st.Accepted != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestManyConcurrentClients(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { testManyClients(t, tr) })
	}
}

func testManyClients(t *testing.T, transport string) {
	stub, _ := inProcessCmap(t, transport)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := Dial(ctx, stub.name)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			key := fmt.Sprintf("client.%d", i)
			for k := 0; k < 100; k++ {
				if resp, err := c.Request(ctx, cmapSetU32(key, uint32(k))); err != nil || ResponseError(resp) != CSOk {
					errs <- fmt.Errorf("client %d SET %d: %v", i, k, err)
					return
				}
				resp, err := c.Request(ctx, cmapGet(key, 4))
				if err != nil || binary.LittleEndian.Uint32(resp[40:]) != uint32(k) {
					errs <- fmt.Errorf("client %d GET %d: %v", i, k, err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHostileClients: garbage handshakes, malformed requests and clients that die in the
// middle are dropped and cleaned up; a well-behaved client keeps being served.
func TestHostileClients(t *testing.T) {
	stub, srv := inProcessCmap(t, "socket") // reaches into the socket transport
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	good, err := Dial(ctx, stub.name)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	check := func(when string) {
		t.Helper()
		resp, err := good.Request(ctx, cmapSetU32("still.here", 1))
		if err != nil || ResponseError(resp) != CSOk {
			t.Fatalf("%s: the good client failed: %v", when, err)
		}
	}

	// Garbage instead of a handshake, and a handshake cut short.
	for _, junk := range [][]byte{[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), {0xff, 0xff}} {
		nc, err := net.Dial("unix", abstractAddr("unix", stub.name).String())
		if err != nil {
			t.Fatal(err)
		}
		nc.Write(junk)
		nc.SetReadDeadline(time.Now().Add(7 * time.Second))
		io.Copy(io.Discard, nc) // the server closes it
		nc.Close()
	}
	check("after garbage handshakes")

	// A request whose header lies about its size: that client is dropped.
	bad, err := Dial(ctx, stub.name)
	if err != nil {
		t.Fatal(err)
	}
	lie := cmapGet("x", 4)
	binary.LittleEndian.PutUint32(lie[8:], 99999)
	bad.reqSock.Write(lie)
	if _, err := bad.receive(ctx, bad.reqSock, bad.buf); err != ErrDisconnected {
		t.Fatalf("a lying client got %v, want ErrDisconnected", err)
	}
	bad.Close()
	check("after a malformed request")

	// A client that sends a request and vanishes without reading the answer.
	for i := 0; i < 10; i++ {
		gone, err := Dial(ctx, stub.name)
		if err != nil {
			t.Fatal(err)
		}
		gone.Send(cmapGet("totem.token", 4))
		gone.setup.Close()
		gone.reqSock.Close()
		gone.evSock.Close()
	}
	check("after clients died mid-request")
	for i := 0; i < 100 && srv.Stats().Active > 1; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if a := srv.Stats().Active; a != 1 {
		t.Fatalf("%d connections still active, want only the good one", a)
	}
}

func FuzzDecodeConnectRequest(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeConnectRequest(b)
		if err == nil && (len(b) != ConnectRequestBytes || r.maxMessageBytes != binary.LittleEndian.Uint32(b[16:])) {
			t.Fatal("accepted a malformed handshake")
		}
	})
}

func FuzzDecodeRequestHeader(f *testing.F) {
	f.Add(cmapGet("k", 4))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeRequestHeader(b)
		if err == nil && int(h.Size) != len(b) {
			t.Fatal("size not checked")
		}
	})
}
