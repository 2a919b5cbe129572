package sam

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// scenarioLimit bounds one scenario: each takes a few seconds.
const scenarioLimit = 30 * time.Second

// program is how a test starts one of the SAM programs: samprog (Go, ipc/sam) or samc
// (C, Debian's libsam).
type program struct {
	name string
	bin  string
	args func(scenario string) []string
}

func goProgram(t *testing.T) program {
	return program{name: "go", bin: goBuild(t, "github.com/corosync-go/corosync/ipc/sam/testdata/samprog"),
		args: func(s string) []string { return []string{"-scenario", s} }}
}

func cProgram(t *testing.T) program {
	return program{name: "libsam", bin: gccSAM(t), args: func(s string) []string { return []string{s} }}
}

func (pr program) run(t *testing.T, d *daemon, scenario string) *prog {
	return d.run(t, pr.bin, pr.args(scenario)...)
}

// noKeys checks that the server removed resources.process.<pid>.* (it quit after a
// child that ended while stopped).
func noKeys(t *testing.T, d *daemon, pid int) {
	t.Helper()
	if v, err := d.cmapGet(t, fmt.Sprintf("resources.process.%d.state", pid)); err == nil {
		t.Errorf("%s: resources.process.%d.state is still %q", d.name, pid, v)
	}
}

func wantState(t *testing.T, d *daemon, pid int, want string) {
	t.Helper()
	if v, err := d.cmapGet(t, fmt.Sprintf("resources.process.%d.state", pid)); err != nil || v != want {
		t.Errorf("%s: resources.process.%d.state = %q (%v), want %q\n%s", d.name, pid, v, err, want, fmtKeys(t, d, pid))
	}
}

func exitsWith(t *testing.T, p *prog, want int) {
	t.Helper()
	if code := p.wait(scenarioLimit); code != want {
		t.Errorf("server exited with %d, want %d; output:\n%s", code, want, p.out)
	}
	if strings.Contains(p.out.String(), "FAIL") {
		t.Errorf("a child failed:\n%s", p.out)
	}
}

// cmapScenarios are the scenarios that need only cmap, with what they must show.
var cmapScenarios = []struct {
	name  string
	check func(t *testing.T, d *daemon, p *prog)
}{
	// A started child that crashes is restarted and gets the stored data back; the
	// second one ends while stopped, so the server quits with its status (0) and
	// removes the process's keys.
	{"crash", func(t *testing.T, d *daemon, p *prog) {
		p.waitLine("iid 1: crashing", scenarioLimit)
		exitsWith(t, p, 0)
		if !strings.Contains(p.out.String(), `restored "stored by instance 1"`) {
			t.Errorf("instance 2 did not restore the data:\n%s", p.out)
		}
		noKeys(t, d, p.pid())
	}},
	// A child that stops sending health checks gets the warning signal, then SIGKILL,
	// and is restarted.
	{"hang", func(t *testing.T, d *daemon, p *prog) {
		p.waitLine("iid 1: warned", scenarioLimit)
		exitsWith(t, p, 0)
		if !strings.Contains(p.out.String(), `restored "warned"`) {
			t.Errorf("instance 2 did not restore the data:\n%s", p.out)
		}
	}},
	// testsam's test8: keys as libsam writes them; a started child without health
	// checks is killed, and with the quit policy the server marks the process failed
	// and quits with the killed child's status (0); the watchdog service then reports
	// the failure.
	{"cmapquit", func(t *testing.T, d *daemon, p *prog) {
		p.waitLine("iid 1: started without health checks", scenarioLimit)
		exitsWith(t, p, 0)
		wantState(t, d, p.pid(), "failed")
		line := fmt.Sprintf(`quit resource "%d" failed!`, p.pid())
		for deadline := time.Now().Add(scenarioLimit); !strings.Contains(d.log(), line); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("%s did not log %q:\n%s", d.name, line, d.log())
				break
			}
		}
		d.wdLines = wdLines(d.log(), p.pid())
	}},
	// A child that ends while started is restarted; the next one marks itself failed:
	// killed at once, state failed, the server quits.
	{"markfailed", func(t *testing.T, d *daemon, p *prog) {
		p.waitLine("iid 2: marking failed", scenarioLimit)
		exitsWith(t, p, 0)
		wantState(t, d, p.pid(), "failed")
	}},
}

// TestGoProgramAgainstOurDaemon runs the Go SAM program (ipc/sam, re-executing itself
// for each instance) against corosyncd.
func TestGoProgramAgainstOurDaemon(t *testing.T) {
	skipUnlessRoot(t)
	pr := goProgram(t)
	d := startDaemon(t, "ours")
	for _, sc := range cmapScenarios {
		t.Run(sc.name, func(t *testing.T) { sc.check(t, d, pr.run(t, d, sc.name)) })
	}
	// Event-driven health checks: the callback fails on its third call, so the child is
	// killed and restarted; the data it stored on each call survives.
	t.Run("hccb", func(t *testing.T) {
		p := pr.run(t, d, "hccb")
		p.waitLine("iid 1: callback 3", scenarioLimit)
		exitsWith(t, p, 0)
		if !strings.Contains(p.out.String(), `iid 2: restored "3"`) || strings.Contains(p.out.String(), "callback 4") {
			t.Errorf("output:\n%s", p.out)
		}
	})
}

// TestLibsamAgainstOurDaemon runs a C program linked with Debian's libsam through the
// same scenarios against corosyncd and against corosync 3.1.7: what libsam writes in
// cmap, and what the watchdog service makes of it.
func TestLibsamAgainstOurDaemon(t *testing.T) {
	skipUnlessRoot(t)
	pr := cProgram(t)
	wd := map[string]string{}
	for _, which := range []string{"ours", "reference"} {
		t.Run(which, func(t *testing.T) {
			d := startDaemon(t, which)
			for _, sc := range cmapScenarios {
				t.Run(sc.name, func(t *testing.T) { sc.check(t, d, pr.run(t, d, sc.name)) })
			}
			wd[which] = d.wdLines
		})
	}
	if wd["ours"] == "" || wd["ours"] != wd["reference"] {
		t.Errorf("the watchdog service's lines about the process of cmapquit differ:\ncorosync 3.1.7:\n%s\nours:\n%s", wd["reference"], wd["ours"])
	}
}

// wdLines are the WD subsystem's lines about resources.process.<pid>, with the pid
// replaced by PID and without the lines whose presence depends on timing: how late
// last_updated was when a check came before the state became failed, and the
// running-to-running transition when the state change came first.
func wdLines(log string, pid int) string {
	var out []string
	p := fmt.Sprint(pid)
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, "[WD") {
			continue
		}
		if !strings.Contains(l, p) || strings.Contains(l, "too late") || strings.Contains(l, `"running" --> "running"`) {
			continue
		}
		out = append(out, strings.TrimSpace(strings.ReplaceAll(l, p, "PID")))
	}
	return strings.Join(out, "\n")
}

// TestQuorumLoss: with the quit policy the process exits when quorum is lost; with the
// restart policy the child is killed and the next instance's Start waits for quorum.
// Both for the Go library and for Debian's libsam, against our daemon and corosync 3.1.7
// (or only the one SAM_TEST_QUORUM_DAEMON names).
func TestQuorumLoss(t *testing.T) {
	skipUnlessRoot(t)
	programs := []program{goProgram(t), cProgram(t)}
	for _, which := range quorumDaemons() {
		t.Run(which, func(t *testing.T) { quorumLoss(t, which, programs) })
	}
}

func quorumLoss(t *testing.T, which string, programs []program) {
	d := startDaemon(t, which)
	d.setQuorate(t, true) // fails at once on a daemon without quorum
	for _, pr := range programs {
		t.Run(pr.name+"/quit", func(t *testing.T) {
			d.setQuorate(t, true)
			p := pr.run(t, d, "quorumquit")
			p.waitLine("iid 1: started", scenarioLimit)
			d.setQuorate(t, false)
			exitsWith(t, p, 0)
			if strings.Contains(p.out.String(), "iid 2") {
				t.Errorf("restarted with the quit policy:\n%s", p.out)
			}
		})
		t.Run(pr.name+"/restart", func(t *testing.T) {
			d.setQuorate(t, true)
			p := pr.run(t, d, "quorumrestart")
			p.waitLine("iid 1: started", scenarioLimit)
			d.setQuorate(t, false)
			p.waitLine("iid 2: starting", scenarioLimit)
			// Start must block while the node is inquorate.
			time.Sleep(time.Second)
			if strings.Contains(p.out.String(), "iid 2: started") {
				t.Fatalf("instance 2 started without quorum:\n%s", p.out)
			}
			d.setQuorate(t, true)
			exitsWith(t, p, 0)
			if !strings.Contains(p.out.String(), "iid 2: started") {
				t.Errorf("instance 2 never started:\n%s", p.out)
			}
		})
		// With Cmap as well, the process is "waiting for quorum" meanwhile, and its keys
		// go when the last instance ends stopped.
		t.Run(pr.name+"/cmap", func(t *testing.T) {
			d.setQuorate(t, true)
			p := pr.run(t, d, "quorumcmap")
			p.waitLine("iid 1: started", scenarioLimit)
			wantState(t, d, p.pid(), "running")
			d.setQuorate(t, false)
			p.waitLine("iid 2: starting", scenarioLimit)
			for deadline := time.Now().Add(scenarioLimit); ; time.Sleep(50 * time.Millisecond) {
				if v, _ := d.cmapGet(t, fmt.Sprintf("resources.process.%d.state", p.pid())); v == "waiting for quorum" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("state never became \"waiting for quorum\":\n%s", fmtKeys(t, d, p.pid()))
				}
			}
			d.setQuorate(t, true)
			p.waitLine("iid 2: stopped", scenarioLimit)
			exitsWith(t, p, 0)
			noKeys(t, d, p.pid())
		})
	}
}

// keysShape is a corosync-cmapctl listing of resources.process.<pid>. with the pid
// replaced and last_updated reduced to its type and whether it is 0.
func keysShape(listing string, pid int) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(listing), "\n") {
		l = strings.ReplaceAll(l, fmt.Sprintf(".%d.", pid), ".PID.")
		if k, v, ok := strings.Cut(l, " = "); ok && strings.HasSuffix(k, ".last_updated (u64)") {
			l = fmt.Sprintf("%s zero=%v", k, v == "0")
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestKeysLikeLibsam: the Go library leaves the same resources.process keys as Debian's
// libsam (names, types, values but the time stamp) after a process was marked failed and
// after a quit-policy process failed its health checks.
func TestKeysLikeLibsam(t *testing.T) {
	skipUnlessRoot(t)
	programs := []program{goProgram(t), cProgram(t)}
	d := startDaemon(t, "ours")
	for _, scenario := range []string{"markfailed", "cmapquit"} {
		shapes := map[string]string{}
		for _, pr := range programs {
			p := pr.run(t, d, scenario)
			p.wait(scenarioLimit)
			shapes[pr.name] = keysShape(fmtKeys(t, d, p.pid()), p.pid())
		}
		if shapes["go"] != shapes["libsam"] || !strings.Contains(shapes["go"], "state (str) = failed") {
			t.Errorf("%s: keys differ:\nlibsam:\n%s\ngo:\n%s", scenario, shapes["libsam"], shapes["go"])
		}
	}
}
