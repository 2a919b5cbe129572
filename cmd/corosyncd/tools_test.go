package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// TestBadConfigRefused: a bad file is refused with file:line, by -t and at start, with
// corosync's exit status 8.
func TestBadConfigRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(path, []byte("totem {\n\tversion: 2\n\ttoken: abc\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-t", "-c", path}, {"-f", "-c", path}, {"-c", path}} {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "COROSYNCD_TEST_MAIN=1")
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != exitConfigError {
			t.Fatalf("%v: exit %v, want status 8:\n%s", args, err, out)
		}
		want := fmt.Sprintf("parse error in config: %s:3: Value of key \"totem.token\" is expected to be integer in range (0..4294967295), but \"abc\" was given", path)
		if !strings.Contains(string(out), want) {
			t.Errorf("%v: output lacks %q:\n%s", args, want, out)
		}
	}
	good := filepath.Join(dir, "good.conf")
	os.WriteFile(good, []byte(oneNodeConf(dir)), 0o644)
	cmd := exec.Command(os.Args[0], "-t", "-c", good)
	cmd.Env = append(os.Environ(), "COROSYNCD_TEST_MAIN=1")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Corosync Cluster Engine exiting normally") {
		t.Errorf("-t on a good file: %v\n%s", err, out)
	}
}

var cmapLine = regexp.MustCompile(`^[A-Za-z0-9._/:-]+ \((u8|i8|u16|i16|u32|i32|u64|i64|flt|dbl|str|bin)\) = .*$`)

// oneNodeConf is the configuration both daemons run for the tool comparison.
func oneNodeConf(stateDir string) string {
	return `totem {
	version: 2
	cluster_name: refcluster
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 1000
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		nodeid: 1
		name: node1
	}
}
logging {
	to_stderr: yes
	to_syslog: no
	to_logfile: no
	timestamp: off
}
system {
	state_dir: ` + stateDir + `
}
`
}

// TestDebianToolsAgainstOurDaemon runs Debian's corosync-cmapctl and corosync-cfgtool
// against our daemon and against corosync 3.1.7 on the same configuration.
func TestDebianToolsAgainstOurDaemon(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	dir := t.TempDir()
	ref := refcorosync.Start(t, refcorosync.Options{Conf: oneNodeConf("/var/lib/corosync")})
	ns := refcorosync.NewNetns(t)
	conf := filepath.Join(dir, "corosync.conf")
	os.WriteFile(conf, []byte(oneNodeConf(dir)), 0o644)
	// SIGTERM at the end, not SIGKILL: the daemon must remove the /dev/shm files of the
	// tools that have just disconnected.
	startOurs(t, ns, conf)
	run := func(c *exec.Cmd) string {
		out, err := c.CombinedOutput()
		if err != nil {
			t.Errorf("%v: %v\n%s", c.Args, err, out)
		}
		return string(out)
	}
	for _, args := range [][]string{{"corosync-cfgtool", "-s"}, {"corosync-cfgtool", "-n"}, {"corosync-cfgtool", "-a", "1"}} {
		theirs, ours := run(ref.Command(args[0], args[1:]...)), run(ns.Command(args[0], args[1:]...))
		if theirs != ours {
			t.Errorf("%v:\ncorosync 3.1.7:\n%s\nours:\n%s", args, theirs, ours)
		}
	}
	theirs, ours := run(ref.Command("corosync-cmapctl")), run(ns.Command("corosync-cmapctl"))
	for _, l := range strings.Split(strings.TrimSpace(ours), "\n") {
		if !cmapLine.MatchString(l) {
			t.Errorf("cmapctl line of unexpected shape: %q", l)
		}
	}
	// Every configuration and runtime key corosync has for this file, we have too, with the
	// same type.
	ourLines := map[string]string{}
	for _, l := range strings.Split(ours, "\n") {
		if k, _, ok := strings.Cut(l, " "); ok {
			ourLines[k] = l
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(theirs), "\n") {
		k, rest, _ := strings.Cut(l, " ")
		mine, ok := ourLines[k]
		if !ok {
			t.Errorf("corosync has %s, we do not", l)
			continue
		}
		typ := strings.SplitN(rest, " ", 2)[0]
		if !strings.Contains(mine, " "+typ+" ") {
			t.Errorf("type differs:\ncorosync: %s\nours:     %s", l, mine)
		}
		if strings.HasPrefix(k, "totem.") || strings.HasPrefix(k, "nodelist.") || strings.HasPrefix(k, "runtime.config.") || strings.HasPrefix(k, "runtime.members.") || strings.HasPrefix(k, "logging.") ||
			strings.HasPrefix(k, "resources.") || strings.HasPrefix(k, "internal_configuration.") {
			if mine != l {
				t.Errorf("value differs:\ncorosync: %s\nours:     %s", l, mine)
			}
		}
	}
	// The stats map has corosync's keys and types; the values that do not depend on how
	// the ring or the transport work inside are the same, the listing tool's own
	// stats.ipcs connection keys included (both saw the same requests).
	theirs, ours = run(ref.Command("corosync-cmapctl", "-m", "stats")), run(ns.Command("corosync-cmapctl", "-m", "stats"))
	compareStatsShape(t, statsShape(t, theirs), statsShape(t, ours), func(k string) bool {
		switch {
		case strings.HasPrefix(k, "stats.ipcs.service"), strings.HasPrefix(k, "stats.knet.handle."),
			k == "stats.ipcs.global.active", k == "stats.pg.msg_reserved":
			return true
		case strings.HasPrefix(k, "stats.knet.node1.link0."):
			return !strings.Contains(k, "_data_") && !strings.Contains(k, "_total_")
		}
		return false
	})

	// Our Go tools print against our daemon exactly what Debian's print against it.
	bin := t.TempDir()
	for _, tool := range []string{"corosync-cmapctl", "corosync-cfgtool"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, tool), "../"+tool).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", tool, err, out)
		}
	}
	for _, args := range [][]string{
		{"corosync-cfgtool", "-s"}, {"corosync-cfgtool", "-sb"}, {"corosync-cfgtool", "-n"}, {"corosync-cfgtool", "-a", "1"},
		{"corosync-cmapctl", "totem."}, {"corosync-cmapctl", "nodelist."}, {"corosync-cmapctl", "runtime.members."},
		{"corosync-cmapctl", "-g", "totem.token"}, {"corosync-cmapctl", "-g", "no.such.key"},
	} {
		debian, _ := ns.Command(args[0], args[1:]...).CombinedOutput()
		ours, _ := ns.Command(filepath.Join(bin, args[0]), args[1:]...).CombinedOutput()
		if string(debian) != string(ours) {
			t.Errorf("%v against our daemon:\nDebian's tool:\n%s\nour tool:\n%s", args, debian, ours)
		}
	}
}
