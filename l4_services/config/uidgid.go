package config

import (
	"math"
	"os/user"
	"strconv"
)

// resolveID is coroparse.c's uid_determine/gid_determine: a decimal number from 0 to
// 4294967294 is taken as is (strtol rules: leading blanks and a sign allowed; 4294967295
// is -1 to corosync, its failure value, so it fails), anything else is looked up by name.
func resolveID(value, what string, lookup func(string) (uint32, error)) (uint32, string) {
	if n, rest, ok := strtolPrefix(value); ok && value != "" && rest == "" && n >= 0 && n <= math.MaxUint32 {
		if n == math.MaxUint32 {
			// corosync reports this with an empty (stale) message.
			return 0, "The '" + value + "' " + what + " id is reserved (it is -1 to corosync)"
		}
		return uint32(n), ""
	}
	id, err := lookup(value)
	if err != nil {
		if what == "user" {
			return 0, "The '" + value + "' user is not found in /etc/passwd, please read the documentation."
		}
		return 0, "The '" + value + "' group is not found in /etc/group, please read the documentation."
	}
	return id, ""
}

func (p *Parser) uid(value string) (uint32, string) {
	lookup := p.LookupUser
	if lookup == nil {
		lookup = func(name string) (uint32, error) {
			u, err := user.Lookup(name)
			if err != nil {
				return 0, err
			}
			n, err := strconv.ParseUint(u.Uid, 10, 32)
			return uint32(n), err
		}
	}
	return resolveID(value, "user", lookup)
}

func (p *Parser) gid(value string) (uint32, string) {
	lookup := p.LookupGroup
	if lookup == nil {
		lookup = func(name string) (uint32, error) {
			g, err := user.LookupGroup(name)
			if err != nil {
				return 0, err
			}
			n, err := strconv.ParseUint(g.Gid, 10, 32)
			return uint32(n), err
		}
	}
	return resolveID(value, "group", lookup)
}

// setUIDGID resolves a uid or gid item and stores uidgid.config.uid.N (or gid) = u8 1.
func (p *Parser) setUIDGID(c *Config, isUID bool, value, file string, line int) string {
	resolve, kind := p.gid, "gid"
	if isUID {
		resolve, kind = p.uid, "uid"
	}
	id, msg := resolve(value)
	if msg != "" {
		return msg
	}
	return c.set("uidgid.config."+kind+"."+strconv.FormatUint(uint64(id), 10), U8(1), file, line)
}

// uidgidHandler is coroparse.c's uidgid_config_parser_cb, for files in uidgid.d: only
// top-level "uidgid" sections holding uid and gid items.
type uidgidHandler struct {
	p    *Parser
	c    *Config
	file string
}

func (h *uidgidHandler) sectionStart(path string, _ *pstate, _ int) string {
	if path != "uidgid" {
		return "uidgid: Can't add subsection different than uidgid"
	}
	return ""
}

func (h *uidgidHandler) item(path, _, value string, _ *pstate, line int) string {
	switch path {
	case "uidgid.uid":
		return h.p.setUIDGID(h.c, true, value, h.file, line)
	case "uidgid.gid":
		return h.p.setUIDGID(h.c, false, value, h.file, line)
	}
	return "uidgid: Only uid and gid are allowed items"
}

func (h *uidgidHandler) sectionEnd(string, *pstate, int) string { return "" }
