package main

import (
	"errors"
	"io"
	"log/slog"

	"github.com/corosync-go/corosync/l4_services/logsys"
)

// levelNotice is corosync's notice level.
const levelNotice = logsys.LevelNotice

// exitLogConfigError is corosync's status for a logging{} value it refuses.
const exitLogConfigError = 7

// logOutput is the daemon's logging: one logsys handler that the logging{} section
// configures at start and on reload.
type logOutput struct {
	logger *slog.Logger
	h      *logsys.Handler
}

// newLogOutput logs to w as corosync does before it has read its configuration (stderr,
// high-resolution timestamps); syslog starts only once the configuration asks for it, so
// that a refused file does not reach the system log.
func newLogOutput(w io.Writer) *logOutput {
	cfg := logsys.Default()
	cfg.ToSyslog = false
	h, err := logsys.New(cfg, logsys.Options{Stderr: w})
	if err != nil {
		// The default configuration opens no file; this cannot fail.
		panic("logsys: default configuration refused: " + err.Error())
	}
	return &logOutput{logger: slog.New(h), h: h}
}

// configure applies the logging.* keys; a refused value is corosync's status 7.
func (l *logOutput) configure(keys map[string]string) error {
	cfg, err := logsys.FromKeys(keys)
	if err != nil {
		return err
	}
	return l.h.Reconfigure(cfg)
}

// configError reports whether err is a refused logging value (exit status 7) and its text.
func configError(err error) (string, bool) {
	var ce *logsys.ConfigError
	if errors.As(err, &ce) {
		return ce.CorosyncMessage(), true
	}
	return "", false
}

func (l *logOutput) reopen() error { return l.h.Reopen() }

func (l *logOutput) close() { l.h.Close() }
