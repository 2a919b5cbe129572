package ipc

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// rawShmHandshake connects to name and returns the setup socket and the request ring's
// base name from the handshake answer.
func rawShmHandshake(t *testing.T, name string) (*net.UnixConn, string) {
	t.Helper()
	nc, err := net.Dial("unix", abstractAddr("unix", name).String())
	if err != nil {
		t.Fatal(err)
	}
	req := make([]byte, ConnectRequestBytes)
	binary.LittleEndian.PutUint32(req, 0xffffffff)
	binary.LittleEndian.PutUint32(req[8:], ConnectRequestBytes)
	binary.LittleEndian.PutUint32(req[16:], DefaultMaxMessageBytes)
	nc.Write(req)
	resp := make([]byte, ConnectResponseBytes)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(nc, resp); err != nil {
		t.Fatal(err)
	}
	if e := int32(binary.LittleEndian.Uint32(resp[16:])); e != 0 || binary.LittleEndian.Uint32(resp[24:]) != typeShm {
		t.Fatalf("handshake answer: error %d type %d", e, binary.LittleEndian.Uint32(resp[24:]))
	}
	return nc.(*net.UnixConn), cString(resp[40 : 40+pathMax])
}

// TestShmClientTruncatingItsFilesCannotCrashTheServer: a client shrinks its rings' files
// to nothing and rings the doorbell. The server's accesses fault; it must drop that client,
// clean up, and go on serving others.
func TestShmClientTruncatingItsFilesCannotCrashTheServer(t *testing.T) {
	stub := newCmapStub()
	stub.name = fmt.Sprintf("cgshm-%d", os.Getpid())
	srv := NewServer(Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := srv.Listen(stub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeOn(ctx, ln, stub) }()
	defer func() {
		cancel()
		<-done
		waitShmClean(t)
	}()

	setup, reqRing := rawShmHandshake(t, stub.name)
	for _, suffix := range []string{"-header", "-data"} {
		if err := os.Truncate(reqRing+suffix, 0); err != nil {
			t.Fatal(err)
		}
	}
	setup.Write([]byte{1}) // the doorbell
	setup.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := setup.Read(make([]byte, 1)); err == nil {
		t.Fatal("the server kept a client whose ring faulted")
	}
	setup.Close()
	// Still serving.
	other, _ := rawShmHandshake(t, stub.name)
	other.Close()
	for i := 0; i < 100 && srv.Stats().Active > 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if a := srv.Stats().Active; a != 0 {
		t.Fatalf("%d connections left active", a)
	}
}

func TestRingWrapsAndRefusesWhenFull(t *testing.T) {
	srv := NewServer(Config{ShmDir: t.TempDir()})
	me := Creds{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	r, err := srv.createRing(t.TempDir()+"/r", 4096, me)
	if err != nil {
		t.Fatal(err)
	}
	defer r.release()
	buf := make([]byte, 8192)
	// Far more than the ring holds, through many wrap-arounds, read back in order.
	for i := 0; i < 2000; i++ {
		msg := make([]byte, 1+i%1500)
		for k := range msg {
			msg[k] = byte(i + k)
		}
		if err := r.write(msg); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if !r.semTryWait() {
			t.Fatal("no token after a write")
		}
		got, err := r.read(buf)
		if err != nil || len(got) != len(msg) || got[len(got)-1] != msg[len(msg)-1] || got[0] != msg[0] {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	// Fill it up: the writer must refuse rather than overwrite.
	n := 0
	for ; n < 100; n++ {
		if err := r.write(make([]byte, 1000)); err != nil {
			if err != errRingFull {
				t.Fatal(err)
			}
			break
		}
	}
	if n == 0 || n == 100 {
		t.Fatalf("%d writes of 1000 bytes fit in an 8 KiB ring", n)
	}
	if v := uint32(r.sem().Load()); v != uint32(n) {
		t.Fatalf("semaphore %d, want %d committed chunks", v, n)
	}
}

// TestRequestSpinOff: with RequestSpin negative a connection never polls its request ring
// (a daemon under realtime scheduling must not); by default it finds a waiting request.
func TestRequestSpinOff(t *testing.T) {
	for _, c := range []struct {
		spin time.Duration
		want bool
	}{{0, true}, {-1, false}} {
		srv := NewServer(Config{ShmDir: t.TempDir(), RequestSpin: c.spin})
		me := Creds{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
		r, err := srv.createRing(t.TempDir()+"/r", 4096, me)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.write([]byte("request")); err != nil {
			t.Fatal(err)
		}
		tr := &shmTransport{c: &Conn{s: srv}, req: r}
		if got := tr.spinForRequest(); got != c.want {
			t.Errorf("RequestSpin %v: spinForRequest found a waiting request: %v, want %v", c.spin, got, c.want)
		}
		r.release()
	}
}

// TestEventBellsBatched: events queued together are announced with one doorbell write of
// one byte each (on a seqpacket pair each write is one record), and all of them are on the
// ring in order.
func TestEventBellsBatched(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*net.UnixConn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "setup")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c.(*net.UnixConn)
		defer c.Close()
	}
	srv := NewServer(Config{ShmDir: t.TempDir()})
	me := Creds{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	r, err := srv.createRing(t.TempDir()+"/ev", 1<<16, me)
	if err != nil {
		t.Fatal(err)
	}
	defer r.release()
	c := &Conn{s: srv, setup: conns[0], done: make(chan struct{})}
	tr := &shmTransport{c: c, ev: r}
	queued := [][]byte{[]byte("e1"), []byte("e2"), []byte("e3"), []byte("e4")}
	next := func() ([]byte, bool) {
		if len(queued) == 0 {
			return nil, false
		}
		m := queued[0]
		queued = queued[1:]
		return m, true
	}
	written := 0
	if err := tr.sendEvents([]byte("e0"), next, c.done, func() { written++ }); err != nil {
		t.Fatal(err)
	}
	if written != 5 {
		t.Fatalf("%d events reported written, want 5", written)
	}
	conns[1].SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := conns[1].Read(buf)
	if err != nil || n != 5 {
		t.Fatalf("first doorbell write: %d bytes (%v), want 5 at once", n, err)
	}
	for i := range 5 {
		if !r.semTryWait() {
			t.Fatalf("event %d not on the ring", i)
		}
		got, err := r.read(buf)
		if err != nil || string(got) != fmt.Sprintf("e%d", i) {
			t.Fatalf("event %d: %q %v", i, got, err)
		}
	}
}
