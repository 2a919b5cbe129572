package logsys

import (
	"strings"
)

// ConfigError is a logging value corosync 3.1.7 refuses. Key is the flattened key at
// fault; Msg is corosync's reason ("unknown value for debug").
type ConfigError struct {
	Key string
	Msg string
}

// Error reads "KEY: MSG".
func (e *ConfigError) Error() string { return e.Key + ": " + e.Msg }

// CorosyncMessage is the line corosync prints to stderr before exiting on this error.
func (e *ConfigError) CorosyncMessage() string { return "parse error in config: " + e.Msg + "." }

const subsysPrefix = "logging.logger_subsys."

// builtinSubsys are the subsystems corosync 3.1.7 has registered when it reads logging{}
// (LOGSYS_DECLARE_SUBSYS in exec/ plus libqb's "QB"); TOTEM and KNET come later.
var builtinSubsys = map[string]bool{
	"QB": true, "APIDEF": true, "CFG": true, "CMAP": true, "CPG": true, "MAIN": true, "MON": true,
	"PLOAD": true, "QUORUM": true, "SERV": true, "STATS": true, "SYNC": true, "VOTEQ": true,
	"YKD": true, "WD": true,
}

// maxExtraSubsys is how many more logger_subsys names corosync 3.1.7 can register:
// LOGSYS_MAX_SUBSYS_COUNT (32) slots less the builtins.
const maxExtraSubsys = 32 - 15

// FromKeys reads the logging configuration from corosync's flattened keys (logging.* and
// logging.logger_subsys.<name>.*) as corosync_log_config_read does, in the same order, so
// the first bad value is the one corosync reports, with its message. Keys outside
// logging., logging_daemon sections and unknown logging keys are ignored, as corosync
// ignores them. A logger_subsys section counts only when it has its subsys key.
func FromKeys(keys map[string]string) (Config, error) {
	r := keyReader{keys: keys}
	c := Default()
	if err := r.format(&c); err != nil {
		return Config{}, err
	}
	if v, ok := r.get("logging.blackbox"); ok {
		switch v {
		case "on":
			c.Blackbox = true
		case "off":
			c.Blackbox = false
		default:
			return Config{}, r.fail("logging.blackbox", "unknown value for blackbox")
		}
	}
	top := target{debug: DebugOff, syslogPrio: PriorityInfo, filePrio: PriorityInfo, stderr: true, syslog: true}
	facility, err := r.target("logging", true, &top)
	if err != nil {
		return Config{}, err
	}
	c.ToStderr, c.ToSyslog, c.ToLogfile = top.stderr, top.syslog, top.file
	c.Logfile, c.SyslogPriority, c.LogfilePriority, c.Debug = top.logfile, top.syslogPrio, top.filePrio, top.debug
	c.SyslogFacility = facility

	var names []string
	for k := range keys {
		if !strings.HasPrefix(k, subsysPrefix) {
			continue
		}
		// sscanf("logging.logger_subsys.%[^.].%s"): a name without dots, then exactly
		// "subsys".
		name, item, ok := strings.Cut(k[len(subsysPrefix):], ".")
		if ok && name != "" && item == "subsys" {
			names = append(names, name)
		}
	}
	sortSubsys(names)
	extra := 0
	for _, name := range names {
		path := subsysPrefix + name
		if !builtinSubsys[name] {
			extra++
		}
		if len(name) >= maxSubsysNameLen || extra > maxExtraSubsys {
			return Config{}, r.fail(path+".subsys", "unable to create new logging subsystem")
		}
		// A section starts from the top level's current values but with debug off.
		t := top
		t.logfile, t.debug = "", DebugOff
		// Every section sets the one syslog facility: its own or daemon.
		if c.SyslogFacility, err = r.target(path, false, &t); err != nil {
			return Config{}, err
		}
		if c.Subsys == nil {
			c.Subsys = map[string]SubsysConfig{}
		}
		c.Subsys[name] = SubsysConfig{Debug: t.debug, SyslogPriority: t.syslogPrio,
			LogfilePriority: t.filePrio, Logfile: t.logfile, ToLogfile: t.file}
	}
	c.Warnings = r.warnings
	return c, nil
}

type keyReader struct {
	keys     map[string]string
	warnings []string
}

func (r *keyReader) get(key string) (string, bool) {
	v, ok := r.keys[key]
	return v, ok
}

func (r *keyReader) fail(key, msg string) error { return &ConfigError{Key: key, Msg: msg} }

// format is corosync_main_config_format_set: fileline, function_name, timestamp.
func (r *keyReader) format(c *Config) error {
	for _, o := range []struct {
		item string
		dst  *bool
	}{{"fileline", &c.Fileline}, {"function_name", &c.FunctionName}} {
		if v, ok := r.get("logging." + o.item); ok {
			switch v {
			case "on":
				*o.dst = true
			case "off":
			default:
				return r.fail("logging."+o.item, "unknown value for "+o.item)
			}
		}
	}
	if v, ok := r.get("logging.timestamp"); ok {
		switch v {
		case "on":
			c.Timestamp = TimestampOn
		case "hires":
			c.Timestamp = TimestampHires
		case "off":
			c.Timestamp = TimestampOff
		default:
			return r.fail("logging.timestamp", "unknown value for timestamp")
		}
	}
	return nil
}

// target is one logger's settings while corosync_main_config_set runs over it.
type target struct {
	stderr, syslog, file bool
	logfile              string
	syslogPrio, filePrio Priority
	debug                Debug
}

// target is corosync_main_config_set for path ("logging" or a logger_subsys section); it
// returns the syslog facility the section leaves behind.
func (r *keyReader) target(path string, top bool, t *target) (Facility, error) {
	onOff := func(item string, dst *bool, deprecated bool, replacement string, def bool) error {
		v, ok := r.get(path + "." + item)
		if !ok {
			// Only the top level resets a missing switch to its default; to_file has none.
			if top && !deprecated {
				*dst = def
			}
			return nil
		}
		if deprecated {
			r.warnings = append(r.warnings, "Warning: the "+item+" config parameter has been obsoleted."+
				" See corosync.conf man page "+replacement+" directive.")
		}
		switch v {
		case "yes", "on":
			*dst = true
		case "no", "off":
			*dst = false
		default:
			return r.fail(path+"."+item, "unknown value for "+item)
		}
		return nil
	}
	priority := func(item, msg string, dst *Priority) (bool, error) {
		v, ok := r.get(path + "." + item)
		if !ok {
			return false, nil
		}
		p, known := logsysPriorities[strings.ToLower(v)]
		if !known {
			return true, r.fail(path+"."+item, msg)
		}
		*dst = p
		return true, nil
	}

	if err := onOff("to_stderr", &t.stderr, false, "", true); err != nil {
		return 0, err
	}
	if err := onOff("to_syslog", &t.syslog, false, "", true); err != nil {
		return 0, err
	}
	facility := FacilityDaemon
	if v, ok := r.get(path + ".syslog_facility"); ok {
		f, known := ParseFacility(v)
		if !known {
			return 0, r.fail(path+".syslog_facility", "unknown syslog facility specified")
		}
		facility = f
	}
	if _, ok := r.get(path + ".syslog_level"); ok {
		r.warnings = append(r.warnings, "Warning: the syslog_level config parameter has been obsoleted."+
			" See corosync.conf man page syslog_priority directive.")
	}
	if _, err := priority("syslog_level", "unknown syslog level specified", &t.syslogPrio); err != nil {
		return 0, err
	}
	set, err := priority("syslog_priority", "unknown syslog priority specified", &t.syslogPrio)
	if err != nil {
		return 0, err
	}
	if !set && top {
		// The top level's default wins even over its own syslog_level.
		t.syslogPrio = PriorityInfo
	}
	if v, ok := r.get(path + ".logfile"); ok {
		if len(v) >= 4096 {
			return 0, r.fail(path+".logfile", path+": logfile name exceed maximum system filename length")
		}
		t.logfile = v
	}
	if err := onOff("to_file", &t.file, true, "to_logfile", false); err != nil {
		return 0, err
	}
	if err := onOff("to_logfile", &t.file, false, "", false); err != nil {
		return 0, err
	}
	set, err = priority("logfile_priority", "unknown logfile priority specified", &t.filePrio)
	if err != nil {
		return 0, err
	}
	if !set && top {
		t.filePrio = PriorityInfo
	}
	t.debug = DebugOff
	if v, ok := r.get(path + ".debug"); ok {
		switch v {
		case "trace":
			t.debug = DebugTrace
		case "on":
			t.debug = DebugOn
		case "off":
		default:
			return 0, r.fail(path+".debug", "unknown value for debug")
		}
	}
	return facility, nil
}
