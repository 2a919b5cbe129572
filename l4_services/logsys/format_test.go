package logsys

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const startup = "Corosync Cluster Engine 3.1.7 starting up"

// TestFormats checks stderr, file and syslog lines for every combination of timestamp,
// fileline and function_name against the shapes corosync 3.1.7 prints (seen in the
// reference runs of reference_test.go).
func TestFormats(t *testing.T) {
	stamps := map[Timestamp]struct{ libqb, glibc string }{
		TimestampOff:   {"", "Nov  5 10:11:12"},
		TimestampOn:    {"Nov 05 10:11:12 ", "Nov  5 10:11:12"},
		TimestampHires: {"Nov 05 10:11:12.345 ", "Nov  5 10:11:12"},
	}
	sources := []struct {
		fileline, function bool
		src                string
	}{
		{false, false, ""},
		{true, false, " main.c:1397"},
		{false, true, " main"},
		{true, true, " main.c:main:1397"},
	}
	for ts, stamp := range stamps {
		for _, s := range sources {
			name := fmt.Sprintf("timestamp=%v,fileline=%v,function=%v", ts, s.fileline, s.function)
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				cfg := Default()
				cfg.Timestamp, cfg.Fileline, cfg.FunctionName = ts, s.fileline, s.function
				cfg.ToLogfile, cfg.Logfile = true, filepath.Join(dir, "corosync.log")
				sl := newSyslogListener(t)
				h, stderr := testHandler(t, cfg, sl.dial)
				logAt(h, LevelNotice, "MAIN", startup)

				wantStderr := stamp.libqb + "notice  [MAIN  ]" + s.src + " " + startup
				if got := stderr.String(); got != wantStderr+"\n" {
					t.Errorf("stderr:\n got %q\nwant %q", got, wantStderr+"\n")
				}
				// Without a timestamp corosync's file format glues ident and priority.
				glue := " "
				if ts == TimestampOff {
					glue = ""
				}
				wantFile := stamp.libqb + "[1234] node1 corosync" + glue + "notice  [MAIN  ]" + s.src + " " + startup
				b, err := os.ReadFile(cfg.Logfile)
				if err != nil {
					t.Fatal(err)
				}
				if string(b) != wantFile+"\n" {
					t.Errorf("file:\n got %q\nwant %q", b, wantFile+"\n")
				}
				// Syslog drops the stamp and the priority but keeps their blanks.
				blanks := "  "
				if ts == TimestampOff {
					blanks = " "
				}
				wantSyslog := "<29>" + stamp.glibc + " corosync[1234]: " + blanks + "[MAIN  ]" + s.src + " " + startup
				if got := sl.next(t, 2*time.Second); got != wantSyslog {
					t.Errorf("syslog:\n got %q\nwant %q", got, wantSyslog)
				}
			})
		}
	}
}

// TestPriorityNames checks every level's name and padding on stderr.
func TestPriorityNames(t *testing.T) {
	cfg := Default()
	cfg.Timestamp, cfg.Debug = TimestampOff, DebugTrace
	h, stderr := testHandler(t, cfg, nil)
	levels := []slog.Level{LevelEmerg, LevelAlert, LevelCrit, slog.LevelError, slog.LevelWarn,
		LevelNotice, slog.LevelInfo, slog.LevelDebug, LevelTrace}
	for _, l := range levels {
		logAt(h, l, "QUORUM", "m")
	}
	want := []string{"emerg   [QUORUM] m", "alert   [QUORUM] m", "crit    [QUORUM] m",
		"error   [QUORUM] m", "warning [QUORUM] m", "notice  [QUORUM] m", "info    [QUORUM] m",
		"debug   [QUORUM] m", "trace   [QUORUM] m"}
	if got := stderr.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLevelMapping checks levels between the named ones and the round trip.
func TestLevelMapping(t *testing.T) {
	for _, c := range []struct {
		l slog.Level
		p Priority
	}{{-100, PriorityTrace}, {-5, PriorityTrace}, {-4, PriorityDebug}, {-1, PriorityDebug},
		{0, PriorityInfo}, {1, PriorityInfo}, {2, PriorityNotice}, {3, PriorityNotice},
		{4, PriorityWarning}, {8, PriorityError}, {11, PriorityError}, {12, PriorityCrit},
		{16, PriorityAlert}, {20, PriorityEmerg}, {100, PriorityEmerg}} {
		if got := PriorityOf(c.l); got != c.p {
			t.Errorf("PriorityOf(%d) = %v, want %v", c.l, got, c.p)
		}
	}
	for p := PriorityEmerg; p <= PriorityTrace; p++ {
		if PriorityOf(p.Level()) != p {
			t.Errorf("%v does not round-trip", p)
		}
	}
}

// TestSubsysWidth checks libqb's %6g: short names padded, long ones cut.
func TestSubsysWidth(t *testing.T) {
	cfg := Default()
	cfg.Timestamp = TimestampOff
	h, stderr := testHandler(t, cfg, nil)
	logAt(h, slog.LevelInfo, "QB", "a")
	logAt(h, slog.LevelInfo, "ABCDEFGHIJ", "b")
	logAt(h, slog.LevelInfo, "", "c")
	want := "info    [QB    ] a\ninfo    [ABCDEF] b\ninfo    [MAIN  ] c\n"
	if got := stderr.String(); got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

// TestLineLimits checks libqb's 511-byte cut and the trailing newline rule.
func TestLineLimits(t *testing.T) {
	cfg := Default()
	cfg.Timestamp = TimestampOff
	h, stderr := testHandler(t, cfg, nil)
	long := strings.Repeat("x", 600)
	logAt(h, slog.LevelInfo, "MAIN", long)
	logAt(h, slog.LevelInfo, "MAIN", "ends with newline\n")
	logAt(h, slog.LevelInfo, "MAIN", "two\n\n")
	logAt(h, slog.LevelInfo, "MAIN", "inner\nnewline")
	lines := strings.Split(stderr.String(), "\n")
	prefix := "info    [MAIN  ] "
	if want := prefix + long[:511-len(prefix)]; lines[0] != want {
		t.Errorf("long line: got %d bytes, want %d", len(lines[0]), len(want))
	}
	want := []string{prefix + "ends with newline", prefix + "two", prefix + "inner", "newline", ""}
	if got := lines[1:]; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q want %q", got, want)
	}
}

// TestAttrs checks how attributes other than the subsystem are appended.
func TestAttrs(t *testing.T) {
	cfg := Default()
	cfg.Timestamp = TimestampOff
	h, stderr := testHandler(t, cfg, nil)
	l := slog.New(h).With(SubsysKey, "TOTEM", "ring", 0)
	l.Info("plain")
	l.Info("attrs", "node", 2, "addr", "10.0.0.1", "why", "no route", "ok", true, "d", 1500*time.Millisecond)
	l.WithGroup("link").Info("grouped", "id", 1, slog.Group("stats", "rx", 3), "empty", "")
	l.Info("err", "err", fmt.Errorf("bad (thing)"))
	slog.New(h).Info("by record", SubsysKey, "CPG")
	slog.New(h).WithGroup("g").Info("grouped subsys", SubsysKey, "CPG")
	want := []string{
		"info    [TOTEM ] plain (ring=0)",
		"info    [TOTEM ] attrs (ring=0 node=2 addr=10.0.0.1 why=\"no route\" ok=true d=1.5s)",
		"info    [TOTEM ] grouped (ring=0 link.id=1 link.stats.rx=3 link.empty=\"\")",
		"info    [TOTEM ] err (ring=0 err=\"bad (thing)\")",
		"info    [CPG   ] by record",
		"info    [MAIN  ] grouped subsys (g.subsys=CPG)",
	}
	if got := stderr.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFormatStrings pins the format strings corosync builds, quirks included.
func TestFormatStrings(t *testing.T) {
	for _, c := range []struct {
		cfg                  Config
		base, file, syslogFm string
	}{
		{Config{}, "%7p [%6g] %b", "[%P] %H %N%7p [%6g] %b", " [%6g] %b"},
		{Config{Timestamp: TimestampOn}, "%t %7p [%6g] %b", "%t [%P] %H %N %7p [%6g] %b", "  [%6g] %b"},
		{Config{Timestamp: TimestampHires, Fileline: true, FunctionName: true},
			"%T %7p [%6g] %f:%n:%l %b", "%T [%P] %H %N %7p [%6g] %f:%n:%l %b", "  [%6g] %f:%n:%l %b"},
		{Config{FunctionName: true}, "%7p [%6g] %n %b", "[%P] %H %N%7p [%6g] %n %b", " [%6g] %n %b"},
	} {
		base := baseFormat(&c.cfg)
		if base != c.base || fileFormat(base) != c.file || syslogFormat(base) != c.syslogFm {
			t.Errorf("%+v: got %q %q %q", c.cfg, base, fileFormat(base), syslogFormat(base))
		}
	}
	// libqb's static pass and its width and alignment rules.
	if got := staticFormat("%P|%8H|%-10N|%3N|%7p", 42, "host", "corosync"); got != "42|host    |  corosync|cor|%7p" {
		t.Errorf("static: %q", got)
	}
	e := entry{priority: PriorityInfo, subsys: "TOTEM", message: "m", line: 7}
	if got := string(expand(nil, "%-8g|%2l|%5z|%p", &e)); got != "   TOTEM|7 |     |info" {
		t.Errorf("expand: %q", got)
	}
	if got := shortFunc("github.com/x/y/srp.(*Instance).deliver.func1"); got != "Instance.deliver.func1" {
		t.Errorf("shortFunc: %q", got)
	}
}
