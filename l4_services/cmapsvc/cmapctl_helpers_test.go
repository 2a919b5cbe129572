package cmapsvc

import (
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// tracking is a corosync-cmapctl -t/-T running in a namespace, line-buffered (stdbuf) so
// the test sees its notifications as they come.
type tracking struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *refcorosync.Output
	done  chan error
}

const trackReady = "Type \"q\" to finish\n"

// startTracking runs corosync-cmapctl with args and waits until its trackers are in place
// (it prints trackReady after adding them).
func startTracking(t *testing.T, ns *refcorosync.Netns, args ...string) *tracking {
	t.Helper()
	cmd := ns.Command("timeout", append([]string{"20", "stdbuf", "-oL", "corosync-cmapctl"}, args...)...)
	tr := &tracking{cmd: cmd, out: &refcorosync.Output{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = tr.out, tr.out
	var err error
	if tr.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { tr.done <- cmd.Wait() }()
	t.Cleanup(func() { tr.stop(t) })
	tr.waitFor(t, func(s string) bool { return strings.Contains(s, trackReady) })
	return tr
}

// waitFor polls the output until cond holds (5 s at most).
func (tr *tracking) waitFor(t *testing.T, cond func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond(tr.out.String()) {
		select {
		case err := <-tr.done:
			tr.done <- err
			t.Fatalf("corosync-cmapctl exited (%v):\n%s", err, tr.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("corosync-cmapctl output not as awaited:\n%s", tr.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitLines waits until the output holds n notification lines (after trackReady).
func (tr *tracking) waitLines(t *testing.T, n int) {
	t.Helper()
	tr.waitFor(t, func(s string) bool { return len(notes(s)) >= n })
}

// stop quits the tracker ("q", as a user would) and returns its whole output.
func (tr *tracking) stop(t *testing.T) string {
	if tr.stdin != nil {
		tr.stdin.Write([]byte("q\n"))
		tr.stdin.Close()
		tr.stdin = nil
		select {
		case err := <-tr.done:
			if err != nil {
				t.Errorf("corosync-cmapctl: %v\n%s", err, tr.out.String())
			}
		case <-time.After(10 * time.Second):
			tr.cmd.Process.Kill()
			<-tr.done
			t.Errorf("corosync-cmapctl did not quit:\n%s", tr.out.String())
		}
	}
	return tr.out.String()
}

// notes returns the notification lines of a tracking output.
func notes(out string) []string {
	_, after, _ := strings.Cut(out, trackReady)
	var lines []string
	for _, l := range strings.Split(after, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
