package cmapsvc

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// corosyncReadOnly marks what corosync 3.1.7's main.c marks read-only for IPC clients.
func corosyncReadOnly(m *icmap.Map) {
	for _, p := range []string{"internal_configuration.", "runtime.services.", "runtime.config.", "runtime.totem.",
		"uidgid.config.", "system.", "nodelist."} {
		m.SetReadOnly(p, true, true)
	}
	for _, k := range []string{"totem.crypto_cipher", "totem.crypto_hash", "totem.crypto_model", "totem.keyfile",
		"totem.key", "totem.secauth", "totem.ip_version", "totem.rrp_mode", "totem.transport", "totem.cluster_name",
		"totem.version", "totem.threads", "totem.netmtu", "totem.link_mode", "qb.ipc_type", "config.reload_in_progress",
		"config.totemconfig_reload_in_progress"} {
		m.SetReadOnly(k, false, true)
	}
}

func cmapctlEnv(t *testing.T, stats StatsSource) *env {
	t.Helper()
	needCmapctl(t)
	m := icmap.New()
	for k, v := range map[string]cmap.Value{
		"totem.cluster_name":         cmap.String("research"),
		"totem.token":                cmap.Uint32(3000),
		"runtime.config.totem.token": cmap.Uint32(3000),
		"nodelist.node.0.nodeid":     cmap.Uint32(1),
		"nodelist.node.0.ring0_addr": cmap.String("127.0.0.1"),
	} {
		m.Set(k, v)
	}
	for k, v := range everyType {
		m.Set(k, v)
	}
	corosyncReadOnly(m)
	return newEnv(t, Config{Map: m, Stats: stats, StatsPoll: 20 * time.Millisecond})
}

func run(t *testing.T, e *env, args ...string) string {
	t.Helper()
	out, err := cmapctl(e.ns, args...)
	if err != nil {
		t.Fatalf("corosync-cmapctl %v: %v\n%s", args, err, out)
	}
	return out
}

func TestCmapctlReads(t *testing.T) {
	e := cmapctlEnv(t, nil)
	out := run(t, e)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(e.m.Keys("")) {
		t.Errorf("list has %d lines for %d keys:\n%s", len(lines), len(e.m.Keys("")), out)
	}
	for _, want := range []string{
		"nodelist.node.0.nodeid (u32) = 1",
		"nodelist.node.0.ring0_addr (str) = 127.0.0.1",
		"runtime.config.totem.token (u32) = 3000",
		"totem.cluster_name (str) = research",
		"types.bin (bin)",
		"types.dbl (dbl) = -2.250000",
		"types.flt (flt) = 1.500000",
		"types.i16 (i16) = -16000",
		"types.i32 (i32) = -2147483648",
		"types.i64 (i64) = -9223372036854775808",
		"types.i8 (i8) = -8",
		"types.str (str) = hello world",
		"types.u16 (u16) = 65000",
		"types.u32 (u32) = 4294967295",
		"types.u64 (u64) = 18446744073709551615",
		"types.u8 (u8) = 200",
	} {
		if !strings.Contains("\n"+out, "\n"+want+"\n") {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if got := run(t, e, "totem."); got != "totem.cluster_name (str) = research\ntotem.token (u32) = 3000\n" {
		t.Errorf("prefix list:\n%s", got)
	}
	// 3.1.7's print_binary_key passes a signed char to %02X: 0xff prints as FFFFFFFF.
	if got := run(t, e, "-b", "types.bin"); got != "types.bin (bin) = \\x00\\x01\\x02\\xFFFFFFFF\n" {
		t.Errorf("binary list: %q", got)
	}
	if got := run(t, e, "-g", "totem.token"); got != "totem.token (u32) = 3000\n" {
		t.Errorf("-g: %q", got)
	}
	if got := run(t, e, "-q", "-g", "types.str"); got != "hello world\n" {
		t.Errorf("-q -g: %q", got)
	}
	if out, err := cmapctl(e.ns, "-g", "no.such.key"); err == nil || out != "Can't get key no.such.key. Error CS_ERR_NOT_EXIST\n" {
		t.Errorf("-g absent: %v %q", err, out)
	}
	if out, err := cmapctl(e.ns, "no.such.prefix."); err == nil || out != "" {
		t.Errorf("empty prefix list: %v %q", err, out)
	}
}

func TestCmapctlWrites(t *testing.T) {
	e := cmapctlEnv(t, nil)
	run(t, e, "-s", "test.answer", "u32", "5")
	run(t, e, "-s", "test.greeting", "str", "hello")
	run(t, e, "-s", "test.spaces", "str", "hello big world")
	run(t, e, "-s", "--", "test.neg", "i8", "-128")
	run(t, e, "-s", "test.dbl", "dbl", "0.125")
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(bin, []byte{0xde, 0xad, 0, 1}, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, e, "-s", "test.bin", "bin", bin)
	for k, want := range map[string]cmap.Value{
		"test.answer":   cmap.Uint32(5),
		"test.greeting": cmap.String("hello"),
		"test.spaces":   cmap.String("hello big world"),
		"test.neg":      cmap.Int8(-128),
		"test.dbl":      cmap.Double(0.125),
		"test.bin":      cmap.Binary([]byte{0xde, 0xad, 0, 1}),
	} {
		if v, err := e.m.Get(k); err != nil || !v.Equal(want) {
			t.Errorf("%s stored as %v (%v) %v, want %v", k, v, v.Type(), err, want)
		}
	}
	if got := run(t, e, "-g", "test.greeting"); got != "test.greeting (str) = hello\n" {
		t.Errorf("-g after -s: %q", got)
	}
	run(t, e, "-s", "test.answer", "u32", "6")
	if v, _ := e.m.Get("test.answer"); v.Uint32() != 6 {
		t.Errorf("overwrite: %v", v)
	}

	run(t, e, "-d", "test.answer")
	if _, err := e.m.Get("test.answer"); err == nil {
		t.Error("-d left the key")
	}
	if out, err := cmapctl(e.ns, "-d", "test.answer"); err == nil || out != "Can't delete key test.answer. Error CS_ERR_NOT_EXIST\n" {
		t.Errorf("-d absent: %v %q", err, out)
	}
	run(t, e, "-D", "test.")
	if keys := e.m.Keys("test."); len(keys) != 0 {
		t.Errorf("-D left %v", keys)
	}
	if len(e.m.Keys("types.")) != len(everyType) {
		t.Error("-D test. deleted other keys")
	}

	for args, want := range map[string]string{
		"-s totem.cluster_name str x":         "Failed to set key totem.cluster_name. Error CS_ERR_ACCESS\n",
		"-s runtime.config.totem.token u32 1": "Failed to set key runtime.config.totem.token. Error CS_ERR_ACCESS\n",
		"-d nodelist.node.0.nodeid":           "Can't delete key nodelist.node.0.nodeid. Error CS_ERR_ACCESS\n",
		"-s ab u8 1":                          "Failed to set key ab. Error CS_ERR_NAME_TOO_LONG\n",
		"-s bad! u8 1":                        "Failed to set key bad!. Error CS_ERR_NAME_TOO_LONG\n",
	} {
		out, err := cmapctl(e.ns, strings.Fields(args)...)
		if err == nil || out != want {
			t.Errorf("%s: %v %q, want %q", args, err, out, want)
		}
	}
	if v, _ := e.m.Get("totem.cluster_name"); v.String() != "research" {
		t.Errorf("read-only key changed to %v", v)
	}
	// An -D over read-only keys reports each refusal and deletes nothing.
	out, _ := cmapctl(e.ns, "-D", "nodelist.")
	if want := "Can't delete key nodelist.node.0.nodeid. Error CS_ERR_ACCESS\nCan't delete key nodelist.node.0.ring0_addr. Error CS_ERR_ACCESS\n"; out != want {
		t.Errorf("-D of read-only keys: %q", out)
	}
}

func TestCmapctlStatsMap(t *testing.T) {
	stats := sampleStats()
	e := cmapctlEnv(t, stats)
	want := "stats.ipcs.global.active (u64) = 2\n" +
		"stats.ipcs.service0.1.0x1.procname (str) = corosync-cmapct\n" +
		"stats.schedmiss.0.delay (flt) = 12.500000\n" +
		"stats.srp.firewall_enabled (u8) = 0\n" +
		"stats.srp.orf_token_rx (u64) = 46\n"
	if got := run(t, e, "-m", "stats"); got != want {
		t.Errorf("-m stats:\n%s\nwant:\n%s", got, want)
	}
	if got := run(t, e, "-m", "stats", "stats.srp."); got != "stats.srp.firewall_enabled (u8) = 0\nstats.srp.orf_token_rx (u64) = 46\n" {
		t.Errorf("-m stats prefix: %q", got)
	}
	if got := run(t, e, "-m", "stats", "-g", "stats.schedmiss.0.delay"); got != "stats.schedmiss.0.delay (flt) = 12.500000\n" {
		t.Errorf("-m stats -g: %q", got)
	}
	if out, err := cmapctl(e.ns, "-m", "stats", "-s", "stats.srp.orf_token_rx", "u64", "5"); err == nil || out != "Failed to set key stats.srp.orf_token_rx. Error CS_ERR_ACCESS\n" {
		t.Errorf("-m stats -s: %v %q", err, out)
	}
	if out, err := cmapctl(e.ns, "-m", "stats", "-s", "stats.clear.foo", "u32", "1"); err == nil || out != "Failed to set key stats.clear.foo. Error CS_ERR_NOT_SUPPORTED\n" {
		t.Errorf("-m stats -s stats.clear.foo: %v %q", err, out)
	}
	run(t, e, "-C", "all")
	run(t, e, "-C", "knet")
	if got := stats.clearedList(); !reflect.DeepEqual(got, []string{"all", "knet"}) {
		t.Errorf("-C cleared %v", got)
	}
	// The icmap is untouched by the stats map, and the default map has no stats.
	if got := run(t, e, "totem.token"); got != "totem.token (u32) = 3000\n" {
		t.Errorf("icmap after stats: %q", got)
	}
	if out, err := cmapctl(e.ns, "stats."); err == nil || out != "" {
		t.Errorf("stats keys on the icmap: %v %q", err, out)
	}

	tr := startTracking(t, e.ns, "-m", "stats", "-t", "stats.srp.orf_token_rx")
	stats.put("stats.srp.orf_token_rx", cmap.Uint64(50))
	tr.waitLines(t, 1)
	if got := notes(tr.stop(t)); !reflect.DeepEqual(got, []string{"modify> stats.srp.orf_token_rx (u64) = 50"}) {
		t.Errorf("-m stats -t: %q", got)
	}
}

func TestCmapctlTracking(t *testing.T) {
	e := cmapctlEnv(t, nil)
	key := startTracking(t, e.ns, "-t", "trk.key")
	prefix := startTracking(t, e.ns, "-T", "trk.")
	e.m.Set("trk.key", cmap.Uint32(5))
	run(t, e, "-s", "trk.key", "u32", "6")
	run(t, e, "-s", "trk.other", "str", "x y")
	run(t, e, "-d", "trk.key")
	key.waitLines(t, 3)
	prefix.waitLines(t, 4)
	if got, want := notes(key.stop(t)), []string{
		"create> trk.key (u32) = 5",
		"modify> trk.key (u32) = 6",
		"delete> trk.key (u32) = 6",
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("-t:\n%q\nwant\n%q", got, want)
	}
	if got, want := notes(prefix.stop(t)), []string{
		"create> trk.key (u32) = 5",
		"modify> trk.key (u32) = 6",
		"create> trk.other (str) = x y",
		"delete> trk.key (u32) = 6",
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("-T:\n%q\nwant\n%q", got, want)
	}
	waitFor(t, "trackers of the quit cmapctls freed", func() bool { return e.svc.openTracks.Load() == 0 })
}
