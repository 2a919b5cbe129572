package logsys

import "log/slog"

// Levels beyond slog's four, numbered so that slog.LevelDebug, LevelInfo, LevelWarn and
// LevelError keep their meaning and map to corosync's debug, info, warning and error.
const (
	// LevelTrace is corosync's "debug: trace" level (LOG_TRACE, printed "trace").
	LevelTrace slog.Level = -8
	// LevelNotice is LOG_NOTICE, corosync's usual level for state changes.
	LevelNotice slog.Level = 2
	// LevelCrit is LOG_CRIT.
	LevelCrit slog.Level = 12
	// LevelAlert is LOG_ALERT.
	LevelAlert slog.Level = 16
	// LevelEmerg is LOG_EMERG.
	LevelEmerg slog.Level = 20
)

// Priority is a syslog priority as libqb numbers it: 0 (emerg) is the most severe and
// PriorityTrace (8, libqb's LOG_TRACE) the least.
type Priority int8

// The priorities, in syslog's order.
const (
	PriorityEmerg Priority = iota
	PriorityAlert
	PriorityCrit
	PriorityError
	PriorityWarning
	PriorityNotice
	PriorityInfo
	PriorityDebug
	PriorityTrace
)

// priorityNames are libqb's names for %p (log_format.c), not syslog's ("error", not "err").
var priorityNames = [...]string{"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", "trace"}

// String is the name corosync prints for the priority ("notice", "warning", ...).
func (p Priority) String() string {
	if p < 0 {
		return priorityNames[0]
	}
	if int(p) >= len(priorityNames) {
		return priorityNames[PriorityTrace]
	}
	return priorityNames[p]
}

// PriorityOf maps a slog level to the priority corosync would log it at. A level between
// two named levels takes the less severe one (slog.LevelInfo+1 is info).
func PriorityOf(l slog.Level) Priority {
	switch {
	case l >= LevelEmerg:
		return PriorityEmerg
	case l >= LevelAlert:
		return PriorityAlert
	case l >= LevelCrit:
		return PriorityCrit
	case l >= slog.LevelError:
		return PriorityError
	case l >= slog.LevelWarn:
		return PriorityWarning
	case l >= LevelNotice:
		return PriorityNotice
	case l >= slog.LevelInfo:
		return PriorityInfo
	case l >= slog.LevelDebug:
		return PriorityDebug
	default:
		return PriorityTrace
	}
}

// Level is the slog level that logs at p.
func (p Priority) Level() slog.Level {
	levels := [...]slog.Level{LevelEmerg, LevelAlert, LevelCrit, slog.LevelError, slog.LevelWarn,
		LevelNotice, slog.LevelInfo, slog.LevelDebug, LevelTrace}
	if p < 0 {
		return levels[0]
	}
	if int(p) >= len(levels) {
		return LevelTrace
	}
	return levels[p]
}

// logsysPriorities are the names logging.*_priority accept (logsys_priority_id_get,
// compared case-insensitively): syslog's, with "error" as well as "err", and no "trace".
var logsysPriorities = map[string]Priority{
	"alert": PriorityAlert, "crit": PriorityCrit, "debug": PriorityDebug, "emerg": PriorityEmerg,
	"err": PriorityError, "error": PriorityError, "info": PriorityInfo, "notice": PriorityNotice,
	"warning": PriorityWarning,
}
