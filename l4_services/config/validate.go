package config

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"
)

// Host is what corosync learns from the machine while loading its configuration: it finds
// the local node by host name and interface addresses, resolves ring addresses and reads
// the key file.
type Host struct {
	// Hostname is uname's nodename.
	Hostname string
	// Addrs are the interface addresses getifaddrs lists, in its order.
	Addrs []netip.Addr
	// LookupIP resolves a host name (getaddrinfo); numeric addresses never reach it. nil
	// resolves nothing.
	LookupIP func(ctx context.Context, name string) ([]netip.Addr, error)
	// LookupAddr names an address (getnameinfo); an error makes corosync use the numeric
	// form. nil names nothing.
	LookupAddr func(ctx context.Context, addr netip.Addr) (string, error)
	// ReadFile reads the key file; nil skips the key checks.
	ReadFile func(name string) ([]byte, error)
	// DirExists reports whether the state directory exists; nil skips that check.
	DirExists func(path string) bool
}

// lookupTimeout bounds each name lookup of SystemHost, as a resolver's own retries would.
const lookupTimeout = 5 * time.Second

// SystemHost describes the machine this process runs on, in its network namespace.
func SystemHost() Host {
	h := Host{
		ReadFile: os.ReadFile,
		DirExists: func(path string) bool {
			fi, err := os.Stat(path)
			return err == nil && fi.IsDir()
		},
		LookupIP: func(ctx context.Context, name string) ([]netip.Addr, error) {
			ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
			defer cancel()
			return net.DefaultResolver.LookupNetIP(ctx, "ip", name)
		},
		LookupAddr: func(ctx context.Context, addr netip.Addr) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
			defer cancel()
			names, err := net.DefaultResolver.LookupAddr(ctx, addr.String())
			if err != nil || len(names) == 0 {
				return "", fmt.Errorf("no name for %v: %w", addr, err)
			}
			return strings.TrimSuffix(names[0], "."), nil
		},
	}
	h.Hostname, _ = os.Hostname()
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			addrs, err := ifc.Addrs()
			if err != nil {
				continue
			}
			for _, a := range addrs {
				if pfx, err := netip.ParsePrefix(a.String()); err == nil {
					ip := pfx.Addr()
					if ip.Is6() && ip.IsLinkLocalUnicast() {
						ip = ip.WithZone(ifc.Name)
					}
					h.Addrs = append(h.Addrs, ip)
				}
			}
		}
	}
	return h
}

// Validate checks c as corosync 3.1.7 does between reading its configuration and running
// (`corosync -t` and the start-up checks after it) on this machine, and returns the first
// problem as a *ValidationError.
func Validate(c *Config) error {
	return ValidateOn(context.Background(), c, SystemHost())
}

// ValidateOn is Validate on the given host.
func ValidateOn(ctx context.Context, c *Config, h Host) error {
	_, err := Derive(ctx, c, h)
	return err
}

// Derive validates c as ValidateOn does and returns the keys corosync 3.1.7 adds to cmap
// while loading it, in the order it sets them: runtime.config.totem.* (the effective totem
// settings), nodelist.local_node_pos, totem.interface.N.bindnetaddr copied from the local
// node's ring addresses, node ids generated for udp and udpu nodes without one, and the
// multicast address and port udp links default to. Their File is c.File and Line 0.
func Derive(ctx context.Context, c *Config, h Host) ([]Entry, error) {
	s := &loader{ctx: ctx, c: c, host: h, m: make(map[string]Value, len(c.Map))}
	for k, v := range c.Map {
		s.m[k] = v
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s.derived, nil
}

// loader replays corosync's loading on a copy of the map.
type loader struct {
	ctx     context.Context
	c       *Config
	host    Host
	m       map[string]Value
	derived []Entry
	tc      totemConfig
	// origin maps a derived key to the file key it came from, for error lines.
	origin map[string]string
}

func (s *loader) load() error {
	steps := []func() error{s.checkLogging, s.checkStateDir, s.totemConfigRead,
		s.totemConfigValidate, s.checkPriority, s.checkQuorum}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// fail returns a ValidationError about key (which may be ""). Its line is where the file
// set key or, for a key corosync derived, the key it was derived from.
func (s *loader) fail(key, format string, args ...any) error {
	e := &ValidationError{File: s.c.File, Key: key, Msg: fmt.Sprintf(format, args...)}
	at := key
	if from, ok := s.origin[key]; ok {
		at = from
	}
	if en, ok := s.c.Lookup(at); ok {
		e.File, e.Line = en.File, en.Line
	}
	return e
}

// failNode is fail about a node's key, placed at the node's first key in the file when
// the key itself is missing.
func (s *loader) failNode(prefix, item, format string, args ...any) error {
	key := prefix + item
	if _, ok := s.c.Lookup(key); !ok {
		for _, k := range s.c.Keys(prefix) {
			if en, _ := s.c.Lookup(k); en.Line > 0 {
				if s.origin == nil {
					s.origin = map[string]string{}
				}
				s.origin[key] = k
				break
			}
		}
	}
	return s.fail(key, format, args...)
}

func (s *loader) str(key string) (string, bool) {
	v, ok := s.m[key]
	if !ok || v.Type != String {
		return "", false
	}
	return v.V.(string), true
}

func (s *loader) u32(key string) (uint32, bool) {
	v, ok := s.m[key]
	if !ok || v.Type != Uint32 {
		return 0, false
	}
	return v.V.(uint32), true
}

func (s *loader) u16(key string) (uint16, bool) {
	v, ok := s.m[key]
	if !ok || v.Type != Uint16 {
		return 0, false
	}
	return v.V.(uint16), true
}

func (s *loader) u8(key string) (uint8, bool) {
	v, ok := s.m[key]
	if !ok || v.Type != Uint8 {
		return 0, false
	}
	return v.V.(uint8), true
}

func (s *loader) i32(key string) (int32, bool) {
	v, ok := s.m[key]
	if !ok || v.Type != Int32 {
		return 0, false
	}
	return v.V.(int32), true
}

// set stores a key corosync adds while loading.
func (s *loader) set(key string, v Value) {
	s.m[key] = v
	for i := range s.derived {
		if s.derived[i].Key == key {
			s.derived[i].Value = v
			return
		}
	}
	s.derived = append(s.derived, Entry{Key: key, Value: v, File: s.c.File})
}

// keys lists the map's keys with prefix, sorted as icmap iterates them.
func (s *loader) keys(prefix string) []string {
	var out []string
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (s *loader) checkStateDir() error {
	if s.host.DirExists == nil {
		return nil
	}
	dir, ok := s.str("system.state_dir")
	if !ok {
		dir = "/var/lib/corosync"
	}
	if !s.host.DirExists(dir) {
		return s.fail("system.state_dir", "Cannot chdir to state directory %s. No such file or directory", dir)
	}
	return nil
}

// checkPriority is main.c's reading of system.priority after `corosync -t` stops.
func (s *loader) checkPriority() error {
	v, ok := s.str("system.priority")
	if !ok || v == "max" || v == "min" {
		return nil
	}
	n, rest, digits := strtolPrefix(v)
	if !digits {
		rest = v
	}
	if rest != "" || n > 1<<31-1 || n < -1<<31 || (digits && overflowsLong(v)) {
		return s.fail("system.priority", "Priority value %s is invalid", v)
	}
	return nil
}

// overflowsLong reports whether strtol would set ERANGE on v.
func overflowsLong(v string) bool {
	neg, digits, _, ok := cDigits(v)
	if !ok {
		return false
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit++
	}
	_, fits := accumulate(digits, limit)
	return !fits
}
