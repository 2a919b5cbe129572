package logsys

import (
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSyslog checks the datagrams: glibc's header, the facility (with 3.1.7's reset by
// logger_subsys sections), the priority filter and libqb's bump of debug and trace.
func TestSyslog(t *testing.T) {
	sl := newSyslogListener(t)
	cfg := mustKeys(t, "logging.to_stderr", "no", "logging.timestamp", "off", "logging.syslog_facility", "local3",
		"logging.syslog_priority", "notice",
		"logging.logger_subsys.QUORUM.subsys", "QUORUM", "logging.logger_subsys.QUORUM.debug", "trace",
		"logging.logger_subsys.QUORUM.syslog_facility", "local3")
	h, _ := testHandler(t, cfg, sl.dial)
	emit(h, []string{"MAIN", "QUORUM"}, slog.LevelError, LevelNotice, slog.LevelInfo, slog.LevelDebug, LevelTrace)
	want := []string{
		"<155>Nov  5 10:11:12 corosync[1234]:  [MAIN  ] MAIN/error",
		"<157>Nov  5 10:11:12 corosync[1234]:  [MAIN  ] MAIN/notice",
		"<155>Nov  5 10:11:12 corosync[1234]:  [QUORUM] QUORUM/error",
		"<157>Nov  5 10:11:12 corosync[1234]:  [QUORUM] QUORUM/notice",
		"<158>Nov  5 10:11:12 corosync[1234]:  [QUORUM] QUORUM/info",
		"<158>Nov  5 10:11:12 corosync[1234]:  [QUORUM] QUORUM/debug", // bumped to info
		"<159>Nov  5 10:11:12 corosync[1234]:  [QUORUM] QUORUM/trace", // bumped to debug
	}
	for _, w := range want {
		if got := sl.next(t, 2*time.Second); got != w {
			t.Errorf("got  %q\nwant %q", got, w)
		}
	}
	if extra := sl.next(t, 100*time.Millisecond); extra != "" {
		t.Errorf("unexpected datagram %q", extra)
	}

	// A section without syslog_facility puts the facility back to daemon, as in 3.1.7.
	cfg = mustKeys(t, "logging.syslog_facility", "local3", "logging.logger_subsys.CPG.subsys", "CPG")
	if cfg.SyslogFacility != FacilityDaemon {
		t.Errorf("facility %v, want daemon", cfg.SyslogFacility)
	}
}

// TestSyslogReconnect checks that a restarted syslog daemon gets the next line, and that
// a missing one loses lines without failing the record.
func TestSyslogReconnect(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/log"
	listen := func() *net.UnixConn {
		c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	read := func(c *net.UnixConn) string {
		buf := make([]byte, 1024)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _ := c.Read(buf)
		return string(buf[:n])
	}
	srv := listen()
	cfg := Default()
	h, stderr := testHandler(t, cfg, func() (net.Conn, error) { return net.Dial("unixgram", path) })
	logAt(h, slog.LevelInfo, "MAIN", "one")
	if got := read(srv); !strings.HasSuffix(got, "]:   [MAIN  ] one") {
		t.Fatalf("got %q", got)
	}
	srv.Close()
	os.Remove(path)
	logAt(h, slog.LevelInfo, "MAIN", "lost")
	srv = listen()
	defer srv.Close()
	logAt(h, slog.LevelInfo, "MAIN", "two")
	if got := read(srv); !strings.HasSuffix(got, "]:   [MAIN  ] two") {
		t.Errorf("after restart got %q", got)
	}
	if n := len(stderr.Lines()); n != 3 {
		t.Errorf("%d stderr lines, want 3", n)
	}
}
