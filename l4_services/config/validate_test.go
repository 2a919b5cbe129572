package config

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
)

// fakeHost is a machine with the given name and addresses and a fixed name table.
func fakeHost(hostname string, addrs ...string) Host {
	h := Host{
		Hostname: hostname,
		LookupIP: func(_ context.Context, name string) ([]netip.Addr, error) {
			switch name {
			case "node-a.example.com", "alias-a":
				return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil
			case "node-b.example.com":
				return []netip.Addr{netip.MustParseAddr("192.0.2.2")}, nil
			case "dual":
				return []netip.Addr{netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("2001:db8::9")}, nil
			}
			return nil, errors.New("not found")
		},
		LookupAddr: func(_ context.Context, a netip.Addr) (string, error) {
			if a.String() == "192.0.2.1" {
				return "node-a.example.com", nil
			}
			return "", errors.New("no name")
		},
	}
	for _, a := range addrs {
		h.Addrs = append(h.Addrs, netip.MustParseAddr(a))
	}
	return h
}

// conf builds a configuration from totem lines, node blocks and other sections.
func conf(totem string, nodes []string, rest string) string {
	var b strings.Builder
	b.WriteString("totem {\n version: 2\n cluster_name: test\n crypto_cipher: none\n crypto_hash: none\n" + totem + "}\nnodelist {\n")
	for _, n := range nodes {
		b.WriteString(" node {\n" + n + " }\n")
	}
	b.WriteString("}\n" + rest)
	return b.String()
}

func derive(t *testing.T, text string, h Host) (map[string]Value, error) {
	t.Helper()
	cfg, err := ParseBytes("corosync.conf", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := Derive(context.Background(), cfg, h)
	m := map[string]Value{}
	for _, e := range entries {
		m[e.Key] = e.Value
	}
	return m, err
}

func TestDeriveTimers(t *testing.T) {
	h := fakeHost("x", "192.0.2.1")
	node := func(i int) string { return fmt.Sprintf("  ring0_addr: 192.0.2.%d\n  nodeid: %d\n", i, i) }
	for _, c := range []struct {
		name  string
		totem string
		nodes int
		want  map[string]uint32
	}{
		{"defaults", "", 2, map[string]uint32{"token": 3000, "consensus": 3600, "token_retransmit": 714, "hold": 561,
			"join": 50, "merge": 200, "downcheck": 1000, "token_warning": 75, "window_size": 50, "max_messages": 17,
			"interface.0.knet_ping_interval": 750, "interface.0.knet_ping_timeout": 1500, "block_unlisted_ips": 1}},
		// The reference notes' figures: 3 nodes make the token 3650 ms.
		{"three nodes", "", 3, map[string]uint32{"token": 3650, "consensus": 4380, "token_retransmit": 869, "hold": 685}},
		{"sixteen nodes", "", 16, map[string]uint32{"token": 12100}},
		{"explicit values win", " token: 1000\n consensus: 5000\n hold: 100\n token_warning: 0\n block_unlisted_ips: no\n", 2,
			map[string]uint32{"token": 1000, "consensus": 5000, "hold": 100, "token_retransmit": 238, "token_warning": 0, "block_unlisted_ips": 0}},
		{"zero means default", " join: 0\n", 2, map[string]uint32{"join": 50}},
		{"pong count drives ping timers", " token: 4000\n interface {\n  knet_pong_count: 4\n }\n", 2,
			map[string]uint32{"interface.0.knet_ping_timeout": 1000, "interface.0.knet_ping_interval": 500}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var nodes []string
			for i := 1; i <= c.nodes; i++ {
				nodes = append(nodes, node(i))
			}
			m, err := derive(t, conf(c.totem, nodes, ""), h)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range c.want {
				if v := m["runtime.config.totem."+k]; !v.Equal(U32(want)) {
					t.Errorf("%s = %v, want %d", k, v, want)
				}
			}
			if v := m["nodelist.local_node_pos"]; !v.Equal(U32(0)) {
				t.Errorf("local_node_pos = %v", v)
			}
			if v := m["totem.interface.0.bindnetaddr"]; !v.Equal(Str("192.0.2.1")) {
				t.Errorf("bindnetaddr = %v", v)
			}
		})
	}
}

func TestDeriveUDP(t *testing.T) {
	h := fakeHost("x", "192.0.2.1")
	m, err := derive(t, conf(" transport: udp\n", []string{"  ring0_addr: 192.0.2.1\n", "  ring0_addr: 192.0.2.2\n"}, ""), h)
	if err != nil {
		t.Fatal(err)
	}
	// "test": ((('t'*2+'e')*2+'s')*2+'t') = 1678 = 0x68e -> 239.192.6.(1678%255)
	want := map[string]Value{
		"totem.interface.0.mcastaddr": Str("239.192.6.148"),
		"totem.interface.0.mcastport": U16(5405),
		"nodelist.node.0.nodeid":      U32(0xc0000201),
		"nodelist.node.1.nodeid":      U32(0xc0000202),
		// Both nodes' nodeids were generated while their address was their only key:
		// corosync counts each twice, so the token grows by two coefficients.
		"runtime.config.totem.token": U32(3000 + 2*650),
	}
	for k, v := range want {
		if !m[k].Equal(v) {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}

func TestFindLocalNode(t *testing.T) {
	two := func(a, b string) []string {
		return []string{"  ring0_addr: " + a + "\n  nodeid: 1\n", "  ring0_addr: " + b + "\n  nodeid: 2\n"}
	}
	named := func(name string) []string {
		return []string{"  ring0_addr: 10.9.9.9\n  nodeid: 1\n  name: other\n", "  ring0_addr: 10.9.9.8\n  nodeid: 2\n  name: " + name + "\n"}
	}
	for _, c := range []struct {
		name  string
		host  Host
		nodes []string
		pos   uint32
	}{
		{"by host name", fakeHost("me"), named("me"), 1},
		{"by shortened host name", fakeHost("me.lab.example"), named("me.lab"), 1},
		{"by host name without domain", fakeHost("me.lab.example"), named("me.other"), 1},
		{"by interface address", fakeHost("x", "10.0.0.5", "192.0.2.2"), two("192.0.2.1", "192.0.2.2"), 1},
		{"by interface name", fakeHost("x", "192.0.2.1"), named("node-a"), 1},
		{"by alias resolving to an interface", fakeHost("x", "192.0.2.1"), named("alias-a"), 1},
		{"ring0_addr as a name", fakeHost("x", "192.0.2.2"), two("192.0.2.1", "node-b.example.com"), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := derive(t, conf(" ip_version: ipv4\n", c.nodes, ""), c.host)
			if err != nil {
				t.Fatal(err)
			}
			if got := m["nodelist.local_node_pos"]; !got.Equal(U32(c.pos)) {
				t.Errorf("local_node_pos = %v, want %d", got, c.pos)
			}
		})
	}
	_, err := derive(t, conf("", two("192.0.2.1", "192.0.2.2"), ""), fakeHost("x", "10.0.0.1"))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Msg != "No valid name found for local host" {
		t.Errorf("no local node: %v", err)
	}
}

func TestValidationErrors(t *testing.T) {
	h := fakeHost("x", "192.0.2.1")
	h.ReadFile = func(name string) ([]byte, error) {
		switch name {
		case "/etc/corosync/authkey":
			return make([]byte, 256), nil
		case "/short":
			return make([]byte, 16), nil
		}
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
	}
	h.DirExists = func(p string) bool { return p == "/var/lib/corosync" }
	n1 := "  ring0_addr: 192.0.2.1\n  nodeid: 1\n"
	n2 := "  ring0_addr: 192.0.2.2\n  nodeid: 2\n"
	for _, c := range []struct {
		name, text, msg string
		line            int
	}{
		{"valid", conf("", []string{n1, n2}, ""), "", 0},
		{"default key file is read", conf(" crypto_cipher: aes256\n crypto_hash: sha256\n", []string{n1}, ""), "", 0},
		{"cipher needs hash", conf(" crypto_cipher: aes128\n", []string{n1}, ""),
			"crypto_cipher requires crypto_hash with value other than none", 6},
		{"explicit none overrides secauth", conf(" secauth: on\n keyfile: /short\n", []string{n1}, ""), "", 0},
		{"missing key file", conf(" crypto_cipher: aes128\n crypto_hash: sha1\n keyfile: /nope\n", []string{n1}, ""),
			"Could not open /nope: No such file or directory", 8},
		{"short key file", conf(" crypto_hash: sha1\n keyfile: /short\n", []string{n1}, ""),
			"Could only read 128 bits of minimum 1024 bits from /short.", 7},
		{"token warning", conf(" token_warning: 101\n", []string{n1}, ""),
			"The token warning parameter (101%) must be between 0 (disabled) and 100.", 6},
		{"token retransmit", conf(" token_retransmit: 20\n", []string{n1}, ""),
			"The token retransmit timeout parameter (20 ms) may not be less than (30 ms).", 6},
		{"retransmits before loss", conf(" token: 100\n token_retransmits_before_loss_const: 10\n", []string{n1}, ""),
			"Not appropriate token or token_retransmits_before_loss_const value set", 6},
		{"hold", conf(" hold: 10\n", []string{n1}, ""), "The token hold timeout parameter (10 ms) may not be less than (14 ms).", 6},
		{"duplicate node id", conf("", []string{n1, "  ring0_addr: 192.0.2.2\n  nodeid: 1\n"}, ""),
			"Nodeid 1 appears twice in corosync.conf", 14},
		{"mixed families on a link", conf("", []string{n1, "  ring0_addr: 2001:db8::2\n  nodeid: 2\n"}, ""),
			"Nodes for link 0 have different IP families (compared 2001:db8::2 with 192.0.2.1)", 0},
		{"not all nodes on all links", conf("", []string{"  name: a\n" + n1 + "  ring1_addr: 192.0.2.1\n", "  name: b\n" + n2}, ""),
			"Not all nodes have the same number of links", 0},
		{"udp mcast not multicast", conf(" transport: udp\n interface {\n  mcastaddr: 192.0.2.200\n }\n", []string{n1}, ""),
			"mcastaddr is not a correct multicast address for interface 0", 8},
		{"udp crypto", conf(" transport: udpu\n crypto_cipher: aes256\n crypto_hash: sha1\n", []string{n1}, ""),
			"crypto_cipher & crypto_hash are only valid for the Knet transport.", 7},
		{"state dir", conf("", []string{n1}, "system {\n state_dir: /nonexistent\n}\n"),
			"Cannot chdir to state directory /nonexistent. No such file or directory", 14},
		{"priority", conf("", []string{n1}, "system {\n priority: high\n}\n"), "Priority value high is invalid", 14},
		{"priority in range", conf("", []string{n1}, "system {\n priority: -10\n}\n"), "", 0},
		{"unknown quorum provider", conf("", []string{n1}, "quorum {\n provider: corosync_quorum\n}\n"),
			"Quorum provider: corosync_quorum failed to initialize: Invalid quorum provider", 14},
		{"two_node with qdevice", conf("", []string{n1, n2}, "quorum {\n provider: corosync_votequorum\n two_node: 1\n device {\n  model: net\n  votes: 1\n }\n}\n"),
			"configuration error: two_node and quorum device cannot be configured at the same time!", 19},
		{"atb and lms in an odd cluster", conf("", []string{n1}, "quorum {\n provider: corosync_votequorum\n auto_tie_breaker: 1\n last_man_standing: 1\n}\n"),
			"configuration error: auto_tie_breaker & last_man_standing not available in odd sized cluster", 16},
		{"atb and lms with wait_for_all", conf("", []string{n1}, "quorum {\n provider: corosync_votequorum\n auto_tie_breaker: 1\n last_man_standing: 1\n wait_for_all: 1\n}\n"), "", 0},
		{"qdevice votes with expected_votes", conf("", []string{n1, n2}, "quorum {\n provider: corosync_votequorum\n expected_votes: 2\n device {\n  model: net\n }\n}\n"),
			"configuration error: quorum.device.votes must be specified when quorum.expected_votes is set", 19},
		{"qdevice votes too high", conf("", []string{n1, n2}, "quorum {\n provider: corosync_votequorum\n expected_votes: 3\n device {\n  model: net\n  votes: 2\n }\n}\n"),
			"configuration error: quorum.device.votes is too high or expected_votes is too low", 22},
		{"qdevice with uneven votes", conf("", []string{n1, n2 + "  quorum_votes: 2\n"}, "quorum {\n provider: corosync_votequorum\n device {\n  model: net\n }\n}\n"),
			"configuration error: quorum.device.votes must be specified when not all nodes votes 1", 21},
		{"syslog priority names ignore case", conf("", []string{n1}, "logging {\n syslog_priority: Warning\n logfile_priority: ERR\n}\n"), "", 0},
		{"bad logfile priority", conf("", []string{n1}, "logging {\n logfile_priority: loud\n}\n"), "unknown logfile priority specified", 14},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := derive(t, c.text, h)
			if c.msg == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want %q", err, c.msg)
			}
			if ve.Msg != c.msg || ve.Line != c.line {
				t.Errorf("got line %d %q, want line %d %q", ve.Line, ve.Msg, c.line, c.msg)
			}
		})
	}
}

func TestValidateSystemHost(t *testing.T) {
	cfg, err := ParseBytes("corosync.conf", []byte(conf(" ip_version: ipv4\n", []string{"  ring0_addr: 127.0.0.1\n  nodeid: 1\n"}, "")))
	if err != nil {
		t.Fatal(err)
	}
	h := SystemHost()
	h.DirExists = nil  // the state directory need not exist where tests run
	h.LookupAddr = nil // reverse DNS of every interface address can be slow without a network
	if err := ValidateOn(context.Background(), cfg, h); err != nil {
		t.Fatalf("a loopback node should validate on any machine: %v", err)
	}
}
