package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFlatten(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"totem types", "totem {\n version: 2\n config_version: 18446744073709551615\n knet_compression_level: -5\n crypto_cipher: aes256\n ip_version: ipv4-6\n cluster_name: c\n}\n",
			"totem.version (u32) = 2\ntotem.config_version (u64) = 18446744073709551615\ntotem.knet_compression_level (i32) = -5\n" +
				"totem.crypto_cipher (str) = aes256\ntotem.ip_version (str) = ipv4-6\ntotem.cluster_name (str) = c\n"},
		{"config_version follows strtoull", "totem {\n config_version: -1\n}\n", "totem.config_version (u64) = 18446744073709551615\n"},
		{"interface keys by linknumber at the closing brace",
			"totem {\n interface {\n  knet_ping_interval: 100\n  bindnetaddr: 10.0.0.1\n  linknumber: 3\n  mcastport: 6000\n  ttl: 2\n  knet_link_priority: 9\n  knet_transport: sctp\n  knet_pong_count: 4\n  other: x\n }\n}\n",
			"totem.interface.other (str) = x\ntotem.interface.3.bindnetaddr (str) = 10.0.0.1\ntotem.interface.3.mcastport (u16) = 6000\n" +
				"totem.interface.3.ttl (u8) = 2\ntotem.interface.3.knet_link_priority (u8) = 9\ntotem.interface.3.knet_ping_interval (u32) = 100\n" +
				"totem.interface.3.knet_pong_count (u32) = 4\ntotem.interface.3.knet_transport (str) = sctp\n"},
		{"ping values above 2^31 are dropped (C int)", "totem {\n interface {\n  knet_ping_timeout: 3000000000\n  knet_ping_precision: 2147483647\n }\n}\n",
			"totem.interface.0.knet_ping_precision (u32) = 2147483647\n"},
		{"members are numbered last first", "totem {\n interface {\n  member {\n   memberaddr: a\n  }\n  member {\n   memberaddr: b\n  }\n }\n}\n",
			"totem.interface.0.member.0 (str) = b\ntotem.interface.0.member.1 (str) = a\n"},
		{"nodes numbered by position, typed nodeid and quorum_votes",
			"nodelist {\n node {\n  ring0_addr: a\n  nodeid: 5\n  quorum_votes: 2\n  name: n\n }\n node {\n  ring1_addr: b\n }\n}\n",
			"nodelist.node.0.ring0_addr (str) = a\nnodelist.node.0.nodeid (u32) = 5\nnodelist.node.0.quorum_votes (u32) = 2\nnodelist.node.0.name (str) = n\nnodelist.node.1.ring1_addr (str) = b\n"},
		{"a second nodelist restarts numbering", "nodelist {\n node {\n  ring0_addr: a\n }\n}\nnodelist {\n node {\n  ring0_addr: b\n }\n}\n",
			"nodelist.node.0.ring0_addr (str) = b\n"},
		{"a subsection of a node counts as a node", "nodelist {\n node {\n  x {\n   y: 1\n  }\n  z: 2\n }\n}\n",
			"nodelist.node.0.y (str) = 1\nnodelist.node.1.z (str) = 2\n"},
		{"items directly in nodelist", "nodelist {\n other: v\n}\n", "nodelist.other (str) = v\n"},
		{"quorum types", "quorum {\n provider: corosync_votequorum\n expected_votes: 3\n two_node: 1\n wait_for_all: 0\n auto_tie_breaker_node: lowest\n device {\n  votes: 1\n  master_wins: 1\n  model: net\n  net {\n   host: q\n  }\n }\n}\n",
			"quorum.provider (str) = corosync_votequorum\nquorum.expected_votes (u32) = 3\nquorum.two_node (u8) = 1\nquorum.wait_for_all (u8) = 0\n" +
				"quorum.auto_tie_breaker_node (str) = lowest\nquorum.device.votes (u32) = 1\nquorum.device.master_wins (u8) = 1\nquorum.device.model (str) = net\nquorum.device.net.host (str) = q\n"},
		{"logger_subsys: items last first, first duplicate wins", "logging {\n logger_subsys {\n  subsys: QUORUM\n  debug: on\n  to_syslog: no\n  debug: off\n }\n}\n",
			"logging.logger_subsys.QUORUM.debug (str) = on\nlogging.logger_subsys.QUORUM.to_syslog (str) = no\nlogging.logger_subsys.QUORUM.subsys (str) = QUORUM\n"},
		{"logging_daemon corosync without subsys", "logging {\n logging_daemon {\n  name: corosync\n  debug: on\n }\n}\n", "logging.debug (str) = on\n"},
		{"logging_daemon corosync with subsys", "logging {\n logging_daemon {\n  name: corosync\n  subsys: CPG\n  debug: on\n }\n}\n",
			"logging.logger_subsys.CPG.debug (str) = on\nlogging.logger_subsys.CPG.subsys (str) = CPG\n"},
		{"logging_daemon other", "logging {\n logging_daemon {\n  name: qdevice\n  debug: on\n }\n logging_daemon {\n  name: qnetd\n  subsys: NET\n  debug: off\n }\n}\n",
			"logging.logging_daemon.qdevice.debug (str) = on\nlogging.logging_daemon.qdevice.name (str) = qdevice\n" +
				"logging.logging_daemon.qnetd.NET.debug (str) = off\nlogging.logging_daemon.qnetd.NET.subsys (str) = NET\nlogging.logging_daemon.qnetd.NET.name (str) = qnetd\n"},
		{"uidgid numbers", "uidgid {\n uid: 0\n gid: +42\n uid: 4294967294\n}\n",
			"uidgid.config.uid.0 (u8) = 1\nuidgid.config.gid.42 (u8) = 1\nuidgid.config.uid.4294967294 (u8) = 1\n"},
		{"uidgid in a subsection still counts", "uidgid {\n x {\n  uid: 7\n }\n}\n", "uidgid.config.uid.7 (u8) = 1\n"},
		{"resources", "resources {\n watchdog_timeout: 8\n watchdog_device: off\n system {\n  memory_used {\n   poll_period: 1000\n   warning: 80\n  }\n }\n process {\n  poll_period: 5\n }\n}\n",
			"resources.watchdog_timeout (u32) = 8\nresources.watchdog_device (str) = off\nresources.system.memory_used.poll_period (u64) = 1000\n" +
				"resources.system.memory_used.warning (str) = 80\nresources.process.poll_period (u64) = 5\n"},
		{"pload and nozzle are plain strings", "pload {\n count: 10\n}\nnozzle {\n name: noz\n ipprefix: 24\n}\n",
			"pload.count (str) = 10\nnozzle.name (str) = noz\nnozzle.ipprefix (str) = 24\n"},
		{"system choices", "system {\n qb_ipc_type: socket\n sched_rr: no\n move_to_root_cgroup: auto\n allow_knet_handle_fallback: yes\n priority: -5\n state_dir: /tmp\n}\n",
			"system.qb_ipc_type (str) = socket\nsystem.sched_rr (str) = no\nsystem.move_to_root_cgroup (str) = auto\nsystem.allow_knet_handle_fallback (str) = yes\nsystem.priority (str) = -5\nsystem.state_dir (str) = /tmp\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseBytes("corosync.conf", []byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := render(cfg); got != c.want {
				t.Errorf("got:\n%swant:\n%s", got, c.want)
			}
		})
	}
}

func TestEntriesCarryLines(t *testing.T) {
	cfg, err := ParseBytes("c.conf", []byte("totem {\n token: 1\n interface {\n  mcastport: 5\n  linknumber: 1\n }\n token: 2\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for key, line := range map[string]int{"totem.token": 7, "totem.interface.1.mcastport": 4} {
		e, ok := cfg.Lookup(key)
		if !ok || e.Line != line || e.File != "c.conf" {
			t.Errorf("%s: %+v, want line %d", key, e, line)
		}
	}
	if v, _ := cfg.Get("totem.token"); !v.Equal(U32(2)) || cfg.Map["totem.token"] != v {
		t.Errorf("totem.token = %v", v)
	}
	if cfg.Entries[0].Key != "totem.token" {
		t.Errorf("a repeated key moved: %v", cfg.Entries)
	}
}

func TestUIDGIDNames(t *testing.T) {
	p := &Parser{
		LookupUser: func(name string) (uint32, error) {
			if name == "hacluster" {
				return 189, nil
			}
			return 0, errors.New("unknown")
		},
		LookupGroup: func(name string) (uint32, error) {
			if name == "haclient" {
				return 190, nil
			}
			return 0, errors.New("unknown")
		},
	}
	cfg, err := p.ParseBytes("c", []byte("uidgid {\n uid: hacluster\n gid: haclient\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := render(cfg); got != "uidgid.config.uid.189 (u8) = 1\nuidgid.config.gid.190 (u8) = 1\n" {
		t.Errorf("got %s", got)
	}
	// corosync's own failure value: 3.1.7 fails here with an empty message.
	if _, err := p.ParseBytes("c", []byte("uidgid {\n uid: 4294967295\n}\n")); err == nil {
		t.Error("uid 4294967295 accepted")
	}
}

func TestLoadUIDGIDDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "uidgid {\n uid: 10\n}\n")
	write(".b", "# dot files are read\nuidgid {\n gid: 20\n}\n")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	entries, err := LoadUIDGIDDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range entries {
		got[e.Key] = e.Line
	}
	want := map[string]int{"uidgid.config.uid.10": 2, "uidgid.config.gid.20": 3}
	if len(got) != len(want) || got["uidgid.config.uid.10"] != 2 || got["uidgid.config.gid.20"] != 3 {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []struct{ text, msg string }{
		{"totem {\n}\n", "uidgid: Can't add subsection different than uidgid"},
		{"uid: 1\n", "uidgid: Only uid and gid are allowed items"},
		{"uidgid {\n uidgid {\n }\n}\n", "uidgid: Can't add subsection different than uidgid"},
		{"uidgid {\n name: x\n}\n", "uidgid: Only uid and gid are allowed items"},
	} {
		write("z", bad.text)
		_, err := LoadUIDGIDDir(dir)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Msg != bad.msg || pe.File != filepath.Join(dir, "z") {
			t.Errorf("%q: %v", bad.text, err)
		}
	}
	if entries, err := LoadUIDGIDDir(filepath.Join(dir, "missing")); err != nil || entries != nil {
		t.Errorf("missing directory: %v %v", entries, err)
	}
}

func TestParseReadsUIDGIDDirBesideFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "corosync.conf")
	if err := os.WriteFile(path, []byte("uidgid {\n uid: 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "uidgid.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "uidgid.d", "x"), []byte("uidgid {\n uid: 2\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := cfg.Lookup("uidgid.config.uid.2")
	if _, ok1 := cfg.Get("uidgid.config.uid.1"); !ok || !ok1 || e.File != filepath.Join(dir, "uidgid.d", "x") {
		t.Errorf("entries %v", cfg.Entries)
	}
}

func TestModelLists(t *testing.T) {
	p := &Parser{CryptoModels: []string{"openssl"}, CompressModels: []string{"lz4", "zlib", "zstd"}}
	if _, err := p.ParseBytes("c", []byte("totem {\n crypto_model: nss\n}\n")); err == nil || err.(*ParseError).Msg != "Invalid crypto model. Should be openssl" {
		t.Errorf("got %v", err)
	}
	if _, err := p.ParseBytes("c", []byte("totem {\n knet_compression_model: bzip2\n}\n")); err == nil || err.(*ParseError).Msg != "Invalid compression model. Should be lz4, zlib or zstd" {
		t.Errorf("got %v", err)
	}
}
