package logsys

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixedTime is the clock of the unit tests: a single-digit day shows zero padding in
// libqb's stamps and blank padding in glibc's syslog header.
var fixedTime = time.Date(2024, time.November, 5, 10, 11, 12, 345678901, time.UTC)

// syncBuffer is a bytes.Buffer safe for the concurrency test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Lines() []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// testHandler is a handler with fixed clock, pid 1234, host node1, a fake caller
// (main.c, main, 1397), stderr captured and syslog going nowhere unless dial is given.
func testHandler(t *testing.T, cfg Config, dial func() (net.Conn, error)) (*Handler, *syncBuffer) {
	t.Helper()
	if dial == nil {
		dial = func() (net.Conn, error) { return nil, net.ErrClosed }
	}
	stderr := &syncBuffer{}
	h, err := New(cfg, Options{Stderr: stderr, Now: func() time.Time { return fixedTime },
		Hostname: "node1", PID: 1234, DialSyslog: dial})
	if err != nil {
		t.Fatal(err)
	}
	h.core.source = func(uintptr) (string, string, int) { return "main.c", "main", 1397 }
	t.Cleanup(func() { h.Close() })
	return h, stderr
}

// logAt logs msg at level for subsys through h.
func logAt(h slog.Handler, level slog.Level, subsys, msg string, args ...any) {
	l := slog.New(h)
	if subsys != "" {
		l = l.With(SubsysKey, subsys)
	}
	l.Log(context.Background(), level, msg, args...)
}

// syslogListener is a unix datagram socket standing in for /dev/log.
type syslogListener struct {
	conn *net.UnixConn
	path string
}

func newSyslogListener(t *testing.T) *syslogListener {
	t.Helper()
	path := t.TempDir() + "/log"
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &syslogListener{conn: c, path: path}
}

func (l *syslogListener) dial() (net.Conn, error) { return net.Dial("unixgram", l.path) }

// next returns the next datagram, or "" after a short wait.
func (l *syslogListener) next(t *testing.T, wait time.Duration) string {
	t.Helper()
	buf := make([]byte, 4096)
	l.conn.SetReadDeadline(time.Now().Add(wait))
	n, err := l.conn.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}
