package config

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/corosync-go/corosync/l4_services/icmap"
)

// Entry is one configuration key as corosync stores it in cmap, with where its value came
// from.
type Entry struct {
	Key   string
	Value Value
	// File and Line are where the value was set (for keys corosync assembles at the end
	// of a section, the line of the item that gave the value).
	File string
	Line int
}

// Config is a parsed corosync.conf: the cmap entries coroparse.c would store.
type Config struct {
	// File is the name the main configuration was read from.
	File string
	// Entries holds one entry per key in the order the keys were first stored. A key set
	// again (a duplicate line) keeps its place and takes the later value, as icmap_set
	// replaces it.
	Entries []Entry
	// Map holds the same values by key. Treat it as read-only.
	Map map[string]Value

	index map[string]int
}

// Get returns the value of key.
func (c *Config) Get(key string) (Value, bool) {
	v, ok := c.Map[key]
	return v, ok
}

// Lookup returns the entry of key.
func (c *Config) Lookup(key string) (Entry, bool) {
	i, ok := c.index[key]
	if !ok {
		return Entry{}, false
	}
	return c.Entries[i], true
}

// Keys returns the keys starting with prefix in icmap's (byte-wise sorted) order.
func (c *Config) Keys(prefix string) []string {
	var keys []string
	for k := range c.Map {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func newConfig(file string) *Config {
	return &Config{File: file, Map: map[string]Value{}, index: map[string]int{}}
}

// set stores a value the way icmap_set does for the parser: a new key must be a valid
// icmap key name. It returns coroparse.c's error message or "".
func (c *Config) set(key string, v Value, file string, line int) string {
	if i, ok := c.index[key]; ok {
		c.Entries[i].Value, c.Entries[i].File, c.Entries[i].Line = v, file, line
		c.Map[key] = v
		return ""
	}
	if !icmap.ValidKey(key) {
		return `Can't store key "` + key + `" into icmap, returned error is CS_ERR_NAME_TOO_LONG`
	}
	c.index[key] = len(c.Entries)
	c.Entries = append(c.Entries, Entry{Key: key, Value: v, File: file, Line: line})
	c.Map[key] = v
	return ""
}

// Parser reads corosync.conf files. The zero value is ready to use and resolves users and
// groups with os/user and checks crypto and compression models against DefaultCryptoModels
// and DefaultCompressModels.
type Parser struct {
	// LookupUser and LookupGroup resolve uidgid names that are not numbers (getpwnam_r
	// and getgrnam_r in corosync); nil uses os/user.
	LookupUser  func(name string) (uint32, error)
	LookupGroup func(name string) (uint32, error)
	// CryptoModels and CompressModels are the totem.crypto_model and
	// totem.knet_compression_model values accepted, in the order error messages list
	// them (corosync asks libknet at run time); nil uses the defaults.
	CryptoModels   []string
	CompressModels []string
}

// Parse reads the corosync.conf at file and then, as corosync does, every file in the
// uidgid.d directory beside it. Errors are *ParseError.
func Parse(file string) (*Config, error) { return (&Parser{}).Parse(file) }

// ParseBytes parses data as a corosync.conf named name (used in errors). It does not read
// uidgid.d. Errors are *ParseError.
func ParseBytes(name string, data []byte) (*Config, error) {
	return (&Parser{}).ParseBytes(name, data)
}

// LoadUIDGIDDir reads every regular file in dir (a uidgid.d directory) with the uidgid
// grammar. A missing or unreadable directory gives no entries, as in corosync.
func LoadUIDGIDDir(dir string) ([]Entry, error) { return (&Parser{}).LoadUIDGIDDir(dir) }

// Parse is the package-level Parse with p's settings.
func (p *Parser) Parse(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &ParseError{File: file, Msg: "Can't read file " + file + ": " + strerror(err)}
	}
	c, err := p.ParseBytes(file, data)
	if err != nil {
		return nil, err
	}
	extra, err := p.LoadUIDGIDDir(filepath.Join(filepath.Dir(file), "uidgid.d"))
	if err != nil {
		return nil, err
	}
	for _, e := range extra {
		if msg := c.set(e.Key, e.Value, e.File, e.Line); msg != "" {
			return nil, &ParseError{File: e.File, Line: e.Line, Msg: msg}
		}
	}
	return c, nil
}

// ParseBytes is the package-level ParseBytes with p's settings.
func (p *Parser) ParseBytes(name string, data []byte) (*Config, error) {
	c := newConfig(name)
	h := &mainHandler{p: p, c: c, file: name}
	if err := readSections(name, data, h); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadUIDGIDDir is the package-level LoadUIDGIDDir with p's settings. corosync reads the
// directory in readdir order and skips no name (dot files and editor backups included),
// only what is not a regular file after following symbolic links and files it cannot open;
// the order here is sorted by name, which changes only which of two bad files is reported.
func (p *Parser) LoadUIDGIDDir(dir string) ([]Entry, error) {
	list, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil
	}
	c := newConfig(dir)
	for _, de := range list {
		path := filepath.Join(dir, de.Name())
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if err := readSections(path, data, &uidgidHandler{p: p, c: c, file: path}); err != nil {
			return nil, err
		}
	}
	return c.Entries, nil
}

// strerror renders an OS error as C's strerror does ("No such file or directory").
func strerror(err error) string {
	var errno syscall.Errno
	msg := err.Error()
	if errors.As(err, &errno) {
		msg = errno.Error()
	}
	if msg != "" && msg[0] >= 'a' && msg[0] <= 'z' {
		msg = string(msg[0]-'a'+'A') + msg[1:]
	}
	return msg
}
