package config

import (
	"fmt"
	"math"
)

// pstate is the section state of coroparse.c's main_config_parser_cb. A section inherits
// its parent's state unless its full path is one of the known sections, so items of an
// unknown subsection are typed and checked as their parent's items would be.
type pstate uint8

const (
	stateNormal pstate = iota
	stateTotem
	stateInterface
	stateMember
	stateLoggerSubsys
	stateLoggingDaemon
	stateUIDGID
	stateQuorum
	stateQDevice
	stateNodelist
	stateNodelistNode
	stateSystem
	stateResources
	stateResourcesSystem
	stateResourcesProcess
)

// sectionStates maps the section paths coroparse.c knows to their state.
var sectionStates = map[string]pstate{
	"totem":                         stateTotem,
	"totem.interface":               stateInterface,
	"totem.interface.member":        stateMember,
	"logging.logger_subsys":         stateLoggerSubsys,
	"logging.logging_daemon":        stateLoggingDaemon,
	"uidgid":                        stateUIDGID,
	"quorum":                        stateQuorum,
	"quorum.device":                 stateQDevice,
	"nodelist":                      stateNodelist,
	"nodelist.node":                 stateNodelistNode,
	"system":                        stateSystem,
	"resources":                     stateResources,
	"resources.system":              stateResourcesSystem,
	"resources.system.memory_used":  stateResourcesSystem,
	"resources.process":             stateResourcesProcess,
	"resources.process.memory_used": stateResourcesProcess,
}

// Keys coroparse.c stores as numbers (everything else is a string).
var (
	totemU32 = setOf("totem.version", "totem.nodeid", "totem.threads", "totem.token",
		"totem.token_coefficient", "totem.token_retransmit", "totem.token_warning", "totem.hold",
		"totem.token_retransmits_before_loss_const", "totem.join", "totem.send_join",
		"totem.consensus", "totem.merge", "totem.downcheck", "totem.fail_recv_const",
		"totem.seqno_unchanged_const", "totem.rrp_token_expired_timeout",
		"totem.rrp_problem_count_timeout", "totem.rrp_problem_count_threshold",
		"totem.rrp_problem_count_mcast_threshold", "totem.rrp_autorecovery_check_timeout",
		"totem.heartbeat_failures_allowed", "totem.max_network_delay", "totem.window_size",
		"totem.max_messages", "totem.miss_count_const", "totem.knet_pmtud_interval",
		"totem.knet_mtu", "totem.knet_compression_threshold", "totem.netmtu")
	quorumU32 = setOf("quorum.expected_votes", "quorum.votes", "quorum.last_man_standing_window",
		"quorum.leaving_timeout")
	quorumU8 = setOf("quorum.two_node", "quorum.expected_votes_tracking", "quorum.allow_downscale",
		"quorum.wait_for_all", "quorum.auto_tie_breaker", "quorum.last_man_standing")
	qdeviceU32 = setOf("quorum.device.timeout", "quorum.device.sync_timeout", "quorum.device.votes")
	// systemChoices are the values coroparse.c accepts for system keys, with its message.
	systemChoices = map[string]struct {
		values []string
		msg    string
	}{
		"system.qb_ipc_type":                {[]string{"native", "shm", "socket"}, "Invalid system.qb_ipc_type"},
		"system.sched_rr":                   {[]string{"yes", "no"}, "Invalid system.sched_rr value"},
		"system.move_to_root_cgroup":        {[]string{"yes", "no", "auto"}, "Invalid system.move_to_root_cgroup"},
		"system.allow_knet_handle_fallback": {[]string{"yes", "no"}, "Invalid system.allow_knet_handle_fallback"},
	}
)

func setOf(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func oneOf(v string, choices ...string) bool {
	for _, c := range choices {
		if v == c {
			return true
		}
	}
	return false
}

// lineStr and lineInt are values held until the end of a section, with their line.
type lineStr struct {
	v    string
	line int
	set  bool
}

type lineInt struct {
	v    int32 // C's int: u32 items above 2^31-1 become negative and are then dropped
	line int
}

type keyValue struct {
	key, value string
	line       int
}

// mainHandler is coroparse.c's main_config_parser_cb: it types, checks and names the
// items of corosync.conf and assembles the keys of interface, logger_subsys and
// logging_daemon sections when they close.
type mainHandler struct {
	p    *Parser
	c    *Config
	file string

	// totem.interface: values are keyed by linknumber, known only at the closing brace.
	linknumber                        int32
	bindnetaddr, mcastaddr, broadcast lineStr
	knetTransport                     lineStr
	mcastport, ttl, linkPriority      lineInt
	pingInterval, pingTimeout         lineInt
	pingPrecision, pongCount          lineInt
	members                           []keyValue
	subsys, daemonName                lineStr
	loggerItems                       []keyValue
	nodeNumber                        uint32
}

// cKey truncates a key built with snprintf(key, ICMAP_KEYNAME_MAXLEN, ...).
func cKey(format string, args ...any) string {
	k := fmt.Sprintf(format, args...)
	if len(k) > keyNameMax-1 {
		k = k[:keyNameMax-1]
	}
	return k
}

func rangeError(key string, min, max int64, value string) string {
	return fmt.Sprintf("Value of key %q is expected to be integer in range (%d..%d), but %q was given",
		key, min, max, value)
}

// integer parses value as safe_atoq does for a type whose range is [min, max].
func integer(key, value string, min, max int64) (int64, string) {
	n, ok := strtoll(value)
	if !ok || n < min || n > max {
		return 0, rangeError(key, min, max, value)
	}
	return n, ""
}

// u64 parses value as str_to_ull does. corosync 3.1.7 hits a failed assert (and aborts)
// on a bad value here; the message given instead is the one its other numbers get.
func u64(key, value string) (uint64, string) {
	n, ok := strtoull(value)
	if !ok {
		return 0, fmt.Sprintf("Value of key %q is expected to be integer in range (0..%d), but %q was given",
			key, uint64(math.MaxUint64), value)
	}
	return n, ""
}

func (h *mainHandler) set(key string, v Value, line int) string { return h.c.set(key, v, h.file, line) }

func (h *mainHandler) setU32(key, value string, line int) string {
	n, msg := integer(key, value, 0, math.MaxUint32)
	if msg != "" {
		return msg
	}
	return h.set(key, U32(uint32(n)), line)
}

func (h *mainHandler) setU8(key, value string, line int) string {
	n, msg := integer(key, value, 0, math.MaxUint8)
	if msg != "" {
		return msg
	}
	return h.set(key, U8(uint8(n)), line)
}

func (h *mainHandler) setU64(key, value string, line int) string {
	n, msg := u64(key, value)
	if msg != "" {
		return msg
	}
	return h.set(key, U64(n), line)
}

func (h *mainHandler) sectionStart(path string, st *pstate, _ int) string {
	ns, ok := sectionStates[path]
	if !ok {
		return ""
	}
	*st = ns
	switch path {
	case "totem.interface":
		h.linknumber = 0
		none := lineInt{v: -1}
		h.mcastport, h.ttl, h.linkPriority = none, none, none
		h.pingInterval, h.pingTimeout, h.pingPrecision, h.pongCount = none, none, none, none
		h.knetTransport = lineStr{}
		h.members = nil
	case "logging.logger_subsys":
		h.loggerItems, h.subsys = nil, lineStr{}
	case "logging.logging_daemon":
		h.loggerItems, h.subsys, h.daemonName = nil, lineStr{}, lineStr{}
	case "nodelist":
		h.nodeNumber = 0
	}
	return ""
}

func (h *mainHandler) item(path, key, value string, st *pstate, line int) string {
	switch *st {
	case stateQuorum:
		switch {
		case quorumU32[path]:
			return h.setU32(path, value, line)
		case quorumU8[path]:
			return h.setU8(path, value, line)
		}
	case stateQDevice:
		switch {
		case qdeviceU32[path]:
			return h.setU32(path, value, line)
		case path == "quorum.device.master_wins":
			return h.setU8(path, value, line)
		}
	case stateTotem:
		if msg, done := h.totemItem(path, value, line); done {
			return msg
		}
	case stateSystem:
		if c, ok := systemChoices[path]; ok && !oneOf(value, c.values...) {
			return c.msg
		}
	case stateInterface:
		if msg, done := h.interfaceItem(path, value, line); done {
			return msg
		}
	case stateLoggerSubsys, stateLoggingDaemon:
		switch {
		case key == "subsys":
			h.subsys = lineStr{value, line, true}
		case key == "name" && *st == stateLoggingDaemon:
			h.daemonName = lineStr{value, line, true}
		default:
			h.loggerItems = append(h.loggerItems, keyValue{key, value, line})
		}
		return ""
	case stateUIDGID:
		switch key {
		case "uid":
			return h.p.setUIDGID(h.c, true, value, h.file, line)
		case "gid":
			return h.p.setUIDGID(h.c, false, value, h.file, line)
		}
		return "uidgid: Only uid and gid are allowed items"
	case stateMember:
		if key != "memberaddr" {
			return "Only memberaddr is allowed in member section"
		}
		h.members = append(h.members, keyValue{key, value, line})
		return ""
	case stateNodelistNode:
		name := cKey("nodelist.node.%d.%s", h.nodeNumber, key)
		if key == "nodeid" || key == "quorum_votes" {
			return h.setU32(name, value, line)
		}
		return h.set(name, Str(value), line)
	case stateResources:
		if key == "watchdog_timeout" {
			return h.setU32(path, value, line)
		}
	case stateResourcesSystem, stateResourcesProcess:
		if key == "poll_period" {
			return h.setU64(path, value, line)
		}
	}
	return h.set(path, Str(value), line)
}

// totemItem handles the typed and checked keys of the totem section; done is false for
// keys stored as plain strings.
func (h *mainHandler) totemItem(path, value string, line int) (msg string, done bool) {
	switch {
	case totemU32[path]:
		return h.setU32(path, value, line), true
	case path == "totem.knet_compression_level":
		n, msg := integer(path, value, math.MinInt32, math.MaxInt32)
		if msg != "" {
			return msg, true
		}
		return h.set(path, I32(int32(n)), line), true
	case path == "totem.config_version":
		return h.setU64(path, value, line), true
	case path == "totem.ip_version":
		if !oneOf(value, "ipv4", "ipv6", "ipv6-4", "ipv4-6") {
			return "Invalid ip_version type", true
		}
	case path == "totem.crypto_model":
		if msg := checkModel(value, h.p.cryptoModels(), "Invalid crypto model. Should be "); msg != "" {
			return msg, true
		}
	case path == "totem.crypto_cipher":
		if !oneOf(value, "none", "aes256", "aes192", "aes128") {
			return "Invalid cipher type. Should be none, aes256, aes192 or aes128", true
		}
	case path == "totem.crypto_hash":
		if !oneOf(value, "none", "md5", "sha1", "sha256", "sha384", "sha512") {
			return "Invalid hash type. Should be none, md5, sha1, sha256, sha384 or sha512", true
		}
	case path == "totem.knet_compression_model":
		if msg := checkModel(value, h.p.compressModels(), "Invalid compression model. Should be "); msg != "" {
			return msg, true
		}
	}
	return "", false
}

// interfaceItem collects the keys of a totem.interface section, which are stored under
// its linknumber when it closes.
func (h *mainHandler) interfaceItem(path, value string, line int) (msg string, done bool) {
	num := func(dst *lineInt, max int64) (string, bool) {
		n, msg := integer(path, value, 0, max)
		if msg == "" {
			*dst = lineInt{int32(n), line}
		}
		return msg, true
	}
	switch path {
	case "totem.interface.linknumber":
		n, msg := integer(path, value, 0, math.MaxUint8)
		if msg == "" {
			h.linknumber = int32(n)
		}
		return msg, true
	case "totem.interface.bindnetaddr":
		h.bindnetaddr = lineStr{value, line, true}
	case "totem.interface.mcastaddr":
		h.mcastaddr = lineStr{value, line, true}
	case "totem.interface.broadcast":
		h.broadcast = lineStr{value, line, true}
	case "totem.interface.knet_transport":
		h.knetTransport = lineStr{value, line, true}
	case "totem.interface.mcastport":
		return num(&h.mcastport, math.MaxUint16)
	case "totem.interface.ttl":
		return num(&h.ttl, math.MaxUint8)
	case "totem.interface.knet_link_priority":
		return num(&h.linkPriority, math.MaxUint8)
	case "totem.interface.knet_ping_interval":
		return num(&h.pingInterval, math.MaxUint32)
	case "totem.interface.knet_ping_timeout":
		return num(&h.pingTimeout, math.MaxUint32)
	case "totem.interface.knet_ping_precision":
		return num(&h.pingPrecision, math.MaxUint32)
	case "totem.interface.knet_pong_count":
		return num(&h.pongCount, math.MaxUint32)
	default:
		return "", false
	}
	return "", true
}

func (h *mainHandler) sectionEnd(_ string, st *pstate, line int) string {
	switch *st {
	case stateInterface:
		return h.endInterface(line)
	case stateLoggerSubsys:
		return h.endLoggerSubsys(line)
	case stateLoggingDaemon:
		return h.endLoggingDaemon(line)
	case stateNodelistNode:
		h.nodeNumber++
	}
	return ""
}
