package config

// Keys coroparse.c assembles when an interface, logger_subsys or logging_daemon section
// closes.

// endInterface stores the interface's keys as totem.interface.<linknumber>.*. corosync
// keeps numeric items across the end of an unknown subsection of an interface and frees
// (but keeps using) the others; here strings and members are emitted once.
func (h *mainHandler) endInterface(_ int) string {
	link := h.linknumber
	k := func(name string) string { return cKey("totem.interface.%d.%s", link, name) }
	for _, s := range []struct {
		name string
		v    *lineStr
	}{{"bindnetaddr", &h.bindnetaddr}, {"mcastaddr", &h.mcastaddr}, {"broadcast", &h.broadcast}} {
		if s.v.set {
			if msg := h.set(k(s.name), Str(s.v.v), s.v.line); msg != "" {
				return msg
			}
			*s.v = lineStr{}
		}
	}
	for _, n := range []struct {
		name string
		v    lineInt
		mk   func(int32) Value
	}{
		{"mcastport", h.mcastport, func(x int32) Value { return U16(uint16(x)) }},
		{"ttl", h.ttl, func(x int32) Value { return U8(uint8(x)) }},
		{"knet_link_priority", h.linkPriority, func(x int32) Value { return U8(uint8(x)) }},
		{"knet_ping_interval", h.pingInterval, func(x int32) Value { return U32(uint32(x)) }},
		{"knet_ping_timeout", h.pingTimeout, func(x int32) Value { return U32(uint32(x)) }},
		{"knet_ping_precision", h.pingPrecision, func(x int32) Value { return U32(uint32(x)) }},
		{"knet_pong_count", h.pongCount, func(x int32) Value { return U32(uint32(x)) }},
	} {
		if n.v.v > -1 {
			if msg := h.set(k(n.name), n.mk(n.v.v), n.v.line); msg != "" {
				return msg
			}
		}
	}
	if h.knetTransport.set {
		if msg := h.set(k("knet_transport"), Str(h.knetTransport.v), h.knetTransport.line); msg != "" {
			return msg
		}
		h.knetTransport = lineStr{}
	}
	// corosync prepends each member to a list, so member.0 is the last memberaddr.
	for i := range h.members {
		m := h.members[len(h.members)-1-i]
		if msg := h.set(cKey("totem.interface.%d.member.%d", link, i), Str(m.value), m.line); msg != "" {
			return msg
		}
	}
	h.members = nil
	return ""
}

// endLoggerSubsys stores logging.logger_subsys.<subsys>.* . corosync prepends items to a
// list, so they are stored last-in-file first, and of two equal keys the first wins.
func (h *mainHandler) endLoggerSubsys(_ int) string {
	if !h.subsys.set {
		return "No subsys key in logger_subsys directive"
	}
	for i := len(h.loggerItems) - 1; i >= 0; i-- {
		it := h.loggerItems[i]
		if msg := h.set(cKey("logging.logger_subsys.%s.%s", h.subsys.v, it.key), Str(it.value), it.line); msg != "" {
			return msg
		}
	}
	msg := h.set(cKey("logging.logger_subsys.%s.subsys", h.subsys.v), Str(h.subsys.v), h.subsys.line)
	h.loggerItems, h.subsys = nil, lineStr{}
	return msg
}

// endLoggingDaemon stores a logging_daemon section: under logging. (or
// logging.logger_subsys.<subsys>.) for name "corosync", else under
// logging.logging_daemon.<name>[.<subsys>].
func (h *mainHandler) endLoggingDaemon(_ int) string {
	if !h.daemonName.set {
		return "No name key in logging_daemon directive"
	}
	name, sub := h.daemonName.v, h.subsys.v
	self := name == "corosync"
	for i := len(h.loggerItems) - 1; i >= 0; i-- {
		it := h.loggerItems[i]
		var key string
		switch {
		case !h.subsys.set && self:
			key = cKey("logging.%s", it.key)
		case !h.subsys.set:
			key = cKey("logging.logging_daemon.%s.%s", name, it.key)
		case self:
			key = cKey("logging.logger_subsys.%s.%s", sub, it.key)
		default:
			key = cKey("logging.logging_daemon.%s.%s.%s", name, sub, it.key)
		}
		if msg := h.set(key, Str(it.value), it.line); msg != "" {
			return msg
		}
	}
	var msg string
	switch {
	case !h.subsys.set && !self:
		msg = h.set(cKey("logging.logging_daemon.%s.name", name), Str(name), h.daemonName.line)
	case h.subsys.set && self:
		msg = h.set(cKey("logging.logger_subsys.%s.subsys", sub), Str(sub), h.subsys.line)
	case h.subsys.set:
		if msg = h.set(cKey("logging.logging_daemon.%s.%s.subsys", name, sub), Str(sub), h.subsys.line); msg == "" {
			msg = h.set(cKey("logging.logging_daemon.%s.%s.name", name, sub), Str(name), h.daemonName.line)
		}
	}
	h.loggerItems, h.subsys, h.daemonName = nil, lineStr{}, lineStr{}
	return msg
}
