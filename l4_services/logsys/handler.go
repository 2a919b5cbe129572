package logsys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// SubsysKey is the attribute naming a record's subsystem ("TOTEM", "QUORUM", "MAIN",
// "KNET", "CMAP", "CFG", "SERV", "SYNC", "CPG", "VOTEQ", "QB", ...), usually set once:
// logger.With(logsys.SubsysKey, "TOTEM"). It is printed in the brackets, not as an attribute.
const SubsysKey = "subsys"

// Options are the parts of a line that come from the process rather than the
// configuration. Zero fields take the defaults given.
type Options struct {
	// Stderr receives the stderr lines (os.Stderr).
	Stderr io.Writer
	// Now, when set, stamps every line instead of the record's time (for tests). Times are
	// printed in their own location; time.Now's is the local zone, as libqb prints.
	Now func() time.Time
	// Hostname is the file lines' host (os.Hostname, else "localhost" as libqb).
	Hostname string
	// Ident is the name in file lines and the syslog tag ("corosync").
	Ident string
	// PID is the pid in file lines and syslog tags (os.Getpid).
	PID int
	// DialSyslog connects to the syslog daemon (a datagram socket on /dev/log).
	DialSyslog func() (net.Conn, error)
	// DefaultSubsys names records without a subsystem ("MAIN").
	DefaultSubsys string
}

// Handler is a slog.Handler writing corosync 3.1.7's log lines to stderr, log files and
// syslog. Handlers derived with WithAttrs and WithGroup share the configuration and the
// open files of the one New returned, so Reconfigure, Reopen and Close act on all.
type Handler struct {
	core   *core
	subsys string
	attrs  []byte // rendered " key=value" pairs from WithAttrs
	groups string // open groups as "a.b."
}

// core is what all derived handlers share.
type core struct {
	opts  Options
	state atomic.Pointer[state]
	// source resolves a record's PC to file, function and line (replaced in tests).
	source func(pc uintptr) (file, function string, line int)

	mu     sync.Mutex // serialises output and guards the fields below
	files  map[string]*os.File
	syslog syslogSender
	closed bool
}

var errClosed = errors.New("logsys: handler closed")

// New opens what cfg asks for (log files are created even when to_logfile is off, as
// corosync does) and returns the handler. A file that cannot be opened is a *ConfigError
// with corosync's message.
func New(cfg Config, opts Options) (*Handler, error) {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Hostname == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		opts.Hostname = host
	}
	if opts.Ident == "" {
		opts.Ident = "corosync"
	}
	if opts.PID == 0 {
		opts.PID = os.Getpid()
	}
	if opts.DialSyslog == nil {
		opts.DialSyslog = dialDevLog
	}
	if opts.DefaultSubsys == "" {
		opts.DefaultSubsys = "MAIN"
	}
	c := &core{opts: opts, source: frameSource, files: map[string]*os.File{}}
	c.syslog.dial = opts.DialSyslog
	h := &Handler{core: c}
	if err := h.Reconfigure(cfg); err != nil {
		return nil, err
	}
	return h, nil
}

// Reconfigure applies cfg to this handler and every handler derived from it, as
// corosync reloads logging{} at run time. It opens new log files before switching and
// closes those no longer named; if one cannot be opened nothing changes.
func (h *Handler) Reconfigure(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	c := h.core
	st := compile(cfg, c.opts.PID, c.opts.Hostname, c.opts.Ident)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	opened := map[string]*os.File{}
	for _, p := range st.paths {
		if c.files[p.path] != nil || opened[p.path] != nil {
			continue
		}
		f, err := openLog(p.path)
		if err != nil {
			for _, f := range opened {
				f.Close()
			}
			return openError(p.key, p.path, err)
		}
		opened[p.path] = f
	}
	keep := map[string]bool{}
	for _, p := range st.paths {
		keep[p.path] = true
	}
	for path, f := range c.files {
		if !keep[path] {
			f.Close()
			delete(c.files, path)
		}
	}
	for path, f := range opened {
		c.files[path] = f
	}
	c.state.Store(st)
	return nil
}

// Config returns (a copy of) the configuration in force.
func (h *Handler) Config() Config { return h.core.state.Load().cfg.clone() }

// Reopen reopens every log file by name (corosync-cfgtool -L, after logrotate moved
// them). A file that cannot be reopened keeps its old descriptor and is reported.
func (h *Handler) Reopen() error {
	c := h.core
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	paths := make([]string, 0, len(c.files))
	for p := range c.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var errs []error
	for _, p := range paths {
		f, err := openLog(p)
		if err != nil {
			text, code := Strerror(err)
			errs = append(errs, fmt.Errorf("Unable to reopen log file %s: %s (%d)", p, text, code))
			continue
		}
		c.files[p].Close()
		c.files[p] = f
	}
	return errors.Join(errs...)
}

// Close closes the log files and the syslog socket; later records are dropped.
func (h *Handler) Close() error {
	c := h.core
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	for p, f := range c.files {
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(c.files, p)
	}
	if err := c.syslog.close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Enabled reports whether a record at l could go anywhere: for the handler's subsystem
// when With set one, else for the most verbose subsystem.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	p := PriorityOf(l)
	st := h.core.state.Load()
	if h.subsys != "" {
		return st.rule(h.subsys).loosest() >= p
	}
	return st.loosestAll >= p
}

// WithAttrs returns a handler adding attrs to every record; a top-level SubsysKey
// attribute sets the subsystem instead.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]byte(nil), h.attrs...)
	for _, a := range attrs {
		if name, ok := subsysOf(h.groups, a); ok {
			n.subsys = name
			continue
		}
		n.attrs = appendAttr(n.attrs, h.groups, a)
	}
	return &n
}

// WithGroup returns a handler qualifying later attribute keys with name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.groups = h.groups + name + "."
	return &n
}

func subsysOf(groups string, a slog.Attr) (string, bool) {
	if groups != "" || a.Key != SubsysKey {
		return "", false
	}
	v := a.Value.Resolve()
	if v.Kind() != slog.KindString || v.String() == "" {
		return "", false
	}
	return v.String(), true
}

// Handle writes r to the destinations its subsystem's rule lets it reach.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	c := h.core
	subsys := h.subsys
	attrs := h.attrs
	copied := false
	r.Attrs(func(a slog.Attr) bool {
		if name, ok := subsysOf(h.groups, a); ok {
			subsys = name
			return true
		}
		if !copied {
			attrs = append([]byte(nil), attrs...)
			copied = true
		}
		attrs = appendAttr(attrs, h.groups, a)
		return true
	})
	if subsys == "" {
		subsys = c.opts.DefaultSubsys
	}
	st := c.state.Load()
	rl := st.rule(subsys)
	p := PriorityOf(r.Level)
	toStderr, toFile, toSyslog := rl.stderr >= p, rl.file >= p, rl.syslog >= p
	if !toStderr && !toFile && !toSyslog {
		return nil
	}

	e := entry{priority: p, subsys: subsys, message: r.Message}
	if len(attrs) > 0 {
		e.message = r.Message + " (" + string(attrs[1:]) + ")"
	}
	e.message = clipMessage(e.message)
	switch {
	case c.opts.Now != nil:
		e.time = c.opts.Now()
	case !r.Time.IsZero():
		e.time = r.Time
	default:
		e.time = time.Now()
	}
	if st.needSource {
		e.file, e.function, e.line = c.source(r.PC)
	}

	var stderrLine, fileLine, datagram []byte
	if toStderr {
		stderrLine = append(expand(nil, st.stderrFmt, &e), '\n')
	}
	if toFile {
		fileLine = append(expand(nil, st.fileFmt, &e), '\n')
	}
	if toSyslog {
		if sp, ok := syslogPriority(p); ok {
			datagram = syslogHeader(nil, st.cfg.SyslogFacility, sp, e.time, c.opts.Ident, c.opts.PID)
			datagram = expand(datagram, st.syslogFmt, &e)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	var errs []error
	if stderrLine != nil {
		if _, err := c.opts.Stderr.Write(stderrLine); err != nil {
			errs = append(errs, err)
		}
	}
	if fileLine != nil {
		// A reload may have closed the file since st was loaded.
		if f := c.files[rl.path]; f != nil {
			if _, err := f.Write(fileLine); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if datagram != nil {
		// Like glibc, a syslog that cannot be reached loses the line silently.
		c.syslog.send(datagram)
	}
	return errors.Join(errs...)
}
