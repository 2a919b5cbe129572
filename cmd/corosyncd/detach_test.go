package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestDetachesWithoutF: without -f the daemon runs in the background as corosync does: the
// command returns 0 at once with nothing on the terminal, and a daemon in a session of its
// own forms the ring, answers the tools and stops on SIGTERM.
func TestDetachesWithoutF(t *testing.T) {
	c := newCluster(t, 1)
	logfile := filepath.Join(c.dir, "detached.log")
	conf, err := os.ReadFile(c.confPath(1))
	if err != nil {
		t.Fatal(err)
	}
	withFile := strings.Replace(string(conf), "\ttimestamp: off\n", fmt.Sprintf("\ttimestamp: off\n\tto_logfile: yes\n\tlogfile: %s\n\tdebug: on\n", logfile), 1)
	if err := os.WriteFile(c.confPath(1), []byte(withFile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", c.lab.Name("n1"), os.Args[0], "-c", c.confPath(1))
	cmd.Env = append(os.Environ(), "COROSYNCD_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("corosyncd without -f: %v, output %q", err, out)
	}
	pid := daemonPid(t, c.confPath(1))
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("daemon %d: session %d (%v), want a session of its own", pid, sid, err)
	}
	readLog := func() string { b, _ := os.ReadFile(logfile); return string(b) }
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(readLog(), "ready to provide service."); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the detached daemon did not become ready:\n%s", readLog())
		}
	}
	if !strings.Contains(readLog(), "Corosync TTY detached") {
		t.Errorf("no \"Corosync TTY detached\" line:\n%s", readLog())
	}
	if got, err := c.lab.Output("n1", "timeout", "5", "corosync-cmapctl", "-g", "runtime.members.1.status"); err != nil || !strings.Contains(got, "joined") {
		t.Errorf("corosync-cmapctl against the detached daemon: %v %q", err, got)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("detached daemon %d ignored SIGTERM", pid)
		}
	}
	if !strings.Contains(readLog(), "Corosync Cluster Engine exiting normally") {
		t.Errorf("no normal exit logged:\n%s", readLog())
	}
}

// daemonPid finds the background daemon running on conf.
func daemonPid(t *testing.T, conf string) int {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range procs {
			b, err := os.ReadFile(p)
			if err != nil || !strings.Contains(string(b), "\x00-f\x00-c\x00"+conf+"\x00") {
				continue
			}
			pid, _ := strconv.Atoi(strings.Split(p, "/")[2])
			return pid
		}
	}
	t.Fatalf("no background daemon runs on %s", conf)
	return 0
}
