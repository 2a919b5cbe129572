// Package logsys is the daemon's logging: a log/slog Handler whose stderr, log file and
// syslog output is byte for byte what corosync 3.1.7's logsys (exec/logsys.c,
// exec/logconfig.c) writes through libqb 2.0.6, so that people and tools reading the
// logs cannot tell the daemons apart.
//
// # Use
//
//	cfg, err := logsys.FromKeys(keys) // logging.* keys as text, from corosync.conf
//	h, err := logsys.New(cfg, logsys.Options{})
//	log := slog.New(h)
//	totem := log.With(logsys.SubsysKey, "TOTEM")
//	totem.Log(ctx, logsys.LevelNotice, "A new membership (1.5) was formed. Members joined: 1")
//
// Reconfigure applies a reloaded logging{} to every logger derived from the handler,
// Reopen reopens the log files (corosync-cfgtool -L), Close closes them.
//
// # Lines
//
// With the default configuration (timestamp hires when the key is absent):
//
//	stderr: Nov 25 10:11:12.345 notice  [TOTEM ] A new membership (1.5) was formed. Members joined: 1
//	file:   Nov 25 10:11:12.345 [1234] node1 corosync notice  [TOTEM ] A new membership ...
//	syslog: <29>Nov 25 10:11:12 corosync[1234]:   [TOTEM ] A new membership ...
//
// The priority is libqb's name (emerg, alert, crit, error, warning, notice, info, debug,
// trace) padded to 7, the subsystem cut or padded to 6. timestamp: on prints seconds
// ("Nov 05 10:11:12", day zero-padded, local time of the record), off prints none; then
// the file line starts "[1234] node1 corosyncnotice  [" — corosync glues the ident to the
// priority when there is no timestamp, and so does this package. fileline: on adds
// " file.go:123" after the subsystem, function_name: on adds " Func" there, or both give
// " file.go:Func:123". The syslog message is the stderr format without timestamp and
// priority, whose blanks stay (so "]:   [" with a timestamp, "]:  [" without), after
// glibc's "<PRI>Mmm dd hh:mm:ss ident[pid]: " (blank-padded day, no hostname), sent as
// one datagram to /dev/log. Lines are cut at 511 bytes and lose one trailing newline, as
// in libqb.
//
// Messages are the record's Message. Corosync has no key=value attributes; any others
// than the subsystem are appended as " (key=value key=value)", values quoted Go-style
// when they hold blanks, '=', quotes, parentheses or unprintable characters, group
// members as group.key. A record without attributes is exactly corosync's line. The
// subsystem comes from a SubsysKey attribute (outside any group), else Options.DefaultSubsys
// ("MAIN"). For %f, %n and %l the record's caller is used: the file's base name, the Go
// function without its package ("Instance.deliver"), the line.
//
// # Levels and filters
//
// slog's Debug, Info, Warn and Error are corosync's debug, info, warning and error;
// LevelTrace, LevelNotice, LevelCrit, LevelAlert and LevelEmerg add the rest. As in 3.1.7:
// stderr and the file take records down to logfile_priority (stderr is not filtered by
// anything else), syslog down to syslog_priority, both info by default; debug: on lowers
// both to debug and debug: trace to trace. Syslog receives debug records as info and trace
// records as debug (libqb's priority bump). A logger_subsys section overrides the
// priorities, debug, logfile and to_logfile for its subsystem; a section without debug
// turns debug off for it even when the top level has it on; to_stderr and to_syslog in a
// section are checked but, as in 3.1.7, have no effect. A subsystem with a file of its own
// writes there instead of the main file.
//
// # Configuration
//
// FromKeys reads the flattened keys in corosync's order and fails on the first bad value
// with corosync's message (*ConfigError; CorosyncMessage is the "parse error in config:
// ...." line corosync prints). It keeps 3.1.7's quirks: every logger_subsys section sets
// the single syslog facility (its own, else daemon), so a top-level syslog_facility only
// holds when no section follows; a top-level syslog_level or to_file is overridden by the
// defaults of syslog_priority and to_logfile; names are limited to 63 bytes and 17
// subsystems beyond corosync's built-in ones. Deprecated keys produce Config.Warnings for
// the daemon to log.
//
// # Differences from corosync 3.1.7
//
// There is no blackbox (the key is accepted) and no logging thread: lines are written
// synchronously under one lock. A syslog send that blocks for a second is dropped (glibc
// would block the logging thread). Enabled answers for the handler's subsystem when With
// set one, else for the most verbose subsystem, so records naming their subsystem per call
// are filtered in Handle. Reconfigure is all or nothing, where corosync keeps what it
// applied before a bad value.
package logsys
