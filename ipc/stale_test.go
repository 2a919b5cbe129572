package ipc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// TestServerKilled kills the server (SIGKILL) under three clients: a Go client that then
// closes (it must find the server dead and remove its own files, as libqb's clients do),
// Debian's corosync-cmapctl -T (libqb's own client), and a Go client that is abandoned as
// if its process had died too. RemoveStale must then remove what only the last one left.
func TestServerKilled(t *testing.T) {
	needCmapctl(t)
	ns := refcorosync.NewNetns(t)
	cmd, stdin := launchCmap(t, ns.Name, "shm")
	defer stdin.Close()
	pattern := fmt.Sprintf("/dev/shm/qb-%d-*", cmd.Process.Pid)
	t.Cleanup(func() { // whatever happens, leave nothing behind
		left, _ := filepath.Glob(pattern)
		for _, d := range left {
			os.RemoveAll(d)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var closing, abandoned *Client
	if err := ns.Do(func() (err error) {
		if closing, err = Dial(ctx, "cmap"); err != nil {
			return err
		}
		abandoned, err = Dial(ctx, "cmap")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tracker := ns.Command("corosync-cmapctl", "-T", "test.")
	trackerIn, _ := tracker.StdinPipe()
	var trackerOut strings.Builder
	tracker.Stdout, tracker.Stderr = &trackerOut, &trackerOut
	if err := tracker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		trackerIn.Close()
		tracker.Process.Kill()
		tracker.Wait()
	}()
	for i := 0; i < 100; i++ { // until the tool is connected
		if dirs, _ := filepath.Glob(pattern); len(dirs) == 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if dirs, _ := filepath.Glob(pattern); len(dirs) != 3 {
		t.Fatalf("want 3 connection directories, have %v", dirs)
	}

	cmd.Process.Kill()
	cmd.Wait()

	if _, err := closing.Request(ctx, cmapGet("totem.token", 4)); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("request to a killed server: %v, want ErrDisconnected", err)
	}
	before, _ := filepath.Glob(pattern)
	closing.Close()
	after, _ := filepath.Glob(pattern)
	if len(after) != len(before)-1 {
		t.Fatalf("closing a client of a dead server removed %d directories, want 1 (before %v, after %v)", len(before)-len(after), before, after)
	}
	trackerIn.Close() // the tool exits on end of input or on the dispatch error
	tracker.Wait()
	t.Logf("cmapctl -T after the server died: %q", trackerOut.String())

	left, _ := filepath.Glob(pattern)
	if len(left) == 0 {
		t.Fatal("nothing left for RemoveStale to find: the abandoned client's files are gone too")
	}
	empty := 0 // libqb's client unlinks its files but leaves the directory
	for _, d := range left {
		if entries, _ := os.ReadDir(d); len(entries) == 0 {
			empty++
		}
	}
	// RemoveStale looks at all of /dev/shm, where other packages' tests may leave dead
	// servers' directories at the same moment: count only this server's.
	srv := NewServer(Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if n := srv.RemoveStale("cpg", "quorum"); n < empty {
		t.Fatalf("RemoveStale for other services removed %d directories, want at least the %d empty ones", n, empty)
	}
	if kept, _ := filepath.Glob(pattern); len(kept) != len(left)-empty {
		t.Fatalf("RemoveStale for other services kept %v of %v, want only the %d with cmap files", kept, left, len(left)-empty)
	}
	if n := srv.RemoveStale("cmap", "cpg"); n < len(left)-empty {
		t.Fatalf("RemoveStale removed %d directories, want at least %d (%v)", n, len(left)-empty, left)
	}
	if left, _ := filepath.Glob(pattern); len(left) != 0 {
		t.Fatalf("left after RemoveStale: %v", left)
	}
	abandoned.Close()
}

func TestRemoveStaleSparesOthers(t *testing.T) {
	dir := t.TempDir()
	srv := NewServer(Config{ShmDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mk := func(name string, files ...string) {
		os.Mkdir(filepath.Join(dir, name), 0o700)
		for _, f := range files {
			os.WriteFile(filepath.Join(dir, name, f), nil, 0o600)
		}
	}
	dead := 999999999 // beyond pid_max, so never alive
	mk(fmt.Sprintf("qb-%d-1-2-abcdef", dead), "qb-1-2-3-abc-request-cmap-header", "qb-1-2-3-abc-request-cmap-data")
	mk(fmt.Sprintf("qb-%d-1-3-abcdef", dead), "qb-1-2-3-abc-request-cib_rw-header") // Pacemaker's
	mk(fmt.Sprintf("qb-%d-1-4-abcdef", os.Getpid()), "qb-1-2-3-abc-request-cmap-header")
	mk("qb-1-x-4-abcdef", "qb-1-2-3-abc-request-cmap-header") // not our naming
	if n := srv.RemoveStale("cmap"); n != 1 {
		t.Fatalf("removed %d, want 1", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("%d directories remain, want 3", len(entries))
	}
}

// TestServerStopWithClientsConnected stops the server while clients are connected over
// each transport: every connection's files must be gone, and the clients must see
// ErrDisconnected rather than hang.
func TestServerStopWithClientsConnected(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			stub := newCmapStub()
			stub.name = fmt.Sprintf("cgtest-%d-stop-%s", os.Getpid(), tr)
			srv := NewServer(Config{Transport: tr, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			ln, err := srv.Listen(stub)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.ServeOn(ctx, ln, stub) }()
			var clients []*Client
			for i := 0; i < 3; i++ {
				c, err := Dial(context.Background(), stub.name)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				clients = append(clients, c)
			}
			if left, _ := filepath.Glob(fmt.Sprintf("/dev/shm/qb-%d-*", os.Getpid())); len(left) != 3 {
				t.Fatalf("want 3 connection directories while connected, have %v", left)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			waitShmClean(t)
			rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer rcancel()
			for _, c := range clients {
				if _, err := c.Request(rctx, cmapGet("totem.token", 4)); !errors.Is(err, ErrDisconnected) {
					t.Errorf("request after the server stopped: %v, want ErrDisconnected", err)
				}
			}
		})
	}
}
