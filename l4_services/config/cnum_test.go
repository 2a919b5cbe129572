package config

import (
	"math"
	"net/netip"
	"testing"
)

func TestStrtoll(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "+7": 7, "-7": -7, "007": 7, " 5": 5, "\v5": 5,
		"9223372036854775807": math.MaxInt64, "-9223372036854775808": math.MinInt64} {
		if got, ok := strtoll(in); !ok || got != want {
			t.Errorf("strtoll(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", " ", "+", "1x", "0x10", "1 ", "9223372036854775808", "3e3", "1.0"} {
		if got, ok := strtoll(in); ok {
			t.Errorf("strtoll(%q) = %d, want failure", in, got)
		}
	}
}

func TestStrtoull(t *testing.T) {
	for in, want := range map[string]uint64{"18446744073709551615": math.MaxUint64, "-1": math.MaxUint64, "-0": 0, "+3": 3} {
		if got, ok := strtoull(in); !ok || got != want {
			t.Errorf("strtoull(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"18446744073709551616", "abc", "", "1 2"} {
		if _, ok := strtoull(in); ok {
			t.Errorf("strtoull(%q) accepted", in)
		}
	}
}

func TestScanKeys(t *testing.T) {
	for _, c := range []struct {
		key  string
		pos  uint32
		item string
		n    int
	}{
		{"nodelist.node.12.ring0_addr", 12, "ring0_addr", 2},
		{"nodelist.node.3", 3, "", 1},
		{"nodelist.node.3.", 3, "", 1},
		{"nodelist.node.x.name", 0, "", 0},
		{"nodelist.node.-1.name", math.MaxUint32, "name", 2},
		{"nodelist.local_node_pos", 0, "", 0},
	} {
		pos, item, n := scanNodeKey(c.key)
		if pos != c.pos || item != c.item || n != c.n {
			t.Errorf("scanNodeKey(%q) = %d %q %d", c.key, pos, item, n)
		}
	}
	if pos, link, tail, n := scanRingKey("nodelist.node.2.ring10_addr"); pos != 2 || link != 10 || tail != "_addr" || n != 3 {
		t.Errorf("scanRingKey: %d %d %q %d", pos, link, tail, n)
	}
	if _, _, _, n := scanRingKey("nodelist.node.2.name"); n != 1 {
		t.Errorf("scanRingKey of a name key: %d fields", n)
	}
	if seg, rest, ok := scanSegment("totem.interface.1.knet_ping_interval", "totem.interface."); !ok || seg != "1" || rest != "knet_ping_interval" {
		t.Errorf("scanSegment: %q %q %v", seg, rest, ok)
	}
	if _, _, ok := scanSegment("totem.interface.linknumber", "totem.interface."); ok {
		t.Error("scanSegment matched a key without a second dot")
	}
	if atoi("12abc") != 12 || atoi("abc") != 0 || atoi("-3") != -3 {
		t.Error("atoi")
	}
}

// TestParseNumeric checks the numeric forms glibc's getaddrinfo accepts (as observed with
// Python's socket.getaddrinfo on Debian 12).
func TestParseNumeric(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "127.1": "127.0.0.1", "0x7f.0.0.1": "127.0.0.1", "017700000001": "127.0.0.1",
		"2130706433": "127.0.0.1", "127.0.0.01": "127.0.0.1", "10.1.2": "10.1.0.2", "::1": "::1", "fe80::1%lo": "fe80::1%lo",
	} {
		got, ok := parseNumeric(in)
		if !ok || got != netip.MustParseAddr(want) {
			t.Errorf("parseNumeric(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"1.2.3.4.5", "127.0.0.1 ", "08.1.1.1", "256.1.1.1", "1.2.3.256", "localhost", "", "127..1", "1.2.3."} {
		if got, ok := parseNumeric(in); ok {
			t.Errorf("parseNumeric(%q) = %v, want failure", in, got)
		}
	}
}
