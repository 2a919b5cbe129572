package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// runTool runs another program of the reference installation inside the namespace.
func (r *rig) runTool(ns namespace, name string, args ...string) runResult {
	r.t.Helper()
	cmd := ns.Command("timeout", append([]string{"10", name}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin:/sbin"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := runResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// tracker is a running corosync-cmapctl -t/-T.
type tracker struct {
	args        []string
	cmd         *exec.Cmd
	stdin       io.WriteCloser
	out, errOut bytes.Buffer
	done        chan struct{} // closed when it has exited; err is then set
	err         error
}

// startTrackers starts both tools with each argument set (reference first) and waits
// until the daemon lists all their connections.
func (r *rig) startTrackers(t *testing.T, ref *refcorosync.Instance, argSets [][]string) []*tracker {
	t.Helper()
	var ts []*tracker
	for _, args := range argSets {
		for _, dir := range []string{refToolDir, r.ourDir} {
			tr := &tracker{args: args, cmd: r.command(dir, args...), done: make(chan struct{})}
			tr.cmd.Stdout, tr.cmd.Stderr = &tr.out, &tr.errOut
			var err error
			if tr.stdin, err = tr.cmd.StdinPipe(); err != nil {
				t.Fatal(err)
			}
			if err := tr.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { tr.err = tr.cmd.Wait(); close(tr.done) }()
			t.Cleanup(func() {
				// The end of stdin makes either tool quit; timeout passes SIGTERM on.
				tr.stdin.Close()
				select {
				case <-tr.done:
				case <-time.After(5 * time.Second):
					tr.cmd.Process.Signal(syscall.SIGTERM)
					<-tr.done
				}
			})
			ts = append(ts, tr)
		}
	}
	want := len(ts)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := countClients(ref, "corosync-cmapct")
		if err != nil {
			t.Fatal(err)
		}
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d trackers connected", n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Connected; their TRACK_ADD follows at once.
	time.Sleep(300 * time.Millisecond)
	return ts
}

// countClients counts the daemon's IPC connections from processes named procname.
func countClients(ref *refcorosync.Instance, procname string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var c *cmap.Client
	if err := ref.Do(func() (err error) { c, err = cmap.DialMap(ctx, cmap.MapStats); return err }); err != nil {
		return 0, err
	}
	defer c.Close()
	entries, err := c.Iter(ctx, "stats.ipcs.")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Key, ".procname") {
			continue
		}
		if v, err := c.Get(ctx, e.Key); err == nil && v.String() == procname {
			n++
		}
	}
	return n, nil
}

// finishTrackers (after typing "q" when quit is set) waits for the trackers to end and
// compares each pair.
func (r *rig) finishTrackers(t *testing.T, ts []*tracker, quit bool) []runResult {
	t.Helper()
	if quit {
		for _, tr := range ts {
			io.WriteString(tr.stdin, "q\n")
		}
	}
	results := make([]runResult, len(ts))
	for i, tr := range ts {
		select {
		case <-tr.done:
		case <-time.After(12 * time.Second):
			t.Fatalf("tracker %q did not end", tr.args)
		}
		results[i] = runResult{stdout: tr.out.String(), stderr: tr.errOut.String()}
		var ee *exec.ExitError
		if errors.As(tr.err, &ee) {
			results[i].code = ee.ExitCode()
		} else if tr.err != nil {
			t.Fatal(tr.err)
		}
	}
	for i := 0; i+1 < len(ts); i += 2 {
		if results[i] != results[i+1] {
			t.Errorf("tracking %q differs\nreference: %v\n     ours: %v", ts[i].args, results[i], results[i+1])
		}
		if !strings.HasPrefix(results[i].stdout, "Type \"q\" to finish\n") {
			t.Errorf("tracking %q: reference printed %v", ts[i].args, results[i])
		}
	}
	return results
}

// compareTracking runs several trackers of both tools through the same changes.
func (r *rig) compareTracking(t *testing.T, ref *refcorosync.Instance, allBytes string) {
	ts := r.startTrackers(t, ref, [][]string{
		{"-T", "cmt.tr."}, {"-b", "-T", "cmt.tr."}, {"-t", "cmt.tr.a"}, {"-q", "-b", "-T", "cmt.tr.", "cmt.tr.a"},
		{"-t", "cmt.tr."}, {"-t", "-T", "cmt.tr.c"},
	})
	for _, args := range [][]string{
		{"-s", "cmt.tr.a", "u8", "1"}, {"-s", "cmt.tr.a", "u8", "2"}, {"-s", "cmt.tr.a", "u8", "2"},
		{"-s", "cmt.tr.b", "str", "hello"}, {"-s", "cmt.tr.c", "bin", allBytes}, {"-s", "cmt.tr.a", "str", "x"},
		{"-s", "cmt.other", "u8", "1"}, {"-s", "--", "cmt.tr.f", "flt", "-nan"}, {"-s", "cmt.tr.d", "dbl", "1e300"},
		{"-d", "cmt.tr.b"}, {"-D", "cmt.tr."}, {"-d", "cmt.other"},
	} {
		if res := r.ref(args...); res.code != 0 {
			t.Fatalf("%q: %v", args, res)
		}
	}
	// The reference buffers its output until it exits: give the notifications time to
	// arrive before asking both to quit.
	time.Sleep(500 * time.Millisecond)
	results := r.finishTrackers(t, ts, true)
	// The comparison means something only if the changes were seen.
	for _, line := range []string{"create> cmt.tr.a (u8) = 1\n", "modify> cmt.tr.a (str) = x\n", "delete> cmt.tr.c (bin)\n"} {
		if !strings.Contains(results[0].stdout, line) {
			t.Errorf("the reference's -T output lacks %q:\n%s", line, results[0].stdout)
		}
	}
}
