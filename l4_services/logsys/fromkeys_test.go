package logsys

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func keysOf(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestFromKeysDefaults checks an empty logging{} and that other keys are ignored.
func TestFromKeysDefaults(t *testing.T) {
	cfg, err := FromKeys(keysOf("totem.token", "1000", "logging.logging_daemon.x.name", "x", "logging.unknown", "?"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("got %+v want %+v", cfg, Default())
	}
	d := Default()
	if !d.ToStderr || !d.ToSyslog || d.ToLogfile || d.Timestamp != TimestampHires || d.SyslogFacility != FacilityDaemon ||
		d.SyslogPriority != PriorityInfo || d.LogfilePriority != PriorityInfo || !d.Blackbox || d.Debug != DebugOff {
		t.Errorf("Default() = %+v", d)
	}
}

// TestFromKeysOptions sets every option and checks the result.
func TestFromKeysOptions(t *testing.T) {
	cfg, err := FromKeys(keysOf(
		"logging.to_stderr", "off", "logging.to_syslog", "no", "logging.to_logfile", "on",
		"logging.logfile", "/var/log/corosync/corosync.log", "logging.syslog_facility", "local7",
		"logging.syslog_priority", "WARNING", "logging.logfile_priority", "err", "logging.debug", "trace",
		"logging.timestamp", "on", "logging.fileline", "on", "logging.function_name", "on", "logging.blackbox", "off",
		"logging.logger_subsys.TOTEM.subsys", "TOTEM", "logging.logger_subsys.TOTEM.debug", "on",
		"logging.logger_subsys.TOTEM.syslog_priority", "crit", "logging.logger_subsys.TOTEM.logfile_priority", "Alert",
		"logging.logger_subsys.TOTEM.logfile", "/tmp/totem.log", "logging.logger_subsys.TOTEM.to_logfile", "no",
		"logging.logger_subsys.TOTEM.syslog_facility", "local2",
		"logging.logger_subsys.QUORUM.subsys", "QUORUM", // inherits all but debug
		"logging.logger_subsys.NOSUB.debug", "on", // no subsys key: not a section
	))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ToLogfile: true, Logfile: "/var/log/corosync/corosync.log", SyslogFacility: 18,
		SyslogPriority: PriorityWarning, LogfilePriority: PriorityError, Debug: DebugTrace,
		Timestamp: TimestampOn, Fileline: true, FunctionName: true,
		Subsys: map[string]SubsysConfig{
			"TOTEM":  {Debug: DebugOn, SyslogPriority: PriorityCrit, LogfilePriority: PriorityAlert, Logfile: "/tmp/totem.log"},
			"QUORUM": {SyslogPriority: PriorityWarning, LogfilePriority: PriorityError, ToLogfile: true},
		},
	}
	// QUORUM sorts before TOTEM, so TOTEM's local2 is the facility left.
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
}

// TestFromKeysQuirks pins corosync 3.1.7's odd but real behaviour.
func TestFromKeysQuirks(t *testing.T) {
	// A top-level syslog_level is overwritten by syslog_priority's default; in a section
	// it holds. Both warn.
	cfg, err := FromKeys(keysOf("logging.syslog_level", "debug",
		"logging.logger_subsys.A.subsys", "A", "logging.logger_subsys.A.syslog_level", "alert"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SyslogPriority != PriorityInfo || cfg.Subsys["A"].SyslogPriority != PriorityAlert || len(cfg.Warnings) != 2 ||
		cfg.Warnings[0] != "Warning: the syslog_level config parameter has been obsoleted. See corosync.conf man page syslog_priority directive." {
		t.Errorf("syslog_level: %+v", cfg)
	}
	// A top-level to_file is overwritten by to_logfile's default; in a section it holds.
	cfg, err = FromKeys(keysOf("logging.to_file", "yes", "logging.logger_subsys.A.subsys", "A", "logging.logger_subsys.A.to_file", "yes"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ToLogfile || !cfg.Subsys["A"].ToLogfile ||
		cfg.Warnings[0] != "Warning: the to_file config parameter has been obsoleted. See corosync.conf man page to_logfile directive." {
		t.Errorf("to_file: %+v", cfg)
	}
	// The last section decides the one facility, sections ordered as icmap keys ("A-B"
	// before "A").
	cfg, _ = FromKeys(keysOf("logging.syslog_facility", "local0",
		"logging.logger_subsys.A.subsys", "A", "logging.logger_subsys.A.syslog_facility", "local1",
		"logging.logger_subsys.A-B.subsys", "A-B", "logging.logger_subsys.A-B.syslog_facility", "local2"))
	if cfg.SyslogFacility != 17 {
		t.Errorf("facility %v, want local1", cfg.SyslogFacility)
	}
	// 17 new subsystems fit beside the 15 built in; builtins take no slot.
	kv := []string{"logging.logger_subsys.MAIN.subsys", "MAIN", "logging.logger_subsys.QB.subsys", "QB"}
	for i := 0; i < 17; i++ {
		kv = append(kv, fmt.Sprintf("logging.logger_subsys.X%02d.subsys", i), "x")
	}
	if _, err := FromKeys(keysOf(kv...)); err != nil {
		t.Errorf("17 extra subsystems: %v", err)
	}
	kv = append(kv, "logging.logger_subsys.X99.subsys", "x")
	if _, err := FromKeys(keysOf(kv...)); err == nil || err.(*ConfigError).Key != "logging.logger_subsys.X99.subsys" {
		t.Errorf("18 extra subsystems: %v", err)
	}
}

// TestFromKeysErrors checks every refused value and corosync's message for it (the
// messages of 3.1.7's exec/logconfig.c, checked against the daemon in reference_test.go).
func TestFromKeysErrors(t *testing.T) {
	for _, c := range []struct {
		kv       []string
		key, msg string
	}{
		{[]string{"logging.fileline", "yes"}, "logging.fileline", "unknown value for fileline"},
		{[]string{"logging.function_name", "ON"}, "logging.function_name", "unknown value for function_name"},
		{[]string{"logging.timestamp", "On"}, "logging.timestamp", "unknown value for timestamp"},
		{[]string{"logging.blackbox", "yes"}, "logging.blackbox", "unknown value for blackbox"},
		{[]string{"logging.to_stderr", "true"}, "logging.to_stderr", "unknown value for to_stderr"},
		{[]string{"logging.to_syslog", ""}, "logging.to_syslog", "unknown value for to_syslog"},
		{[]string{"logging.syslog_facility", "Daemon"}, "logging.syslog_facility", "unknown syslog facility specified"},
		{[]string{"logging.syslog_level", "x"}, "logging.syslog_level", "unknown syslog level specified"},
		{[]string{"logging.syslog_priority", "trace"}, "logging.syslog_priority", "unknown syslog priority specified"},
		{[]string{"logging.to_file", "maybe"}, "logging.to_file", "unknown value for to_file"},
		{[]string{"logging.to_logfile", "1"}, "logging.to_logfile", "unknown value for to_logfile"},
		{[]string{"logging.logfile_priority", "bogus"}, "logging.logfile_priority", "unknown logfile priority specified"},
		{[]string{"logging.debug", "yes"}, "logging.debug", "unknown value for debug"},
		{[]string{"logging.logfile", "/" + strings.Repeat("a", 4095)}, "logging.logfile", "logging: logfile name exceed maximum system filename length"},
		{[]string{"logging.logger_subsys.TOTEM.subsys", "TOTEM", "logging.logger_subsys.TOTEM.debug", "1"},
			"logging.logger_subsys.TOTEM.debug", "unknown value for debug"},
		{[]string{"logging.logger_subsys.TOTEM.subsys", "TOTEM", "logging.logger_subsys.TOTEM.to_stderr", "x"},
			"logging.logger_subsys.TOTEM.to_stderr", "unknown value for to_stderr"},
		{[]string{"logging.logger_subsys." + strings.Repeat("A", 64) + ".subsys", "x"},
			"logging.logger_subsys." + strings.Repeat("A", 64) + ".subsys", "unable to create new logging subsystem"},
		// corosync's order: the format keys first, then blackbox, then the top level in
		// its order, then the sections by key.
		{[]string{"logging.debug", "x", "logging.timestamp", "x"}, "logging.timestamp", "unknown value for timestamp"},
		{[]string{"logging.to_stderr", "x", "logging.blackbox", "x"}, "logging.blackbox", "unknown value for blackbox"},
		{[]string{"logging.debug", "x", "logging.to_syslog", "x"}, "logging.to_syslog", "unknown value for to_syslog"},
		{[]string{"logging.logger_subsys.A.subsys", "A", "logging.logger_subsys.A.debug", "x", "logging.debug", "x"},
			"logging.debug", "unknown value for debug"},
		{[]string{"logging.logger_subsys.B.subsys", "B", "logging.logger_subsys.B.debug", "x",
			"logging.logger_subsys.A.subsys", "A", "logging.logger_subsys.A.to_syslog", "x"},
			"logging.logger_subsys.A.to_syslog", "unknown value for to_syslog"},
	} {
		_, err := FromKeys(keysOf(c.kv...))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != c.key || ce.Msg != c.msg {
			t.Errorf("%v: got %v, want %s: %s", c.kv, err, c.key, c.msg)
			continue
		}
		if ce.Error() != c.key+": "+c.msg || ce.CorosyncMessage() != "parse error in config: "+c.msg+"." {
			t.Errorf("messages %q %q", ce.Error(), ce.CorosyncMessage())
		}
	}
	// Every accepted spelling.
	for _, kv := range [][]string{
		{"logging.to_stderr", "yes"}, {"logging.to_stderr", "on"}, {"logging.to_stderr", "no"}, {"logging.to_stderr", "off"},
		{"logging.timestamp", "hires"}, {"logging.timestamp", "off"}, {"logging.fileline", "off"}, {"logging.blackbox", "on"},
		{"logging.syslog_priority", "emerg"}, {"logging.syslog_priority", "Err"}, {"logging.logfile_priority", "DEBUG"},
		{"logging.logfile_priority", "notice"}, {"logging.syslog_facility", "authpriv"}, {"logging.syslog_facility", "kern"},
	} {
		if _, err := FromKeys(keysOf(kv...)); err != nil {
			t.Errorf("%v refused: %v", kv, err)
		}
	}
	for name, code := range facilityCodes {
		if f, ok := ParseFacility(name); !ok || f != code || f.String() != name {
			t.Errorf("facility %s", name)
		}
	}
}

// FuzzFromKeys feeds "key=value" lines: FromKeys must not panic, must fail only with a
// *ConfigError naming a key it was given, and what it accepts must compile.
func FuzzFromKeys(f *testing.F) {
	for _, s := range []string{
		"logging.to_stderr=yes\nlogging.to_logfile=yes\nlogging.logfile=/var/log/corosync/corosync.log\nlogging.to_syslog=yes\nlogging.timestamp=on",
		"logging.debug=trace\nlogging.fileline=on\nlogging.function_name=on\nlogging.syslog_facility=local3",
		"logging.logger_subsys.QUORUM.subsys=QUORUM\nlogging.logger_subsys.QUORUM.debug=on",
		"logging.logger_subsys.TOTEM.subsys=TOTEM\nlogging.logger_subsys.TOTEM.logfile_priority=err\nlogging.syslog_level=info",
		"logging.timestamp=hires\nlogging.blackbox=off\nlogging.to_file=yes",
		"logging.debug=yes",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		keys := map[string]string{}
		for _, line := range strings.Split(s, "\n") {
			k, v, _ := strings.Cut(line, "=")
			keys[k] = v
		}
		cfg, err := FromKeys(keys)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v", err, err)
			}
			if _, ok := keys[ce.Key]; !ok {
				t.Fatalf("error names key %q not given", ce.Key)
			}
			return
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
		st := compile(cfg, 1, "h", "corosync")
		e := entry{priority: PriorityInfo, subsys: "MAIN", message: s}
		for _, fm := range []string{st.stderrFmt, st.fileFmt, st.syslogFmt} {
			if l := expand(nil, fm, &e); len(l) > maxLine {
				t.Fatalf("line of %d bytes", len(l))
			}
		}
	})
}
