package config

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// fileDerivedPrefixes are the key families corosync fills from corosync.conf.
var fileDerivedPrefixes = []string{"totem.", "nodelist.", "quorum.", "logging.", "system.",
	"resources.", "uidgid.", "nozzle.", "pload."}

// runtimeOnly explains keys under fileDerivedPrefixes that corosync's services add at
// run time, independently of the file; the comparison ignores them.
func runtimeOnly(key string) (reason string, ok bool) {
	switch {
	case strings.HasPrefix(key, "resources.system.") || strings.HasPrefix(key, "resources.process."):
		// The mon service publishes its monitors (memory_used, load_15min: current,
		// last_updated, poll_period, state) whether or not the file mentions them.
		return "mon service monitor state", true
	case key == "resources.watchdog_timeout":
		return "wd service sets its timeout at start", true
	}
	return "", false
}

// rewrittenAtStart explains file keys whose value a service replaces when corosync starts;
// for them only the type is compared.
func rewrittenAtStart(key string) (reason string, ok bool) {
	if (strings.HasPrefix(key, "resources.system.") || strings.HasPrefix(key, "resources.process.")) &&
		strings.HasSuffix(key, ".poll_period") {
		// coroparse stores poll_period as u64, but mon.c reads it with
		// icmap_get_string, fails on the type and stores its default (3000) instead.
		return "mon overwrites poll_period with its default", true
	}
	return "", false
}

type dumpEntry struct{ typ, value string }

// parseDump reads corosync-cmapctl's "key (type) = value" lines.
func parseDump(t *testing.T, out string) map[string]dumpEntry {
	t.Helper()
	m := map[string]dumpEntry{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		key, rest, ok1 := strings.Cut(line, " (")
		typ, value, ok2 := strings.Cut(rest, ") = ")
		if !ok1 || !ok2 {
			t.Fatalf("unexpected cmapctl line %q", line)
		}
		m[key] = dumpEntry{typ, value}
	}
	return m
}

// namespaceHost describes the reference's network namespace as find_local_node sees it:
// its addresses, and names from /etc/hosts only (the namespace has no route to a DNS
// server, so corosync's lookups of other names fail there too).
func namespaceHost(t *testing.T, ns *refcorosync.Netns) Host {
	t.Helper()
	h := SystemHost()
	h.Addrs = nil
	hosts := readHosts(t)
	h.LookupIP = func(_ context.Context, name string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, e := range hosts {
			for _, n := range e.names {
				if n == name {
					out = append(out, e.addr)
				}
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: not in /etc/hosts", name)
		}
		return out, nil
	}
	h.LookupAddr = func(_ context.Context, a netip.Addr) (string, error) {
		for _, e := range hosts {
			if e.addr == a.WithZone("") {
				return e.names[0], nil
			}
		}
		return "", fmt.Errorf("%v: not in /etc/hosts", a)
	}
	err := ns.Do(func() error {
		addrs, err := net.InterfaceAddrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				h.Addrs = append(h.Addrs, p.Addr())
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type hostsEntry struct {
	addr  netip.Addr
	names []string
}

func readHosts(t *testing.T) []hostsEntry {
	t.Helper()
	data, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	var out []hostsEntry
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if a, err := netip.ParseAddr(f[0]); err == nil {
			out = append(out, hostsEntry{a, f[1:]})
		}
	}
	return out
}

func hasAnyPrefix(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// TestMatchesReferenceCmap runs corosync 3.1.7 on each reference configuration and checks
// that the file-derived part of its cmap is exactly what Parse produces, and that the keys
// Derive predicts (runtime.config.totem.*, nodelist.local_node_pos, derived bind addresses
// and node ids) are there with the same values.
func TestMatchesReferenceCmap(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	names := make([]string, 0, len(referenceConfigs))
	for n := range referenceConfigs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		conf := referenceConfigs[name]
		t.Run(name, func(t *testing.T) {
			cfg, err := ParseBytes("corosync.conf", []byte(conf))
			if err != nil {
				t.Fatal(err)
			}
			ref := refcorosync.Start(t, refcorosync.Options{Conf: conf})
			out, err := ref.Command("corosync-cmapctl").CombinedOutput()
			if err != nil {
				t.Fatalf("corosync-cmapctl: %v\n%s", err, out)
			}
			dump := parseDump(t, string(out))
			derived, err := Derive(context.Background(), cfg, namespaceHost(t, ref.Netns))
			if err != nil {
				t.Fatalf("Derive rejects a configuration corosync runs: %v", err)
			}
			ours := map[string]Value{}
			for _, e := range cfg.Entries {
				ours[e.Key] = e.Value
			}
			for _, e := range derived {
				ours[e.Key] = e.Value
			}
			for key, v := range ours {
				d, ok := dump[key]
				if !ok {
					t.Errorf("%s %v: missing from corosync's cmap", key, v)
					continue
				}
				if why, ok := rewrittenAtStart(key); ok && d.typ == v.Type.String() {
					t.Logf("value of %s not compared (ours %v, corosync %s): %s", key, v, d.value, why)
					continue
				}
				if d.typ != v.Type.String() || d.value != v.Text() {
					t.Errorf("%s: ours %v, corosync (%s) = %s", key, v, d.typ, d.value)
				}
			}
			for key, d := range dump {
				if !hasAnyPrefix(key, fileDerivedPrefixes) && !strings.HasPrefix(key, "runtime.config.") {
					continue
				}
				if _, ok := ours[key]; ok {
					continue
				}
				if why, ok := runtimeOnly(key); ok {
					t.Logf("ignoring %s (%s) = %s: %s", key, d.typ, d.value, why)
					continue
				}
				t.Errorf("corosync has %s (%s) = %s, which we neither parse nor derive", key, d.typ, d.value)
			}
			if t.Failed() {
				t.Logf("corosync's cmap:\n%s", out)
			}
		})
	}
}

// TestRejectsLikeReference checks that corosync -t (3.1.7) and this package both reject
// each invalid configuration, and logs both messages side by side.
func TestRejectsLikeReference(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	ns := refcorosync.NewNetns(t)
	host := namespaceHost(t, ns)
	host.DirExists = nil // corosync -t runs with an empty private /var/lib/corosync
	for _, c := range invalidConfigs {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "corosync.conf")
			if err := os.WriteFile(path, []byte(c.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			out, runErr := ns.PrivateCommand(refcorosync.Binary, "-t", "-c", path).CombinedOutput()
			theirs := strings.TrimSpace(string(out))
			var ee *exec.ExitError
			if !errors.As(runErr, &ee) {
				t.Errorf("corosync -t accepted it (%v): %s", runErr, theirs)
			}
			cfg, err := ParseBytes("corosync.conf", []byte(c.conf))
			if err == nil {
				err = ValidateOn(context.Background(), cfg, host)
			}
			if err == nil {
				t.Fatalf("we accept it; corosync says: %s", theirs)
			}
			t.Logf("ours:     %v\ncorosync: %s", err, theirs)
			if !strings.HasPrefix(err.Error(), c.want) && !strings.Contains(err.Error(), c.want) {
				t.Errorf("our error %q lacks %q", err, c.want)
			}
		})
	}
}

// TestParseErrorsMatchReference runs every grammarErrors input through corosync -t and
// checks it prints exactly "parser error: FILE:LINE: MSG" with our line and message.
func TestParseErrorsMatchReference(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	ns := refcorosync.NewNetns(t)
	dir := t.TempDir()
	for i, c := range grammarErrors {
		path := filepath.Join(dir, fmt.Sprintf("case%d.conf", i))
		if err := os.WriteFile(path, []byte(c.in), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := ns.PrivateCommand(refcorosync.Binary, "-t", "-c", path).CombinedOutput()
		want := fmt.Sprintf("parser error: %s:%d: %s", path, c.line, c.msg)
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%q:\ncorosync: %s\nours:     %s", c.in, got, want)
		}
	}
}

// TestAcceptsLikeReference checks that what corosync -t accepts, we accept too.
func TestAcceptsLikeReference(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	ns := refcorosync.NewNetns(t)
	host := namespaceHost(t, ns)
	host.DirExists = nil
	for _, c := range acceptedConfigs {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "corosync.conf")
			if err := os.WriteFile(path, []byte(c.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := ns.PrivateCommand(refcorosync.Binary, "-t", "-c", path).CombinedOutput(); err != nil {
				t.Fatalf("corosync -t rejects it (%v): %s", err, out)
			}
			cfg, err := ParseBytes("corosync.conf", []byte(c.conf))
			if err == nil {
				err = ValidateOn(context.Background(), cfg, host)
			}
			if err != nil {
				t.Fatalf("corosync accepts it, we say: %v", err)
			}
		})
	}
}

// TestUIDGIDDirLikeReference checks uidgid.d handling against corosync: a bad file there
// fails corosync -t with the same file:line message, and after a reload corosync's
// uidgid.config.* keys are exactly what Parse reads from the file and the directory.
func TestUIDGIDDirLikeReference(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	ref := refcorosync.Start(t, refcorosync.Options{Conf: referenceConfigs["uidgid-comments-whitespace"]})
	dir := t.TempDir()
	path := filepath.Join(dir, "corosync.conf")
	if err := os.WriteFile(path, []byte(validBase("")), 0o644); err != nil {
		t.Fatal(err)
	}
	udir := filepath.Join(dir, "uidgid.d")
	if err := os.Mkdir(udir, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(udir, ".hidden-but-read")
	if err := os.WriteFile(bad, []byte("uidgid {\n uid: 5\n group: 7\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := ref.PrivateCommand(refcorosync.Binary, "-t", "-c", path).CombinedOutput()
	_, err := Parse(path)
	want := "parser error: " + bad + ":3: uidgid: Only uid and gid are allowed items"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("corosync -t: %s\nwant:        %s", got, want)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != bad || pe.Line != 3 || pe.Msg != "uidgid: Only uid and gid are allowed items" {
		t.Errorf("ours: %v", err)
	}

	rdir := filepath.Join(filepath.Dir(ref.ConfPath), "uidgid.d")
	if err := os.Mkdir(rdir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"10-numbers": "uidgid {\n uid: 1234\n gid: 5678\n}\n",
		"20-names~":  "# editor backups are read too\nuidgid {\n uid: daemon\n gid: daemon\n}\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(rdir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(rdir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := ref.Command("corosync-cfgtool", "-R").CombinedOutput(); err != nil {
		t.Fatalf("corosync-cfgtool -R: %v: %s", err, out)
	}
	out, err = ref.Command("corosync-cmapctl", "uidgid.").CombinedOutput()
	if err != nil {
		t.Fatalf("corosync-cmapctl: %v: %s", err, out)
	}
	cfg, err := Parse(ref.ConfPath)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, k := range cfg.Keys("uidgid.") {
		v, _ := cfg.Get(k)
		ours = append(ours, k+" "+v.String())
	}
	if got, want := strings.TrimSpace(string(out)), strings.Join(ours, "\n"); got != want {
		t.Errorf("corosync after reload:\n%s\nours:\n%s", got, want)
	}
}
