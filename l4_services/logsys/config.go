package logsys

import (
	"fmt"
	"maps"
	"slices"
	"sort"
)

// Debug is logging.debug: off, on (everything down to debug) or trace (down to trace).
type Debug uint8

// The logging.debug values.
const (
	DebugOff Debug = iota
	DebugOn
	DebugTrace
)

// String is the value as corosync.conf spells it.
func (d Debug) String() string {
	switch d {
	case DebugOff:
		return "off"
	case DebugOn:
		return "on"
	case DebugTrace:
		return "trace"
	}
	return fmt.Sprintf("Debug(%d)", uint8(d))
}

// Timestamp is logging.timestamp: off, on (seconds) or hires (milliseconds, corosync
// 3.1.7's default when the key is absent).
type Timestamp uint8

// The logging.timestamp values.
const (
	TimestampOff Timestamp = iota
	TimestampOn
	TimestampHires
)

// String is the value as corosync.conf spells it.
func (t Timestamp) String() string {
	switch t {
	case TimestampOff:
		return "off"
	case TimestampOn:
		return "on"
	case TimestampHires:
		return "hires"
	}
	return fmt.Sprintf("Timestamp(%d)", uint8(t))
}

// Facility is a syslog facility code (LOG_DAEMON is 3); a datagram's priority value is
// facility*8 + priority.
type Facility uint8

// FacilityDaemon is logging.syslog_facility's default.
const FacilityDaemon Facility = 3

// facilityCodes are libqb's facility names (qb_log_facility2int, case-sensitive) with
// glibc's codes.
var facilityCodes = map[string]Facility{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "local0": 16, "local1": 17, "local2": 18,
	"local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// ParseFacility looks a facility name up as libqb does (case-sensitive).
func ParseFacility(name string) (Facility, bool) {
	f, ok := facilityCodes[name]
	return f, ok
}

// String is the facility's libqb name.
func (f Facility) String() string {
	for name, code := range facilityCodes {
		if code == f {
			return name
		}
	}
	return fmt.Sprintf("Facility(%d)", uint8(f))
}

// Config is the logging{} section as corosync 3.1.7 applies it. FromKeys builds it from
// the flattened keys; Default is what an empty logging{} gives.
type Config struct {
	// ToStderr, ToSyslog and ToLogfile are the three destinations (to_stderr, to_syslog,
	// to_logfile). They apply to every subsystem: corosync 3.1.7 accepts to_stderr and
	// to_syslog in logger_subsys but ignores them there.
	ToStderr, ToSyslog, ToLogfile bool
	// Logfile is the log file's path ("" for none). It is opened (and created) even when
	// ToLogfile is off, as corosync does.
	Logfile string
	// SyslogFacility is the facility of every syslog datagram.
	SyslogFacility Facility
	// SyslogPriority is the least severe priority sent to syslog; LogfilePriority the
	// least severe written to the log file and to stderr (corosync filters stderr with
	// logfile_priority too).
	SyslogPriority, LogfilePriority Priority
	// Debug, when on or trace, lowers both priorities to debug or trace.
	Debug Debug
	// Timestamp, Fileline and FunctionName shape the line (see the package documentation).
	Timestamp              Timestamp
	Fileline, FunctionName bool
	// Blackbox is logging.blackbox. It is accepted and kept; there is no flight recorder.
	Blackbox bool
	// Subsys holds the logger_subsys sections by subsystem name. Subsystems without one
	// use the values above.
	Subsys map[string]SubsysConfig
	// Warnings are the deprecation warnings corosync logs for to_file and syslog_level
	// (3.1.7 emits them before its filters exist, so they only show after a reload).
	Warnings []string
}

// SubsysConfig is one logger_subsys section with what it inherits filled in: FromKeys
// copies the top level's priorities, log file switch and log file into keys the section
// lacks, but not Debug, which corosync resets to off in a section without it.
type SubsysConfig struct {
	Debug                           Debug
	SyslogPriority, LogfilePriority Priority
	// Logfile is the subsystem's own file; "" or the top level's path mean the top
	// level's file, switched by the top level's ToLogfile.
	Logfile string
	// ToLogfile switches the subsystem's own file (when Logfile names one).
	ToLogfile bool
}

// Default is the configuration corosync 3.1.7 runs with when logging{} is empty: stderr
// and syslog (facility daemon, priority info), no file, hires timestamps, blackbox on.
func Default() Config {
	return Config{
		ToStderr:        true,
		ToSyslog:        true,
		SyslogFacility:  FacilityDaemon,
		SyslogPriority:  PriorityInfo,
		LogfilePriority: PriorityInfo,
		Timestamp:       TimestampHires,
		Blackbox:        true,
	}
}

// clone copies c with its own Subsys map and Warnings slice.
func (c Config) clone() Config {
	c.Subsys = maps.Clone(c.Subsys)
	c.Warnings = slices.Clone(c.Warnings)
	return c
}

// maxSubsysNameLen is logsys's LOGSYS_MAX_SUBSYS_NAMELEN (names must be shorter).
const maxSubsysNameLen = 64

// validate checks a Config built by hand for values FromKeys cannot produce.
func (c *Config) validate() error {
	prio := func(what string, p Priority) error {
		if p < PriorityEmerg || p > PriorityTrace {
			return fmt.Errorf("logsys: %s %d out of range", what, p)
		}
		return nil
	}
	if err := prio("syslog priority", c.SyslogPriority); err != nil {
		return err
	}
	if err := prio("logfile priority", c.LogfilePriority); err != nil {
		return err
	}
	if c.Debug > DebugTrace {
		return fmt.Errorf("logsys: bad debug value %d", c.Debug)
	}
	if c.Timestamp > TimestampHires {
		return fmt.Errorf("logsys: bad timestamp value %d", c.Timestamp)
	}
	if c.SyslogFacility > 23 {
		return fmt.Errorf("logsys: syslog facility %d out of range", c.SyslogFacility)
	}
	for _, name := range c.subsysNames() {
		s := c.Subsys[name]
		if name == "" || len(name) >= maxSubsysNameLen {
			return fmt.Errorf("logsys: bad subsystem name %q", name)
		}
		if err := prio(name+" syslog priority", s.SyslogPriority); err != nil {
			return err
		}
		if err := prio(name+" logfile priority", s.LogfilePriority); err != nil {
			return err
		}
		if s.Debug > DebugTrace {
			return fmt.Errorf("logsys: %s: bad debug value %d", name, s.Debug)
		}
	}
	return nil
}

// subsysNames lists the configured subsystems in the order corosync visits them.
func (c *Config) subsysNames() []string {
	names := make([]string, 0, len(c.Subsys))
	for name := range c.Subsys {
		names = append(names, name)
	}
	sortSubsys(names)
	return names
}

// sortSubsys orders names as icmap iterates logging.logger_subsys.<name>.subsys: by the
// bytes of "<name>.", so "A-B" (0x2D) comes before "A" ('.' is 0x2E) but "A_B" after.
func sortSubsys(names []string) {
	sort.Slice(names, func(i, j int) bool { return names[i]+"." < names[j]+"." })
}
