package main

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseArgs feeds command lines (arguments separated by NUL) to the option parser: it
// must not panic, and what it returns must be something corosync-cfgtool could print.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"-s", "-sb", "-n", "-i\x00127.0.0.1\x00-s", "-a\x001", "-k\x002", "-R", "-L", "-H\x00--force",
		"--re", "--kill=5", "--=x", "-k\x00 +7", "foo\x00-x", "--\x00-x", "-ks", "--i", "-\xe9",
	} {
		f.Add(s, false)
	}
	f.Add("foo\x00-s", true)
	f.Fuzz(func(t *testing.T, line string, posix bool) {
		args := strings.Split(line, "\x00")
		o, err := parseArgs("tool", args, posix)
		if err != nil {
			if !strings.HasSuffix(err.Msg, "\n") || (err.Msg != badNodeID && !strings.HasPrefix(err.Msg, "tool: ")) {
				t.Fatalf("%q: message %q", args, err.Msg)
			}
			return
		}
		if (o.action == actionKillNode || o.action == actionShowAddrs) && o.nodeID == 0 {
			t.Fatalf("%q: node id 0 for %+v", args, o)
		}
		if o.action < actionUsage || o.action > actionKillNode {
			t.Fatalf("%q: action %d", args, o.action)
		}
	})
}

// FuzzParseNodeID checks parseNodeID against strconv's reading of the same decimal syntax.
func FuzzParseNodeID(f *testing.F) {
	for _, s := range []string{"1", "+5", " 5", "0", "-1", "4294967295", "4294967296", "0x5", "", "5 ", "\t\n9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseNodeID(s)
		v, err := strconv.ParseInt(strings.TrimLeft(s, " \t\n\v\f\r"), 10, 64)
		wantOK := err == nil && v >= 1 && v <= math.MaxUint32
		if ok != wantOK || (ok && int64(got) != v) {
			t.Fatalf("parseNodeID(%q) = %d, %v; strconv says %d, %v", s, got, ok, v, err)
		}
	})
}

var (
	nodeIDKeyRE = regexp.MustCompile(`^nodelist\.node\.[ \t\n\v\f\r]*[+-]?[0-9]+\.nodeid$`)
	interfaceRE = regexp.MustCompile(`^totem\.interface\.[ \t\n\v\f\r]*([+-]?)([0-9]+)`)
)

// FuzzCmapKeys checks the two cmap key readers against regular expressions of the
// syntax sscanf accepts and strtoul's value rules.
func FuzzCmapKeys(f *testing.F) {
	for _, s := range []string{
		"nodelist.node.0.nodeid", "nodelist.node.0.name", "nodelist.node.0.ring0_addr", "nodelist.local_node_pos",
		"nodelist.node.-3.nodeid", "totem.interface.0.bindnetaddr", "totem.interface.1.knet_transport",
		"totem.interface.-1.x", "totem.interface.99999999999999999999", "totem.interface.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if got, want := isNodeIDKey(key), nodeIDKeyRE.MatchString(key); got != want {
			t.Fatalf("isNodeIDKey(%q) = %v, want %v", key, got, want)
		}
		n, ok := interfaceLink(key)
		m := interfaceRE.FindStringSubmatch(key)
		if ok != (m != nil) {
			t.Fatalf("interfaceLink(%q) ok = %v, want %v", key, ok, m != nil)
		}
		if m == nil {
			return
		}
		v, err := strconv.ParseUint(m[2], 10, 64)
		switch {
		case err != nil:
			v = math.MaxUint64
		case m[1] == "-":
			v = -v
		}
		if n != uint32(v) {
			t.Fatalf("interfaceLink(%q) = %d, want %d", key, n, uint32(v))
		}
	})
}
