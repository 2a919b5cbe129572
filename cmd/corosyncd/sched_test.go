package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeSched records what applyScheduling asks of the system.
type fakeSched struct {
	rrErr       []error // results of successive SetRR calls
	calls       []string
	prio        int
	lockedCalls int
}

func (f *fakeSched) MaxRRPriority() (int, error) { return 99, nil }
func (f *fakeSched) SetRR(p int) error {
	f.calls = append(f.calls, "rr")
	if len(f.rrErr) == 0 {
		return nil
	}
	err := f.rrErr[0]
	f.rrErr = f.rrErr[1:]
	return err
}
func (f *fakeSched) MoveToRootCgroup() error { f.calls = append(f.calls, "cgroup"); return nil }
func (f *fakeSched) SetPriority(p int) error {
	f.calls = append(f.calls, "prio")
	f.prio = p
	return syscall.EACCES
}
func (f *fakeSched) LockMemory(*slog.Logger) { f.lockedCalls++ }

func TestSchedulingFollowsCorosync(t *testing.T) {
	for _, c := range []struct {
		name  string
		keys  map[string]string
		rr    []error
		calls string
		prio  int
		logs  []string
		noRT  bool // SCHED_RR not in effect
	}{
		{name: "default: rr works", calls: "rr"},
		{name: "auto: rr refused, moved to the root cgroup, refused again, max priority",
			rr: []error{syscall.EPERM, syscall.EPERM}, calls: "rr cgroup rr prio", prio: math.MinInt32, noRT: true,
			logs: []string{"Could not set SCHED_RR at priority 99: Operation not permitted (1)", "Could not set priority -2147483648: Permission denied (13)"}},
		{name: "auto: rr works after the move", rr: []error{syscall.EPERM}, calls: "rr cgroup rr"},
		{name: "cgroup yes", keys: map[string]string{"system.move_to_root_cgroup": "yes"}, calls: "cgroup rr"},
		{name: "cgroup no: one try, logged", keys: map[string]string{"system.move_to_root_cgroup": "no"},
			rr: []error{syscall.EPERM}, calls: "rr prio", prio: math.MinInt32, noRT: true,
			logs: []string{"Could not set SCHED_RR at priority 99: Operation not permitted (1)"}},
		{name: "no rr, priority 5", keys: map[string]string{"system.sched_rr": "no", "system.priority": "5"}, calls: "prio", prio: 5, noRT: true,
			logs: []string{"Could not set priority 5: Permission denied (13)"}},
		{name: "no rr, priority min", keys: map[string]string{"system.sched_rr": "no", "system.priority": "min"}, calls: "prio", prio: math.MaxInt32, noRT: true,
			logs: []string{"Could not set priority 2147483647: Permission denied (13)"}},
		{name: "rr works: priority ignored", keys: map[string]string{"system.priority": "max"}, calls: "rr"},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan, err := planScheduling(c.keys)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			f := &fakeSched{rrErr: c.rr}
			if rt := applyScheduling(plan, f, slog.New(slog.NewTextHandler(&buf, nil))); rt == c.noRT {
				t.Errorf("realtime %v, want %v", rt, !c.noRT)
			}
			if got := strings.Join(f.calls, " "); got != c.calls {
				t.Errorf("calls %q, want %q", got, c.calls)
			}
			if f.prio != c.prio {
				t.Errorf("priority %d, want %d", f.prio, c.prio)
			}
			if f.lockedCalls != 1 {
				t.Errorf("memory locked %d times", f.lockedCalls)
			}
			for _, l := range c.logs {
				if !strings.Contains(buf.String(), l) {
					t.Errorf("log lacks %q:\n%s", l, buf.String())
				}
			}
			if len(c.logs) == 0 && buf.Len() > 0 {
				t.Errorf("unexpected log:\n%s", buf.String())
			}
		})
	}
	if _, err := planScheduling(map[string]string{"system.priority": "high"}); err == nil || err.Error() != "Priority value high is invalid" {
		t.Fatalf("invalid priority: %v", err)
	}
}

// TestSetRRChangesEveryThread runs the real call in a child process (it would change the
// test's own threads otherwise) and checks every thread of it.
func TestSetRRChangesEveryThread(t *testing.T) {
	if os.Getenv("COROSYNCD_SCHED_CHILD") == "1" {
		if err := (linuxSched{}).SetRR(1); err != nil {
			t.Fatal(err)
		}
		tids, err := threads()
		if err != nil {
			t.Fatal(err)
		}
		for _, tid := range tids {
			a, err := unix.SchedGetAttr(tid, 0)
			if err != nil {
				continue // exited
			}
			if a.Policy != unix.SCHED_RR || a.Priority != 1 {
				t.Fatalf("thread %d: policy %d priority %d", tid, a.Policy, a.Priority)
			}
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: SCHED_RR needs root (run as root, as CI does)")
	}
	cmd := testChild(t, "TestSetRRChangesEveryThread", "COROSYNCD_SCHED_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// testChild returns a command running only test name of this binary with env added.
func testChild(t *testing.T, name string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^"+name+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// checkRealtime fails unless every thread of process pid runs under SCHED_RR at 99, as
// corosync 3.1.7 runs as root.
func checkRealtime(t *testing.T, pid int) {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		a, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue // exited
		}
		if a.Policy != unix.SCHED_RR || a.Priority != 99 {
			t.Fatalf("daemon thread %d: policy %d priority %d, want SCHED_RR 99", tid, a.Policy, a.Priority)
		}
	}
}

// TestRealtimeLimitsTheDaemon: under SCHED_RR the daemon's Go code runs on one processor
// (unless GOMAXPROCS is set) and its IPC connections do not poll for requests.
func TestRealtimeLimitsTheDaemon(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	runtime.GOMAXPROCS(2)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Setenv("GOMAXPROCS", "2")
	oneProcessor(log)
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Errorf("GOMAXPROCS set in the environment: %d processors, want 2", n)
	}
	os.Unsetenv("GOMAXPROCS")
	oneProcessor(log)
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Errorf("%d processors under SCHED_RR, want 1", n)
	}
	if requestSpin(true) >= 0 || requestSpin(false) != 0 {
		t.Errorf("request spin: realtime %v, otherwise %v", requestSpin(true), requestSpin(false))
	}
}
