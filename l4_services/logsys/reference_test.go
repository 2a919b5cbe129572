package logsys

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/refcorosync"
	"github.com/corosync-go/corosync/l4_services/config"
)

// refConf is a one-node corosync.conf whose logging{} holds logging.
func refConf(logging string) string {
	return `totem {
	version: 2
	cluster_name: refcluster
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 1000
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		nodeid: 1
		name: node1
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
` + logging + `
}
`
}

// loggingKeys reads the logging.* keys of conf as text, as the daemon hands them over.
func loggingKeys(t *testing.T, conf string) map[string]string {
	t.Helper()
	c, err := config.ParseBytes("corosync.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, k := range c.Keys("logging.") {
		v, _ := c.Get(k)
		keys[k] = v.Text()
	}
	return keys
}

// refLine is what varies in a reference line; everything else must be reproduced.
type refLine struct {
	raw                  string
	time                 time.Time
	pid                  int
	host                 string
	priority             Priority
	subsys, msg          string
	file, function       string
	line                 int
	facilityAndPriority  int // syslog only
	syslogTime, syslogID string
}

var (
	stampRE  = `(?:([A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d(?:\.\d{3})?) )?`
	stderrRE = regexp.MustCompile(`^` + stampRE + `([a-z]+) +\[(.{6})\] (.*)$`)
	fileRE   = regexp.MustCompile(`^` + stampRE + `\[(\d+)\] (\S+) corosync ?([a-z]+) +\[(.{6})\] (.*)$`)
	syslogRE = regexp.MustCompile(`^<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) corosync\[(\d+)\]: +\[(.{6})\] (.*)$`)
)

func priorityNamed(t *testing.T, name string) Priority {
	for i, n := range priorityNames {
		if n == name {
			return Priority(i)
		}
	}
	t.Fatalf("unknown priority %q", name)
	return 0
}

// parseStamp reads libqb's %t/%T ("" for none).
func parseStamp(t *testing.T, s string) time.Time {
	if s == "" {
		return fixedTime
	}
	layout := "Jan 02 15:04:05"
	if len(s) > len(layout) {
		layout += ".000"
	}
	tm, err := time.ParseInLocation(layout, s, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// splitSource takes "file:func:line ", "file:line " or "func " off a message.
func splitSource(t *testing.T, cfg *Config, l *refLine) {
	var re *regexp.Regexp
	switch {
	case cfg.Fileline && cfg.FunctionName:
		re = regexp.MustCompile(`^(\S+?):(\S+):(\d+) (.*)$`)
	case cfg.Fileline:
		re = regexp.MustCompile(`^(\S+):(\d+) (.*)$`)
	case cfg.FunctionName:
		re = regexp.MustCompile(`^(\S+) (.*)$`)
	default:
		return
	}
	m := re.FindStringSubmatch(l.msg)
	if m == nil {
		t.Fatalf("no source in %q", l.raw)
	}
	switch {
	case cfg.Fileline && cfg.FunctionName:
		l.file, l.function, l.line, l.msg = m[1], m[2], atoi(m[3]), m[4]
	case cfg.Fileline:
		l.file, l.line, l.msg = m[1], atoi(m[2]), m[3]
	default:
		l.function, l.msg = m[1], m[2]
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func parseRef(t *testing.T, cfg *Config, kind, raw string) refLine {
	t.Helper()
	l := refLine{raw: raw}
	switch kind {
	case "stderr":
		m := stderrRE.FindStringSubmatch(raw)
		if m == nil {
			t.Fatalf("unparsed stderr line %q", raw)
		}
		l.time, l.priority, l.subsys, l.msg = parseStamp(t, m[1]), priorityNamed(t, m[2]), m[3], m[4]
	case "file":
		m := fileRE.FindStringSubmatch(raw)
		if m == nil {
			t.Fatalf("unparsed file line %q", raw)
		}
		l.time, l.pid, l.host, l.priority, l.subsys, l.msg = parseStamp(t, m[1]), atoi(m[2]), m[3], priorityNamed(t, m[4]), m[5], m[6]
	case "syslog":
		m := syslogRE.FindStringSubmatch(raw)
		if m == nil {
			t.Fatalf("unparsed datagram %q", raw)
		}
		l.facilityAndPriority, l.syslogTime, l.pid, l.subsys, l.msg = atoi(m[1]), m[2], atoi(m[3]), m[4], m[5]
	}
	l.subsys = strings.TrimRight(l.subsys, " ")
	splitSource(t, cfg, &l)
	return l
}

// replay logs what l describes through a handler built from cfg and returns its output
// on the destination kind.
type replayer struct {
	h      *Handler
	stderr *syncBuffer
	file   string
	sys    *syslogListener
	now    time.Time
	src    refLine
}

func newReplayer(t *testing.T, cfg Config, kind string, pid int, host string) *replayer {
	r := &replayer{stderr: &syncBuffer{}, file: filepath.Join(t.TempDir(), "replay.log")}
	cfg.ToStderr, cfg.ToLogfile, cfg.ToSyslog = kind == "stderr", kind == "file", kind == "syslog"
	cfg.Logfile = r.file
	for name, s := range cfg.Subsys {
		s.Logfile = ""
		cfg.Subsys[name] = s
	}
	opts := Options{Stderr: r.stderr, Now: func() time.Time { return r.now }, PID: pid, Hostname: host}
	if kind == "syslog" {
		r.sys = newSyslogListener(t)
		opts.DialSyslog = r.sys.dial
	}
	h, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.core.source = func(uintptr) (string, string, int) { return r.src.file, r.src.function, r.src.line }
	t.Cleanup(func() { h.Close() })
	r.h = h
	return r
}

// replay returns our line for l ("" when our filters drop it).
func (r *replayer) replay(t *testing.T, l refLine) string {
	r.now, r.src = l.time, l
	var before int
	if fi, err := os.Stat(r.file); err == nil {
		before = int(fi.Size())
	}
	r.stderr.mu.Lock()
	r.stderr.buf.Reset()
	r.stderr.mu.Unlock()
	slog.New(r.h).Log(context.Background(), l.priority.Level(), l.msg, SubsysKey, l.subsys)
	switch {
	case r.sys != nil:
		return r.sys.next(t, 50*time.Millisecond)
	case r.h.Config().ToLogfile:
		b, _ := os.ReadFile(r.file)
		return strings.TrimSuffix(string(b[before:]), "\n")
	default:
		return strings.TrimSuffix(r.stderr.String(), "\n")
	}
}

func splitLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if sc.Text() != "" {
			out = append(out, sc.Text())
		}
	}
	return out
}

// TestReferenceLines runs Debian's corosync 3.1.7 with several logging{} sections and
// checks that every line it writes to stderr and to its log file is what our handler
// writes for the same time, pid, host, priority, subsystem, message and caller.
func TestReferenceLines(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	for _, c := range []struct {
		name, logging string
		silent        string // a subsystem both must keep quiet at info
	}{
		{"timestamp on", "timestamp: on", ""},
		{"timestamp off fileline function_name", "timestamp: off\nfileline: on\nfunction_name: on", ""},
		{"hires by default, debug on, QUORUM trace", "debug: on\nlogger_subsys {\nsubsys: QUORUM\ndebug: trace\n}", ""},
		{"hires fileline, SERV warnings only", "timestamp: hires\nfileline: on\nlogger_subsys {\nsubsys: SERV\nlogfile_priority: warning\n}", "SERV"},
		{"function_name with seconds, debug trace", "timestamp: on\nfunction_name: on\ndebug: trace", ""},
		{"debug on, TOTEM section without debug", "debug: on\nlogger_subsys {\nsubsys: TOTEM\nlogfile_priority: err\n}", "TOTEM"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			logfile := filepath.Join(dir, "corosync.log")
			conf := refConf("to_stderr: yes\nto_syslog: no\nto_logfile: yes\nlogfile: " + logfile + "\n" + c.logging)
			cfg, err := FromKeys(loggingKeys(t, conf))
			if err != nil {
				t.Fatal(err)
			}
			ref := refcorosync.Start(t, refcorosync.Options{Conf: conf})
			stderr := splitLines(ref.Log())
			b, err := os.ReadFile(logfile)
			if err != nil {
				t.Fatal(err)
			}
			fileLines := splitLines(string(b))
			if len(stderr) < 10 || len(fileLines) < 10 {
				t.Fatalf("too few lines: %d stderr, %d file", len(stderr), len(fileLines))
			}
			if c.silent != "" {
				if strings.Contains(ref.Log(), "["+c.silent) {
					t.Fatalf("corosync logged %s", c.silent)
				}
				h, err := New(cfg, Options{Stderr: &syncBuffer{}, DialSyslog: func() (net.Conn, error) { return nil, os.ErrNotExist }})
				if err != nil {
					t.Fatal(err)
				}
				defer h.Close()
				if h.WithAttrs([]slog.Attr{slog.String(SubsysKey, c.silent)}).Enabled(context.Background(), slog.LevelInfo) {
					t.Errorf("we would log %s at info", c.silent)
				}
			}
			t.Logf("%d stderr and %d file lines compared", len(stderr), len(fileLines))
			for kind, lines := range map[string][]string{"stderr": stderr, "file": fileLines} {
				var r *replayer
				for _, raw := range lines {
					l := parseRef(t, &cfg, kind, raw)
					if r == nil {
						r = newReplayer(t, cfg, kind, l.pid, l.host)
					}
					if got := r.replay(t, l); got != raw {
						t.Errorf("%s:\n corosync %q\n ours     %q", kind, raw, got)
					}
				}
			}
		})
	}
}

// TestReferenceErrors checks FromKeys's messages against what corosync 3.1.7 prints for
// the same bad values.
func TestReferenceErrors(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	for _, logging := range []string{
		"debug: yes", "timestamp: On", "syslog_facility: Daemon", "syslog_priority: trace",
		"logfile_priority: bogus", "to_stderr: true", "fileline: 1", "blackbox: yes", "syslog_level: x",
		"to_file: maybe", "logger_subsys {\nsubsys: TOTEM\nto_logfile: x\n}",
		"logger_subsys {\nsubsys: " + strings.Repeat("A", 64) + "\n}",
		"to_stderr: yes\nlogfile: /nonexistent/dir/x.log\nto_logfile: no",
	} {
		conf := refConf("to_stderr: yes\n" + logging)
		cfg, err := FromKeys(loggingKeys(t, conf))
		if err == nil {
			// File errors come from New.
			_, err = New(cfg, Options{Stderr: &bytes.Buffer{}, DialSyslog: func() (net.Conn, error) { return nil, os.ErrNotExist }})
		}
		ce, ok := err.(*ConfigError)
		if !ok {
			t.Errorf("%q: got %v", logging, err)
			continue
		}
		_, rerr := refcorosync.StartDir(t.TempDir(), refcorosync.Options{Conf: conf})
		if rerr == nil || !strings.Contains(rerr.Error(), "\n"+ce.CorosyncMessage()+"\n") {
			t.Errorf("%q: ours %q, corosync: %v", logging, ce.CorosyncMessage(), rerr)
		}
	}
}

// sandbox runs corosync in the namespace with private /run, /var/lib/corosync,
// /var/log/corosync and a private /dev whose log is a symlink to the test's socket.
const sandbox = `set -e
mount --make-rprivate /
mount -t tmpfs tmpfs /run
mkdir -p /var/lib/corosync /var/log/corosync /run/olddev
mount -t tmpfs tmpfs /var/lib/corosync
mount -t tmpfs tmpfs /var/log/corosync
mount --rbind /dev /run/olddev
mount -t tmpfs tmpfs /dev
for f in null zero full random urandom tty; do touch /dev/$f; mount --bind /run/olddev/$f /dev/$f; done
mkdir /dev/shm /dev/pts
mount --rbind /run/olddev/shm /dev/shm
ln -s "$2" /dev/log
exec ` + refcorosync.Binary + ` -f -c "$1"`

// TestReferenceSyslog runs corosync 3.1.7 with /dev/log pointing at a socket of the test
// and checks its datagrams against ours: for each stderr line, our handler must send a
// datagram exactly when corosync did, and the same one (up to glibc's clock).
func TestReferenceSyslog(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	ns := refcorosync.NewNetns(t)
	dir := t.TempDir()
	// Debug on everywhere but SERV (a section without debug), which sends warnings only;
	// the section's facility is the one left (local4), not the top level's.
	conf := refConf("to_stderr: yes\nto_syslog: yes\nfileline: on\ndebug: on\nsyslog_facility: local3\n" +
		"logger_subsys {\nsubsys: SERV\nsyslog_priority: warning\nsyslog_facility: local4\n}")
	confPath := filepath.Join(dir, "corosync.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := FromKeys(loggingKeys(t, conf))
	if err != nil {
		t.Fatal(err)
	}
	sl := newSyslogListener(t)
	got := make(chan []string, 1)
	go func() {
		var ds []string
		for d := sl.next(t, 5*time.Second); d != ""; d = sl.next(t, time.Second) {
			ds = append(ds, d)
		}
		got <- ds
	}()

	var out syncBuffer
	cmd := ns.Command("unshare", "-m", "sh", "-c", sandbox, "sh", confPath, sl.path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); refcorosync.RemoveFlightRecorder(cmd.Process.Pid); close(exited) }()
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		// corosync removes its blackbox on a clean exit; not after a kill.
		for _, s := range []string{"data", "header"} {
			os.Remove(fmt.Sprintf("/dev/shm/qb-corosync-%d-blackbox-%s", pid, s))
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), "ready to provide service") {
		if time.Now().After(deadline) {
			t.Fatalf("corosync not ready:\n%s", out.String())
		}
		select {
		case <-exited:
			t.Fatalf("corosync exited:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("corosync ignored SIGINT")
	}
	datagrams := <-got
	stderr := splitLines(out.String())
	if len(datagrams) < 20 {
		t.Fatalf("only %d datagrams", len(datagrams))
	}

	r := newReplayer(t, cfg, "syslog", pid, "")
	next := 0
	for _, raw := range stderr {
		l := parseRef(t, &cfg, "stderr", raw)
		ours := r.replay(t, l)
		if ours == "" {
			continue
		}
		if next >= len(datagrams) {
			t.Fatalf("we send %q; corosync sent nothing more", ours)
		}
		real := parseRef(t, &cfg, "syslog", datagrams[next])
		next++
		// glibc stamps the datagram when the logging thread sends it.
		ours = strings.Replace(ours, l.time.Format("Jan _2 15:04:05"), real.syslogTime, 1)
		if ours != real.raw {
			t.Errorf("for %q:\n corosync %q\n ours     %q", raw, real.raw, ours)
		}
	}
	t.Logf("%d stderr lines replayed, %d datagrams compared", len(stderr), len(datagrams))
	if next != len(datagrams) {
		t.Errorf("corosync sent %d datagrams more than we would, first %q", len(datagrams)-next, datagrams[next])
	}
}
