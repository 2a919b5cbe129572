package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// levelNotice is corosync's notice level.
const levelNotice = slog.Level(2)

// logOutput is the daemon's log configuration: one slog handler whose settings the
// logging{} section changes at start and on reload.
type logOutput struct {
	logger *slog.Logger
	h      *lineHandler
}

func newLogOutput(w io.Writer) *logOutput {
	h := &lineHandler{state: &lineState{w: w, timestamp: true, level: slog.LevelInfo}}
	return &logOutput{logger: slog.New(h), h: h}
}

// configure applies logging.* keys (to_stderr, timestamp, debug).
func (l *logOutput) configure(keys map[string]string) error {
	s := l.h.state
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timestamp = keys["logging.timestamp"] != "off"
	switch keys["logging.debug"] {
	case "on", "trace":
		s.level = slog.LevelDebug
	default:
		s.level = slog.LevelInfo
	}
	s.off = keys["logging.to_stderr"] == "no"
	return nil
}

func (l *logOutput) reopen() error { return nil }

type lineState struct {
	mu        sync.Mutex
	w         io.Writer
	timestamp bool
	off       bool
	level     slog.Level
}

// lineHandler writes corosync's stderr format: "Nov 25 10:11:12.345 notice  [MAIN  ] text".
type lineHandler struct {
	state  *lineState
	subsys string
	attrs  []slog.Attr
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool {
	h.state.mu.Lock()
	defer h.state.mu.Unlock()
	return l >= h.state.level && !h.state.off
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warning"
	case l >= levelNotice:
		return "notice"
	case l >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	subsys := h.subsys
	var extra []string
	add := func(a slog.Attr) bool {
		if a.Key == "subsys" {
			subsys = a.Value.String()
		} else {
			extra = append(extra, a.Key+"="+a.Value.String())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if subsys == "" {
		subsys = "MAIN"
	}
	var b strings.Builder
	h.state.mu.Lock()
	defer h.state.mu.Unlock()
	if h.state.timestamp {
		b.WriteString(r.Time.Format(time.StampMilli) + " ")
	}
	fmt.Fprintf(&b, "%-7s [%-6s] %s", levelName(r.Level), subsys, r.Message)
	if len(extra) > 0 {
		b.WriteString(" (" + strings.Join(extra, " ") + ")")
	}
	b.WriteByte('\n')
	_, err := io.WriteString(h.state.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &n
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
