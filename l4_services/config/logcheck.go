package config

import "strings"

// syslogFacilities are libqb's facility names (qb_log_facility2int, case-sensitive).
var syslogFacilities = setOf("auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail",
	"news", "syslog", "user", "uucp", "local0", "local1", "local2", "local3", "local4", "local5",
	"local6", "local7")

// syslogPriorities are logsys's priority names (logsys_priority_id_get, case-insensitive).
var syslogPriorities = setOf("alert", "crit", "debug", "emerg", "err", "error", "info", "notice", "warning")

// checkLogging replays corosync_log_config_read's checks of logging.* and of every
// logging.logger_subsys.<name> that has a subsys key. It does not open log files.
func (s *loader) checkLogging() error {
	choice := func(key string, msg string, allowed ...string) error {
		if v, ok := s.str(key); ok && !oneOf(v, allowed...) {
			return s.fail(key, "%s", msg)
		}
		return nil
	}
	for _, c := range []struct {
		key, msg string
		allowed  []string
	}{
		{"logging.fileline", "unknown value for fileline", []string{"on", "off"}},
		{"logging.function_name", "unknown value for function_name", []string{"on", "off"}},
		{"logging.timestamp", "unknown value for timestamp", []string{"on", "hires", "off"}},
		{"logging.blackbox", "unknown value for blackbox", []string{"on", "off"}},
	} {
		if err := choice(c.key, c.msg, c.allowed...); err != nil {
			return err
		}
	}
	if err := s.checkLogTarget("logging"); err != nil {
		return err
	}
	for _, key := range s.keys("logging.logger_subsys.") {
		sub, item, ok := scanSegment(key, "logging.logger_subsys.")
		if !ok || item != "subsys" {
			continue
		}
		if err := s.checkLogTarget("logging.logger_subsys." + sub); err != nil {
			return err
		}
	}
	return nil
}

// checkLogTarget is corosync_main_config_set's checks for the logger at path.
func (s *loader) checkLogTarget(path string) error {
	onOff := []string{"yes", "on", "no", "off"}
	priority := func(item, msg string) error {
		if v, ok := s.str(path + "." + item); ok && !syslogPriorities[strings.ToLower(v)] {
			return s.fail(path+"."+item, "%s", msg)
		}
		return nil
	}
	checks := []func() error{
		func() error { return s.logChoice(path, "to_stderr", onOff) },
		func() error { return s.logChoice(path, "to_syslog", onOff) },
		func() error {
			if v, ok := s.str(path + ".syslog_facility"); ok && !syslogFacilities[v] {
				return s.fail(path+".syslog_facility", "unknown syslog facility specified")
			}
			return nil
		},
		func() error { return priority("syslog_level", "unknown syslog level specified") },
		func() error { return priority("syslog_priority", "unknown syslog priority specified") },
		func() error {
			if v, ok := s.str(path + ".logfile"); ok && len(v) >= 4096 {
				return s.fail(path+".logfile", "%s: logfile name exceed maximum system filename length", path)
			}
			return nil
		},
		func() error { return s.logChoice(path, "to_file", onOff) },
		func() error { return s.logChoice(path, "to_logfile", onOff) },
		func() error { return priority("logfile_priority", "unknown logfile priority specified") },
		func() error { return s.logChoice(path, "debug", []string{"trace", "on", "off"}) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (s *loader) logChoice(path, item string, allowed []string) error {
	if v, ok := s.str(path + "." + item); ok && !oneOf(v, allowed...) {
		return s.fail(path+"."+item, "unknown value for %s", item)
	}
	return nil
}
