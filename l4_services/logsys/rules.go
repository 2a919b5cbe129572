package logsys

// off is a rule's priority for a destination that takes nothing.
const off Priority = -1

// rule is where one subsystem's records go: the least severe priority each destination
// takes (off for none) and the file it writes to.
type rule struct {
	stderr, file, syslog Priority
	path                 string
}

func (r rule) loosest() Priority { return max(r.stderr, r.file, r.syslog) }

// logPath is a file the configuration opens and the key that named it.
type logPath struct {
	path, key string
}

// state is one configuration compiled for logging: immutable, swapped whole on
// Reconfigure so that loggers read it without locks.
type state struct {
	cfg                           Config
	stderrFmt, fileFmt, syslogFmt string
	def                           rule
	subsys                        map[string]rule
	loosestAll                    Priority
	paths                         []logPath
	needSource                    bool
}

func (s *state) rule(subsys string) rule {
	if r, ok := s.subsys[subsys]; ok {
		return r
	}
	return s.def
}

// compile turns cfg into a state, expanding %P, %H and %N once. The state keeps copies
// of cfg's map and slice, so the caller may change them afterwards.
func compile(cfg Config, pid int, host, ident string) *state {
	cfg = cfg.clone()
	base := baseFormat(&cfg)
	st := &state{
		cfg:        cfg,
		stderrFmt:  staticFormat(base, pid, host, ident),
		fileFmt:    staticFormat(fileFormat(base), pid, host, ident),
		syslogFmt:  staticFormat(syslogFormat(base), pid, host, ident),
		subsys:     map[string]rule{},
		needSource: cfg.Fileline || cfg.FunctionName,
	}
	st.def = makeRule(&cfg, cfg.Debug, cfg.SyslogPriority, cfg.LogfilePriority, cfg.Logfile, cfg.ToLogfile)
	st.loosestAll = st.def.loosest()
	if cfg.Logfile != "" {
		st.paths = append(st.paths, logPath{cfg.Logfile, "logging.logfile"})
	}
	for _, name := range cfg.subsysNames() {
		sc := cfg.Subsys[name]
		path, on := cfg.Logfile, cfg.ToLogfile
		// A file of its own is switched by the subsystem; the shared one by the top
		// level, which logsys applies last.
		if sc.Logfile != "" && sc.Logfile != cfg.Logfile {
			path, on = sc.Logfile, sc.ToLogfile
			st.paths = append(st.paths, logPath{sc.Logfile, subsysPrefix + name + ".logfile"})
		}
		r := makeRule(&cfg, sc.Debug, sc.SyslogPriority, sc.LogfilePriority, path, on)
		st.subsys[name] = r
		st.loosestAll = max(st.loosestAll, r.loosest())
	}
	return st
}

// makeRule is _logsys_config_apply_per_file: debug overrides both priorities; stderr is
// filtered with the log file's priority; stderr and syslog obey only the top level.
func makeRule(cfg *Config, debug Debug, syslogPrio, filePrio Priority, path string, fileOn bool) rule {
	switch debug {
	case DebugOn:
		syslogPrio, filePrio = PriorityDebug, PriorityDebug
	case DebugTrace:
		syslogPrio, filePrio = PriorityTrace, PriorityTrace
	}
	r := rule{stderr: off, file: off, syslog: off}
	if cfg.ToStderr {
		r.stderr = filePrio
	}
	if fileOn && path != "" {
		r.file, r.path = filePrio, path
	}
	if cfg.ToSyslog {
		r.syslog = syslogPrio
	}
	return r
}
