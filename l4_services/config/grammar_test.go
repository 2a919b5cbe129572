package config

import (
	"errors"
	"strings"
	"testing"
)

// render lists entries as corosync-cmapctl prints them, in file order.
func render(c *Config) string {
	var b strings.Builder
	for _, e := range c.Entries {
		b.WriteString(e.Key + " " + e.Value.String() + "\n")
	}
	return b.String()
}

func TestGrammar(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"key without space", "totem {\nversion:2\n}\n", "totem.version (u32) = 2\n"},
		{"blanks everywhere", "  totem   {  \n\t token \t:\t 3000 \t\n }\t\n", "totem.token (u32) = 3000\n"},
		{"colon before brace", "totem: {\n}\nfoo:: bar\n", "foo (str) = : bar\n"},
		{"value keeps colons and inner spaces", "totem {\n cluster_name: a: b  c\n}\n", "totem.cluster_name (str) = a: b  c\n"},
		{"quotes are kept", "totem {\n cluster_name: \"x y\"\n}\n", "totem.cluster_name (str) = \"x y\"\n"},
		{"hash inside a value is not a comment", "foo: bar # baz\n", "foo (str) = bar # baz\n"},
		{"comments and blank lines", "# c\n   # c2\n\n \t \ntotem {\n#x: y\n}\n", ""},
		{"CRLF", "totem {\r\n token: 5\r\n}\r\n", "totem.token (u32) = 5\n"},
		{"only one CR is removed", "foo: bar\r\r\n", "foo (str) = bar\r\n"},
		{"no final newline", "totem {\n token: 5\n}", "totem.token (u32) = 5\n"},
		{"empty value", "totem {\n cluster_name:\n}\n", "totem.cluster_name (str) = \n"},
		{"duplicate key: last wins, first place kept", "foo: 1\nbar: x\nfoo: 2\n", "foo (str) = 2\nbar (str) = x\n"},
		{"unknown sections nest as strings", "abc {\n def {\n  ghi: 1\n }\n}\n", "abc.def.ghi (str) = 1\n"},
		{"unknown subsection inherits typing", "totem {\n sub {\n  token: x\n }\n}\n", "totem.sub.token (str) = x\n"},
		{"NUL at the start of a line hides it", "totem {\n\x00 garbage {\n token: 7\n}\n", "totem.token (u32) = 7\n"},
		{"NUL on the last line ends it", "foo: bar\x00baz", "foo (str) = bar\n"},
		{"510 characters fit", "foo: " + strings.Repeat("x", 505) + "\n", "foo (str) = " + strings.Repeat("x", 505) + "\n"},
		{"brace line wins over colon", "a:b {\n}\n", ""},
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

// grammarErrors are inputs coroparse rejects, with the line and message; the reference
// test checks corosync 3.1.7 prints the same.
var grammarErrors = []struct {
	in   string
	line int
	msg  string
}{
	{"totem {\n", 1, "Missing closing brace"},
	{"totem {\n\n# x\n", 3, "Missing closing brace"},
	{"}\n", 1, "Unexpected closing brace"},
	{"totem {\n} x\n", 2, "Extra characters before or after closing bracket '}'"},
	{"totem { x\n}\n", 1, "Extra characters after opening bracket '{'"},
	{"totem { # comment\n}\n", 1, "Extra characters after opening bracket '{'"},
	{"{\n}\n", 1, "Missing section name before opening bracket '{'"},
	{"totem {\n token 3000\n}\n", 2, "Line is not opening or closing section or key value"},
	{"foo: " + strings.Repeat("x", 506) + "\n", 1, "Line too long"},
	{"a\x00b: c\nd: e\n", 1, "Line too long"},
	{"ab: c\n", 1, `Can't store key "ab" into icmap, returned error is CS_ERR_NAME_TOO_LONG`},
	{"my key: c\n", 1, `Can't store key "my key" into icmap, returned error is CS_ERR_NAME_TOO_LONG`},
	{": c\n", 1, `Can't store key ":" into icmap, returned error is CS_ERR_NAME_TOO_LONG`},
	{":c\n", 1, `Can't store key "" into icmap, returned error is CS_ERR_NAME_TOO_LONG`},
	{strings.Repeat("a", 254) + ": x\n", 1, "New key makes total cmap path too long"},
	{strings.Repeat("a", 254) + " {\n}\n", 1, "Start of section makes total cmap path too long"},
	{"totem {\n token: 3e3\n}\n", 2, `Value of key "totem.token" is expected to be integer in range (0..4294967295), but "3e3" was given`},
	{"totem {\n token: 4294967296\n}\n", 2, `Value of key "totem.token" is expected to be integer in range (0..4294967295), but "4294967296" was given`},
	{"totem {\n token: -1\n}\n", 2, `Value of key "totem.token" is expected to be integer in range (0..4294967295), but "-1" was given`},
	{"uidgid {\n foo: 1\n}\n", 2, "uidgid: Only uid and gid are allowed items"},
	{"uidgid {\n uid: no-such-user-x\n}\n", 2, "The 'no-such-user-x' user is not found in /etc/passwd, please read the documentation."},
	{"uidgid {\n gid: no-such-group-x\n}\n", 2, "The 'no-such-group-x' group is not found in /etc/group, please read the documentation."},
	{"uidgid {\n uid: -1\n}\n", 2, "The '-1' user is not found in /etc/passwd, please read the documentation."},
	{"logging {\n logger_subsys {\n  debug: on\n }\n}\n", 4, "No subsys key in logger_subsys directive"},
	{"logging {\n logging_daemon {\n  subsys: X\n }\n}\n", 4, "No name key in logging_daemon directive"},
	{"logging {\n logger_subsys {\n  subsys: A B\n  debug: on\n }\n}\n", 5, `Can't store key "logging.logger_subsys.A B.debug" into icmap, returned error is CS_ERR_NAME_TOO_LONG`},
	{"totem {\n interface {\n  member {\n   foo: 1\n  }\n }\n}\n", 4, "Only memberaddr is allowed in member section"},
	{"system {\n qb_ipc_type: posix\n}\n", 2, "Invalid system.qb_ipc_type"},
	{"system {\n sched_rr: on\n}\n", 2, "Invalid system.sched_rr value"},
	{"system {\n move_to_root_cgroup: maybe\n}\n", 2, "Invalid system.move_to_root_cgroup"},
	{"system {\n allow_knet_handle_fallback: 1\n}\n", 2, "Invalid system.allow_knet_handle_fallback"},
	{"totem {\n crypto_model: gcrypt\n}\n", 2, "Invalid crypto model. Should be nss or openssl"},
	{"totem {\n crypto_hash: sha3\n}\n", 2, "Invalid hash type. Should be none, md5, sha1, sha256, sha384 or sha512"},
	{"totem {\n ip_version: ipv5\n}\n", 2, "Invalid ip_version type"},
	{"totem {\n interface {\n  linknumber: 256\n }\n}\n", 3, `Value of key "totem.interface.linknumber" is expected to be integer in range (0..255), but "256" was given`},
	{"totem {\n interface {\n  mcastport: 65536\n }\n}\n", 3, `Value of key "totem.interface.mcastport" is expected to be integer in range (0..65535), but "65536" was given`},
	{"nodelist {\n node {\n  ring0_addr: x\n }\n node {\n  nodeid: 0x10\n }\n}\n", 6, `Value of key "nodelist.node.1.nodeid" is expected to be integer in range (0..4294967295), but "0x10" was given`},
	{"quorum {\n device {\n  master_wins: 2x\n }\n}\n", 3, `Value of key "quorum.device.master_wins" is expected to be integer in range (0..255), but "2x" was given`},
	{"totem {\n knet_compression_level: 2147483648\n}\n", 2, `Value of key "totem.knet_compression_level" is expected to be integer in range (-2147483648..2147483647), but "2147483648" was given`},
	{"resources {\n watchdog_timeout: soon\n}\n", 2, `Value of key "resources.watchdog_timeout" is expected to be integer in range (0..4294967295), but "soon" was given`},
}

func TestGrammarErrors(t *testing.T) {
	for _, c := range grammarErrors {
		_, err := ParseBytes("corosync.conf", []byte(c.in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v, want a *ParseError", c.in, err)
			continue
		}
		if pe.Line != c.line || pe.Msg != c.msg || pe.File != "corosync.conf" {
			t.Errorf("%q: got %s:%d: %s, want line %d: %s", c.in, pe.File, pe.Line, pe.Msg, c.line, c.msg)
		}
	}
}

func TestParseErrorText(t *testing.T) {
	e := &ParseError{File: "corosync.conf", Line: 12, Msg: `expected "}" or key: value`}
	if got := e.Error(); got != `corosync.conf:12: expected "}" or key: value` {
		t.Errorf("got %q", got)
	}
	e = &ParseError{File: "/nonexistent", Msg: "Can't read file /nonexistent: No such file or directory"}
	if got := e.Error(); got != "/nonexistent: Can't read file /nonexistent: No such file or directory" {
		t.Errorf("got %q", got)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Parse("/nonexistent/corosync.conf")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 0 || pe.Msg != "Can't read file /nonexistent/corosync.conf: No such file or directory" {
		t.Fatalf("got %#v", err)
	}
}
