package logsys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// mustKeys is FromKeys that fails the test on error.
func mustKeys(t *testing.T, kv ...string) Config {
	t.Helper()
	keys := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		keys[kv[i]] = kv[i+1]
	}
	cfg, err := FromKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// emit logs one record per (subsys, level) pair, the message naming both.
func emit(h slog.Handler, subsystems []string, levels ...slog.Level) {
	for _, s := range subsystems {
		for _, l := range levels {
			logAt(h, l, s, fmt.Sprintf("%s/%v", s, PriorityOf(l)))
		}
	}
}

// messages strips lines down to their "SUBSYS/priority" messages.
func messages(lines []string) string {
	var out []string
	for _, l := range lines {
		if i := strings.LastIndexByte(l, ' '); i >= 0 {
			out = append(out, l[i+1:])
		}
	}
	return strings.Join(out, " ")
}

// TestFilters checks which records reach stderr, the file and syslog under the
// priority, debug and logger_subsys rules seen in corosync 3.1.7.
func TestFilters(t *testing.T) {
	all := []slog.Level{slog.LevelWarn, LevelNotice, slog.LevelInfo, slog.LevelDebug, LevelTrace}
	for _, c := range []struct {
		name         string
		keys         []string
		stderr, file string
		syslog       string
	}{
		{"default", nil,
			"MAIN/warning MAIN/notice MAIN/info TOTEM/warning TOTEM/notice TOTEM/info",
			"MAIN/warning MAIN/notice MAIN/info TOTEM/warning TOTEM/notice TOTEM/info",
			"MAIN/warning MAIN/notice MAIN/info TOTEM/warning TOTEM/notice TOTEM/info"},
		{"debug on", []string{"logging.debug", "on"},
			"MAIN/warning MAIN/notice MAIN/info MAIN/debug TOTEM/warning TOTEM/notice TOTEM/info TOTEM/debug",
			"MAIN/warning MAIN/notice MAIN/info MAIN/debug TOTEM/warning TOTEM/notice TOTEM/info TOTEM/debug",
			"MAIN/warning MAIN/notice MAIN/info MAIN/debug TOTEM/warning TOTEM/notice TOTEM/info TOTEM/debug"},
		{"debug trace", []string{"logging.debug", "trace"},
			"MAIN/warning MAIN/notice MAIN/info MAIN/debug MAIN/trace TOTEM/warning TOTEM/notice TOTEM/info TOTEM/debug TOTEM/trace",
			"MAIN/warning MAIN/notice MAIN/info MAIN/debug MAIN/trace TOTEM/warning TOTEM/notice TOTEM/info TOTEM/debug TOTEM/trace",
			"MAIN/warning MAIN/notice MAIN/info MAIN/debug MAIN/trace TOTEM/warning TOTEM/notice TOTEM/info TOTEM/debug TOTEM/trace"},
		{"logfile_priority filters stderr too", []string{"logging.logfile_priority", "warning", "logging.syslog_priority", "notice"},
			"MAIN/warning TOTEM/warning", "MAIN/warning TOTEM/warning",
			"MAIN/warning MAIN/notice TOTEM/warning TOTEM/notice"},
		{"subsys debug", []string{"logging.logger_subsys.TOTEM.subsys", "TOTEM", "logging.logger_subsys.TOTEM.debug", "on"},
			"MAIN/warning MAIN/notice MAIN/info TOTEM/warning TOTEM/notice TOTEM/info TOTEM/debug",
			"MAIN/warning MAIN/notice MAIN/info TOTEM/warning TOTEM/notice TOTEM/info TOTEM/debug",
			"MAIN/warning MAIN/notice MAIN/info TOTEM/warning TOTEM/notice TOTEM/info TOTEM/debug"},
		{"section without debug turns it off", []string{"logging.debug", "on", "logging.logger_subsys.TOTEM.subsys", "TOTEM",
			"logging.logger_subsys.TOTEM.logfile_priority", "err"},
			"MAIN/warning MAIN/notice MAIN/info MAIN/debug",
			"MAIN/warning MAIN/notice MAIN/info MAIN/debug",
			"MAIN/warning MAIN/notice MAIN/info MAIN/debug TOTEM/warning TOTEM/notice TOTEM/info"},
		{"subsys to_stderr and to_syslog do nothing", []string{"logging.logger_subsys.TOTEM.subsys", "TOTEM",
			"logging.logger_subsys.TOTEM.to_stderr", "no", "logging.logger_subsys.TOTEM.to_syslog", "no",
			"logging.logger_subsys.TOTEM.to_logfile", "no"},
			"MAIN/warning MAIN/notice MAIN/info TOTEM/warning TOTEM/notice TOTEM/info",
			"MAIN/warning MAIN/notice MAIN/info TOTEM/warning TOTEM/notice TOTEM/info",
			"MAIN/warning MAIN/notice MAIN/info TOTEM/warning TOTEM/notice TOTEM/info"},
		{"destinations off", []string{"logging.to_stderr", "no", "logging.to_logfile", "no", "logging.to_syslog", "no"}, "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			keys := append([]string{"logging.to_logfile", "yes", "logging.logfile", filepath.Join(dir, "log")}, c.keys...)
			cfg := mustKeys(t, keys...)
			sl := newSyslogListener(t)
			h, stderr := testHandler(t, cfg, sl.dial)
			emit(h, []string{"MAIN", "TOTEM"}, all...)
			if got := messages(stderr.Lines()); got != c.stderr {
				t.Errorf("stderr: got %q want %q", got, c.stderr)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			if got := messages(strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")); got != c.file {
				t.Errorf("file: got %q want %q", got, c.file)
			}
			var sys []string
			for d := sl.next(t, 100e6); d != ""; d = sl.next(t, 100e6) {
				sys = append(sys, d)
			}
			if got := messages(sys); got != c.syslog {
				t.Errorf("syslog: got %q want %q", got, c.syslog)
			}
		})
	}
}

// TestSubsysLogfile checks a subsystem with a file of its own: its records go there only,
// switched by its own to_logfile, and every named file is created even when unused.
func TestSubsysLogfile(t *testing.T) {
	dir := t.TempDir()
	main, quorum, unused := filepath.Join(dir, "main.log"), filepath.Join(dir, "quorum.log"), filepath.Join(dir, "unused.log")
	cfg := mustKeys(t, "logging.to_logfile", "yes", "logging.logfile", main, "logging.timestamp", "off",
		"logging.logger_subsys.QUORUM.subsys", "QUORUM", "logging.logger_subsys.QUORUM.logfile", quorum,
		"logging.logger_subsys.QUORUM.debug", "on",
		"logging.logger_subsys.CPG.subsys", "CPG", "logging.logger_subsys.CPG.logfile", unused,
		"logging.logger_subsys.CPG.to_logfile", "no")
	h, stderr := testHandler(t, cfg, nil)
	emit(h, []string{"MAIN", "QUORUM", "CPG"}, slog.LevelInfo, slog.LevelDebug)
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := read(main), "[1234] node1 corosyncinfo    [MAIN  ] MAIN/info\n"; got != want {
		t.Errorf("main file %q want %q", got, want)
	}
	if got, want := read(quorum), "[1234] node1 corosyncinfo    [QUORUM] QUORUM/info\n[1234] node1 corosyncdebug   [QUORUM] QUORUM/debug\n"; got != want {
		t.Errorf("quorum file %q want %q", got, want)
	}
	if got := read(unused); got != "" {
		t.Errorf("CPG's file (to_logfile off) got %q", got)
	}
	if got, want := messages(stderr.Lines()), "MAIN/info QUORUM/info QUORUM/debug CPG/info"; got != want {
		t.Errorf("stderr %q want %q", got, want)
	}
}

// TestEnabled checks Enabled against the handler's subsystem and the most verbose one.
func TestEnabled(t *testing.T) {
	cfg := mustKeys(t, "logging.logger_subsys.TOTEM.subsys", "TOTEM", "logging.logger_subsys.TOTEM.debug", "trace",
		"logging.logger_subsys.CPG.subsys", "CPG", "logging.logger_subsys.CPG.logfile_priority", "warning",
		"logging.logger_subsys.CPG.syslog_priority", "warning")
	h, _ := testHandler(t, cfg, nil)
	ctx := context.Background()
	main := h.WithAttrs([]slog.Attr{slog.String(SubsysKey, "MAIN")})
	totem := h.WithAttrs([]slog.Attr{slog.String(SubsysKey, "TOTEM")})
	cpg := h.WithAttrs([]slog.Attr{slog.String(SubsysKey, "CPG")})
	for _, c := range []struct {
		h    slog.Handler
		l    slog.Level
		want bool
	}{
		{main, slog.LevelInfo, true}, {main, slog.LevelDebug, false},
		{totem, LevelTrace, true}, {cpg, LevelNotice, false}, {cpg, slog.LevelWarn, true},
		{h, LevelTrace, true}, // some subsystem takes trace
	} {
		if got := c.h.Enabled(ctx, c.l); got != c.want {
			t.Errorf("%v at %v: got %v", c.h.(*Handler).subsys, c.l, got)
		}
	}
	off := Default()
	off.ToStderr, off.ToSyslog = false, false
	if err := h.Reconfigure(off); err != nil {
		t.Fatal(err)
	}
	if h.Enabled(ctx, LevelEmerg) || totem.Enabled(ctx, LevelEmerg) {
		t.Error("enabled with every destination off")
	}
}

// TestReconfigure checks that a reload reaches loggers derived before it, moves the log
// file, and that a file that cannot be opened changes nothing.
func TestReconfigure(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	h, stderr := testHandler(t, mustKeys(t, "logging.timestamp", "off", "logging.to_logfile", "yes", "logging.logfile", first), nil)
	totem := slog.New(h).With(SubsysKey, "TOTEM")
	totem.Debug("hidden")
	if err := h.Reconfigure(mustKeys(t, "logging.timestamp", "on", "logging.debug", "on", "logging.to_logfile", "yes", "logging.logfile", second)); err != nil {
		t.Fatal(err)
	}
	totem.Debug("shown")
	if got, want := stderr.String(), "Nov 05 10:11:12 debug   [TOTEM ] shown\n"; got != want {
		t.Errorf("stderr %q want %q", got, want)
	}
	if b, _ := os.ReadFile(second); string(b) != "Nov 05 10:11:12 [1234] node1 corosync debug   [TOTEM ] shown\n" {
		t.Errorf("new file %q", b)
	}
	if b, _ := os.ReadFile(first); len(b) != 0 {
		t.Errorf("old file written: %q", b)
	}

	bad := mustKeys(t, "logging.debug", "off", "logging.to_logfile", "yes", "logging.logfile", filepath.Join(dir, "missing", "x.log"))
	err := h.Reconfigure(bad)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != "logging.logfile" ||
		ce.CorosyncMessage() != "parse error in config: Can't open logfile '"+filepath.Join(dir, "missing", "x.log")+"' for reason: No such file or directory (2)." {
		t.Fatalf("got %v", err)
	}
	totem.Debug("still shown")
	if !strings.HasSuffix(stderr.String(), "debug   [TOTEM ] still shown\n") || h.Config().Debug != DebugOn {
		t.Errorf("failed reload changed the configuration: %q", stderr.String())
	}
	if _, err := New(bad, Options{}); err == nil || !strings.Contains(err.Error(), "Can't open logfile") {
		t.Errorf("New with a bad file: %v", err)
	}
	if err := h.Reconfigure(Config{SyslogPriority: 9}); err == nil {
		t.Error("out-of-range priority accepted")
	}
}

// TestReopen checks corosync-cfgtool -L's effect: after logrotate renames the file, lines
// go to a new file by the old name.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "corosync.log")
	h, _ := testHandler(t, mustKeys(t, "logging.timestamp", "off", "logging.to_logfile", "yes", "logging.logfile", path), nil)
	logAt(h, slog.LevelInfo, "MAIN", "before")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	logAt(h, slog.LevelInfo, "MAIN", "renamed")
	if err := h.Reopen(); err != nil {
		t.Fatal(err)
	}
	logAt(h, slog.LevelInfo, "MAIN", "after")
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if messages(strings.Split(strings.TrimSpace(string(old)), "\n")) != "before renamed" || messages([]string{strings.TrimSpace(string(cur))}) != "after" {
		t.Errorf("old %q new %q", old, cur)
	}
	// A file that cannot be reopened keeps the old descriptor and is reported.
	if err := os.Rename(dir, dir+".gone"); err != nil {
		t.Fatal(err)
	}
	defer os.Rename(dir+".gone", dir)
	if err := h.Reopen(); err == nil || !strings.Contains(err.Error(), "Unable to reopen log file "+path+": No such file or directory (2)") {
		t.Errorf("reopen in a missing directory: %v", err)
	}
	logAt(h, slog.LevelInfo, "MAIN", "kept")
	if cur, _ := os.ReadFile(dir + ".gone/corosync.log"); !strings.HasSuffix(string(cur), "] kept\n") {
		t.Errorf("old descriptor not kept: %q", cur)
	}
}

// TestClose checks that records after Close are dropped and the calls stay safe.
func TestClose(t *testing.T) {
	h, stderr := testHandler(t, Default(), nil)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	logAt(h, LevelEmerg, "MAIN", "after close")
	if stderr.String() != "" || h.Close() != nil || h.Reopen() == nil || h.Reconfigure(Default()) == nil {
		t.Errorf("after Close: stderr %q", stderr.String())
	}
}

// TestConcurrent logs from many goroutines through derived loggers while reloading and
// reopening, and checks every line arrives whole (run with -race).
func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.log")
	cfg := mustKeys(t, "logging.timestamp", "off", "logging.to_logfile", "yes", "logging.logfile", path)
	sl := newSyslogListener(t)
	h, stderr := testHandler(t, cfg, sl.dial)
	go func() { // drain syslog so sends never wait
		for sl.next(t, 2e9) != "" {
		}
	}()
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := slog.New(h).With(SubsysKey, fmt.Sprintf("W%d", w), "w", w)
			for i := 0; i < each; i++ {
				l.Info("message", "i", i)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			if err := h.Reconfigure(cfg); err != nil {
				t.Error(err)
			}
			if err := h.Reopen(); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	whole := regexp.MustCompile(`^info    \[W(\d) +\] message \(w=(\d) i=\d+\)$`)
	lines := stderr.Lines()
	if len(lines) != workers*each {
		t.Fatalf("%d stderr lines, want %d", len(lines), workers*each)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		m := whole.FindStringSubmatch(l)
		if m == nil || m[1] != m[2] {
			t.Fatalf("torn line %q", l)
		}
		seen[l] = true
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct lines", len(seen))
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n != workers*each {
		t.Errorf("%d file lines", n)
	}
}
