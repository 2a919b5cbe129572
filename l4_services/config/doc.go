// Package config reads corosync.conf exactly as corosync 3.1.7 does (exec/coroparse.c)
// and checks it as corosync does before running (exec/totemconfig.c, exec/logconfig.c,
// the start of votequorum), so that the daemon accepts, types and rejects the same files
// with the same messages.
//
// # Reading
//
// Parse reads a file and the uidgid.d directory beside it; ParseBytes parses bytes. The
// result holds the cmap entries coroparse would store, in file order and by key:
//
//	cfg, err := config.Parse("/etc/corosync/corosync.conf")
//	if err != nil {
//		return err // *config.ParseError: "corosync.conf:12: Missing closing brace"
//	}
//	token, _ := cfg.Get("totem.token") // config.U32(3000), printed "(u32) = 3000"
//
// The grammar is coroparse's, quirks included: "key: value" lines (the space is optional,
// the key ends at the first ':', the value keeps further colons, inner blanks and quotes,
// and a '#' after it); "name {" opens a section and "}" closes one; a line whose first
// non-blank is '#' is a comment; trailing blanks, one "\n" and one "\r" are dropped; a
// line holding '{' anywhere is a section start, else one holding ':' an item, else one
// holding '}' a section end; lines longer than 510 bytes fail. Unknown sections and keys
// are kept as strings; a subsection of a known section inherits its parent's typing.
//
// Keys are named and typed as corosync names them: totem.* timers are u32,
// totem.config_version u64, knet_compression_level i32; interface sections become
// totem.interface.<linknumber>.* when they close (mcastport u16, ttl and
// knet_link_priority u8, ping values u32, members numbered last first); nodes become
// nodelist.node.<position>.* (nodeid and quorum_votes u32) and a second nodelist
// section numbers from 0 again; logger_subsys and logging_daemon sections become
// logging.logger_subsys.<subsys>.* (or logging.* / logging.logging_daemon.<name>.*);
// uid and gid items become uidgid.config.uid.<id> and uidgid.config.gid.<id> = u8 1,
// names resolved through the user and group databases; quorum and qdevice counters are
// u32 or u8; resources poll_period is u64. Values corosync checks while parsing
// (ip_version, crypto_cipher, crypto_hash, crypto_model, knet_compression_model, the
// system choices, integer ranges) fail with corosync's messages.
//
// # Validating
//
// Validate replays what corosync does with the map before it runs: `corosync -t`'s checks
// (logging values, the state directory, transport, crypto and key, interfaces, finding the
// local node by name or address, nodelist addresses and node ids, timers, duplicate node
// ids, link mode) and then the start-up checks of system.priority and of the quorum
// provider and votequorum options. Derive does the same and also returns the keys corosync
// adds while loading (runtime.config.totem.*, nodelist.local_node_pos, bind addresses
// copied from the local node, generated udp/udpu node ids and udp multicast defaults),
// which the daemon must publish in cmap. Both take a Host: the machine's name, addresses
// and resolver; SystemHost describes this one.
//
// # Differences from corosync 3.1.7
//
// Where corosync misbehaves the package does something definite instead: a bad u64 value
// (totem.config_version, poll_period) is a range error (corosync fails an assert and
// aborts); uid or gid 4294967295 is an error with a message (corosync's is empty); the
// 256- and 384-byte limits on corosync's error messages are not reproduced; line numbers
// count real lines (corosync counts a NUL-started line longer than its buffer twice);
// uidgid.d files are read in name order (corosync uses readdir order); a subsection inside
// an interface or logger_subsys section, which makes corosync reuse freed memory, emits the
// collected keys once; more than 384 nodes on a link is an error (corosync overflows an
// array); log files are not opened and the ev_tracking file is not read.
package config
