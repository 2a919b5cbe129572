package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
)

func (c *cluster) cfgOf(i int) *cfg.Client {
	c.t.Helper()
	var cl *cfg.Client
	err := c.lab.Do(fmt.Sprintf("n%d", i), func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cl, err = cfg.Dial(ctx)
		return err
	})
	if err != nil {
		c.t.Fatalf("cfg on node %d: %v", i, err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

// TestClusterCfg: kill, shutdown with a tracker's veto, reload and node status across a
// real 3-node ring.
func TestClusterCfg(t *testing.T) {
	c := newCluster(t, 3)
	for i := 1; i <= 3; i++ {
		c.start(i)
	}
	cl1 := c.cmapOf(1)
	c.waitMembers(1, cl1, []int{1, 2, 3}, 30*time.Second)
	cfg1 := c.cfgOf(1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Node status of a peer, as knet reports it.
	var st cfg.NodeStatus
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if st, err = cfg1.NodeStatus(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if st.Reachable || time.Now().After(deadline) {
			break
		}
	}
	if !st.Reachable || !st.Links[0].Connected || st.Links[0].DstAddr != nodeAddr(2) || st.Links[0].SrcAddr != nodeAddr(1) {
		t.Errorf("node status of 2: %+v", st)
	}
	if _, err := cfg1.NodeStatus(ctx, 9); !errors.Is(err, ipc.CSErrFailedOp) {
		t.Errorf("node status of an unknown node: %v", err)
	}

	// A reload is applied on every node: a new logging key appears everywhere.
	for i := 1; i <= 3; i++ {
		b, _ := os.ReadFile(c.confPath(i))
		os.WriteFile(c.confPath(i), []byte(strings.Replace(string(b), "\ttimestamp: off\n", "\ttimestamp: off\n\tfunction_name: on\n", 1)), 0o644)
	}
	if err := cfg1.ReloadConfig(ctx); err != nil {
		t.Fatalf("reload: %v", err)
	}
	for i := 1; i <= 3; i++ {
		cl := c.cmapOf(i)
		for deadline := time.Now().Add(5 * time.Second); getString(cl, "logging.function_name") != "on"; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("node %d did not reload:\n%s", i, c.log(i))
			}
		}
		c.waitLog(i, "Config reload requested by node 1", 5*time.Second)
	}

	// Shutdown of node 2 vetoed by its tracker, then forced.
	cfg2, tracker := c.cfgOf(2), c.cfgOf(2)
	if err := tracker.TrackStart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	veto := make(chan error, 1)
	go func() {
		select {
		case <-tracker.Events():
			veto <- tracker.ReplyToShutdown(ctx, false)
		case <-ctx.Done():
			veto <- ctx.Err()
		}
	}()
	if err := cfg2.TryShutdown(ctx, cfg.ShutdownRequest); !errors.Is(err, ipc.CSErrBusy) {
		t.Errorf("vetoed shutdown: %v", err)
	}
	if err := <-veto; err != nil {
		t.Fatal(err)
	}
	if err := cfg2.TryShutdown(ctx, cfg.ShutdownImmediate); err != nil {
		t.Fatalf("immediate shutdown: %v", err)
	}
	if code := c.waitExit(2, 10*time.Second); code != 0 {
		t.Errorf("exit status after shutdown: %d", code)
	}
	// Node 2 acts on its own copy of the safe message; node 1 delivers its copy on its
	// next token visit, possibly after node 2 has gone.
	c.waitLog(1, "Node 2 was shut down by sysadmin", 10*time.Second)
	c.waitMembers(1, cl1, []int{1, 3}, 20*time.Second)

	// Kill node 3 from node 1.
	if err := cfg1.KillNode(ctx, 3, "test kill"); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if code := c.waitExit(3, 10*time.Second); code != exitKilled {
		t.Errorf("exit status after kill: %d", code)
	}
	if !strings.Contains(c.log(3), "Killed by node 1 : test kill") {
		t.Errorf("node 3's log:\n%s", c.log(3))
	}
	c.waitMembers(1, cl1, []int{1}, 20*time.Second)
	if err := cfg1.KillNode(ctx, 3, "again"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("killing a node that left: %v", err)
	}
}
