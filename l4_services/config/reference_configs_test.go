package config

import "strings"

// referenceConfigs are realistic configurations the reference corosync 3.1.7 runs with.
// Each keeps a node on 127.0.0.1 (the namespace's only address), logs to stderr and uses
// the native IPC.
var referenceConfigs = map[string]string{
	"knet-3-nodes-2-links": `# three nodes, two knet links, no crypto
totem {
	version: 2
	cluster_name: "my cluster"
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 2000
	config_version: 7
	link_mode: passive
	interface {
		linknumber: 1
		knet_ping_interval: 500
		knet_transport: udp
	}
	interface {
		knet_link_priority: 5
	}
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		ring1_addr: 127.0.0.1
		nodeid: 1
		name: node1
	}
	node {
		ring0_addr: 127.0.0.2
		ring1_addr: 127.0.0.2
		nodeid: 2
		name: node2
	}
	node {
		ring0_addr: 127.0.0.3
		ring1_addr: 127.0.0.3
		nodeid: 3
		name: node3
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: yes
	to_syslog: no
	timestamp: off
}
system {
	qb_ipc_type: native
}
`,
	"udpu-generated-nodeids": `totem {
	version: 2
	cluster_name: udpucluster
	transport: udpu
	token: 1500
	token_coefficient: 300
	window_size: 40
	interface {
		mcastport: 5500
	}
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
	}
	node {
		ring0_addr: 127.0.0.2
	}
	node {
		ring0_addr: 127.0.0.3
		nodeid: 9
	}
}
quorum {
	provider: corosync_votequorum
	expected_votes: 3
}
logging {
	to_stderr: yes
	to_syslog: no
}
system {
	qb_ipc_type: native
}
`,
	"quorum-options-logging-subsys": `totem {
	version: 2
	cluster_name: twonode
	crypto_cipher: none
	crypto_hash: none
	knet_compression_model: zlib
	knet_compression_threshold: 200
	knet_compression_level: -1
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		nodeid: 1
		name: alpha
		quorum_votes: 1
	}
	node {
		ring0_addr: 127.0.0.2
		nodeid: 2
		name: beta
	}
}
quorum {
	provider: corosync_votequorum
	two_node: 1
	wait_for_all: 1
	last_man_standing_window: 20000
}
logging {
	to_stderr: yes
	to_syslog: no
	to_logfile: no
	fileline: off
	debug: off
	logger_subsys {
		subsys: QUORUM
		debug: on
	}
	logger_subsys {
		subsys: TOTEM
		debug: trace
		to_stderr: yes
	}
	logging_daemon {
		name: corosync
		subsys: CPG
		debug: on
	}
}
system {
	qb_ipc_type: native
	sched_rr: no
	move_to_root_cgroup: no
}
`,
	"coroparse-quirks": `top:: level
totem {
	version: 2
	cluster_name: quirks
	config_version: -1
	crypto_cipher: none
	crypto_hash: none
	interface {
		knet_ping_timeout: 3000000000
		knet_ping_precision: 4096
		linknumber: 0
		member {
			memberaddr: 10.0.0.1
		}
		member {
			memberaddr: 10.0.0.2
		}
	}
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		nodeid: 1
	}
	node {
		extra {
			note: a subsection counts as a node
		}
	}
	node {
		ring0_addr: 127.0.0.2
		nodeid: 2
	}
}
quorum {
	provider: corosync_votequorum
	device {
		votes: 1
		net {
			host: qnetd.example
		}
	}
}
logging {
	to_stderr: yes
	to_syslog: no
	logger_subsys {
		subsys: QUORUM
		debug: on
		debug: off
	}
	logging_daemon {
		name: qdevice
		debug: on
	}
	logging_daemon {
		name: qnetd
		subsys: NET
		debug: off
	}
	logging_daemon {
		name: corosync
		to_syslog: no
	}
}
system {
	qb_ipc_type: native
}
`,
	"uidgid-comments-whitespace": "# comments, odd whitespace, duplicates and unknown sections\r\n" +
		"   # an indented comment\n" +
		"totem{\n" +
		"\tversion:2\n" +
		"  cluster_name :   spaced value: with colon   \t\n" +
		"\tcrypto_cipher:none\r\n" +
		"\tcrypto_hash: none\n" +
		"\ttoken: 1000\n" +
		"\ttoken: 1200\n" +
		"\tclear_node_high_bit: yes\n" +
		"\tsecauth: off\n" +
		"\tmy_unknown_option: '1'   # not a comment\n" +
		"\tsubsection {\n" +
		"\t\tinner: x\n" +
		"\t}\n" +
		"}\n" +
		"\n" +
		"\t\n" +
		"nodelist   {\n" +
		"node {\n" +
		"ring0_addr: 127.0.0.1\n" +
		"nodeid: 1\n" +
		"}\n" +
		"}\n" +
		"uidgid {\n" +
		"\tuid: 0\n" +
		"\tgid: root\n" +
		"\tuid: nobody\n" +
		"\tgid: 4242\n" +
		"}\n" +
		"uidgid {\n" +
		"\tgid: 65534\n" +
		"}\n" +
		"quorum {\n" +
		"\tprovider: corosync_votequorum\n" +
		"\tdevice {\n" +
		"\t\tvotes: 0\n" +
		"\t}\n" +
		"}\n" +
		"nozzle {\n" +
		"\tname: noz0\n" +
		"}\n" +
		"resources {\n" +
		"\tsystem {\n" +
		"\t\tmemory_used {\n" +
		"\t\t\tpoll_period: 5000\n" +
		"\t\t}\n" +
		"\t}\n" +
		"}\n" +
		"logging {\n" +
		"\tto_stderr: on\n" +
		"\tto_syslog: off\n" +
		"}\n" +
		"system {\n" +
		"\tqb_ipc_type: native\n" +
		"}\n" +
		"pload {\n" +
		"\tcount: 10\n" +
		"}\n",
}

// invalidConfigs are configurations both corosync 3.1.7 (`corosync -t`) and this package
// reject, with the start of our message.
var invalidConfigs = []struct {
	name, conf, want string
}{
	{"unbalanced-open", "totem {\n version: 2\n", "corosync.conf:2: Missing closing brace"},
	{"unexpected-close", "}\n", "corosync.conf:1: Unexpected closing brace"},
	{"garbage-line", "totem {\n version 2\n}\n", "corosync.conf:2: Line is not opening or closing section or key value"},
	{"bad-u8", "quorum {\n two_node: yes\n}\n", `corosync.conf:2: Value of key "quorum.two_node" is expected to be integer in range (0..255), but "yes" was given`},
	{"bad-cipher", "totem {\n crypto_cipher: aes512\n}\n", "corosync.conf:2: Invalid cipher type."},
	{"compress-none", "totem {\n knet_compression_model: none\n}\n", "corosync.conf:2: Invalid compression model. Should be zlib, lz4, lz4hc, lzo2, lzma, bzip2 or zstd"},
	{"unknown-user", "uidgid {\n uid: no-such-user-here\n}\n", "corosync.conf:2: The 'no-such-user-here' user is not found"},
	{"bad-transport", validBase("transport: tcp"), "corosync.conf:7: Invalid transport type."},
	{"version-3", strings.Replace(validBase(""), "version: 2", "version: 3", 1), "corosync.conf:2: This totem parser can only parse version 2"},
	{"knet-no-nodeid", strings.Replace(validBase(""), "nodeid: 1", "name: n1", 1), "Knet requires an explicit nodeid for the local node"},
	{"nodeid-too-big", strings.Replace(validBase(""), "nodeid: 1", "nodeid: 70000", 1), "Knet requires nodeid to be less than 65536"},
	{"duplicate-nodeid", strings.Replace(validBase(""), "nodelist {", "nodelist {\n node {\n  ring0_addr: 127.0.0.2\n  nodeid: 1\n }", 1), "corosync.conf:16: Nodeid 1 appears twice in corosync.conf"},
	{"second-nodelist-replaces-first", validBase("") + "nodelist {\n node {\n  ring0_addr: 127.0.0.2\n  nodeid: 1\n }\n}\n", "No valid name found for local host"},
	{"knet-nodeid-zero", strings.Replace(validBase(""), "nodeid: 1", "nodeid: 0", 1), "corosync.conf:12: Knet requires an explicit nodeid for the local node"},
	{"bad-ip-version", validBase("ip_version: ipv5"), "corosync.conf:7: Invalid ip_version type"},
	{"ipv6-only-v4-ring", strings.Replace(validBase(""), "ip_version: ipv4", "ip_version: ipv6", 1), "corosync.conf:11: failed to parse bindnet address '127.0.0.1'"},
	{"bad-knet-transport", validBase("interface {\n  knet_transport: tcp\n }"), "corosync.conf:8: Unrecognised knet_transport. expected 'udp' or 'sctp'"},
	{"ttl-on-knet", validBase("interface {\n  ttl: 2\n }"), "corosync.conf:8: Can only set ttl on multicast transport types for interface 0"},
	{"priority-on-udpu", validBase("transport: udpu\n interface {\n  knet_link_priority: 3\n }"), "corosync.conf:9: Can only set link priority on knet transport type for interface 0"},
	{"link-number-too-big", strings.Replace(validBase(""), "ring0_addr: 127.0.0.1", "ring0_addr: 127.0.0.1\n  ring9_addr: 127.0.0.1", 1), "interface ring number 9 is bigger than allowed maximum 7"},
	{"multi-link-without-names", strings.Replace(validBase(""), "ring0_addr: 127.0.0.1", "ring0_addr: 127.0.0.1\n  ring1_addr: 127.0.0.1", 1), "for a multi-link configuration, all nodes must have a 'name' attribute"},
	{"short-inline-key", validBase("crypto_cipher: aes256\n crypto_hash: sha256\n key: tooshort"), "key is too short"},
	{"bad-timestamp", validBase("") + "logging {\n timestamp: sometimes\n}\n", "corosync.conf:20: unknown value for timestamp"},
	{"bad-facility", validBase("") + "logging {\n syslog_facility: local9\n}\n", "corosync.conf:20: unknown syslog facility specified"},
	{"bad-subsys-debug", validBase("") + "logging {\n logger_subsys {\n  subsys: QUORUM\n  debug: loud\n }\n}\n", "corosync.conf:22: unknown value for debug"},
	{"line-too-long", "totem {\n cluster_name: " + strings.Repeat("x", 600) + "\n}\n", "corosync.conf:2: Line too long"},
	{"config-version-not-a-number", "totem {\n config_version: abc\n}\n", `corosync.conf:2: Value of key "totem.config_version" is expected to be integer`},
	{"token-too-small", validBase("token: 10"), "corosync.conf:7: The token timeout parameter (10 ms) may not be less than (30 ms)."},
	{"consensus-below-join", validBase("consensus: 40\n join: 60"), "corosync.conf:7: The consensus timeout parameter (40 ms) may not be less than join timeout (60 ms)."},
	{"cipher-without-hash", validBase("crypto_cipher: aes256\n crypto_hash: none"), "crypto_cipher requires crypto_hash"},
	{"unresolvable-ring", strings.Replace(validBase(""), "127.0.0.1", "no-such-host.invalid", 1), "corosync.conf:11: failed to parse bindnet address 'no-such-host.invalid'"},
	{"bad-link-mode", validBase("link_mode: fast"), `The Knet link mode "fast" specified is invalid.`},
	{"bad-log-value", validBase("") + "logging {\n to_syslog: maybe\n}\n", "unknown value for to_syslog"},
	{"udpu-two-links", strings.Replace(validBase("transport: udpu"), "ring0_addr: 127.0.0.1", "ring0_addr: 127.0.0.1\n  ring1_addr: 127.0.0.1\n  name: n1", 1), "2 is too many configured interfaces for non-Knet transport."},
}

// validBase is a minimal valid configuration with extra totem lines (from line 7 on).
func validBase(totemExtra string) string {
	return "totem {\n version: 2\n cluster_name: c\n crypto_cipher: none\n crypto_hash: none\n ip_version: ipv4\n " +
		totemExtra + "\n}\nnodelist {\n node {\n  ring0_addr: 127.0.0.1\n  nodeid: 1\n }\n}\n" +
		"logging {\n to_stderr: yes\n to_syslog: no\n}\n"
}

// acceptedConfigs are unusual configurations corosync -t accepts, which we must accept.
var acceptedConfigs = []struct{ name, conf string }{
	{"mcastport-zero-defaults", validBase("interface {\n  mcastport: 0\n }")},
	{"priority-zero-on-udpu-defaults", validBase("transport: udpu\n interface {\n  knet_link_priority: 0\n }")},
	{"udp-multicast-from-cluster-name", validBase("transport: udp")},
	{"udpu-generated-nodeid", strings.Replace(validBase("transport: udpu"), "  nodeid: 1\n", "", 1)},
	{"comment-line-of-510", "# " + strings.Repeat("x", 508) + "\n" + validBase("")},
	{"nul-starts-a-line", strings.Replace(validBase(""), "cluster_name: c", "cluster_name: c\n\x00 anything {", 1)},
	{"no-final-newline", strings.TrimSuffix(validBase(""), "\n")},
	{"signed-and-padded-numbers", validBase("token: +3000\n join: 050")},
	{"hostname-style-ring", strings.Replace(validBase(""), "127.0.0.1", "localhost", 1)},
	{"inet-aton-ring", strings.Replace(validBase(""), "127.0.0.1", "127.1", 1)},
	{"second-totem-section-adds", validBase("") + "totem {\n token: 5000\n}\n"},
	{"unknown-sections", validBase("") + "future {\n feature {\n  knob: on\n }\n}\n"},
	{"secauth-on-with-key", validBase("secauth: on\n key: " + strings.Repeat("k", 130))},
	{"knet-compression", validBase("knet_compression_model: zstd\n knet_compression_level: -3")},
	{"logging-subsys-trace", validBase("") + "logging {\n logger_subsys {\n  subsys: TOTEM\n  debug: trace\n  syslog_priority: WARNING\n }\n}\n"},
	{"token-coefficient-zero", validBase("token_coefficient: 0")},
}
