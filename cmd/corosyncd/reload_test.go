package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
)

// waitKey waits until key reads want on cl.
func (c *cluster) waitKey(i int, cl *cmap.Client, key, want string, limit time.Duration) {
	c.t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		got := getString(cl, key)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %d: %s = %s, want %s\n%s", i, key, got, want, c.log(i))
		}
	}
}

// writeConf gives node i a configuration listing nodes 1..listed, with token ms.
func (c *cluster) writeConf(i, listed, token int) {
	c.t.Helper()
	state := filepath.Join(c.dir, fmt.Sprintf("state%d", i))
	conf := clusterConf(listed, c.dir, fmt.Sprintf("system {\n\tstate_dir: %s\n}\n", state))
	conf = strings.Replace(conf, "\ttoken: 1000\n", fmt.Sprintf("\ttoken: %d\n", token), 1)
	if err := os.WriteFile(c.confPath(i), []byte(conf), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// TestReloadChangesNodesAndTimers: corosync-cfgtool -R with a node added to (then removed
// from) the nodelist and a new token timeout, as Pacemaker's node addition does; totem keys
// changed with cmap at run time; runtime.force_gather.
func TestReloadChangesNodesAndTimers(t *testing.T) {
	c := newCluster(t, 3)
	c.writeConf(1, 2, 1000)
	c.writeConf(2, 2, 1000)
	for i := 1; i <= 3; i++ {
		c.start(i)
	}
	cl1 := c.cmapOf(1)
	c.waitMembers(1, cl1, []int{1, 2}, 30*time.Second)
	checkRealtime(t, c.procs[0].Process.Pid)
	c.waitLog(3, "A new membership (3.", 30*time.Second) // node 3 alone: the others ignore it
	time.Sleep(2 * time.Second)
	c.waitMembers(1, cl1, []int{1, 2}, time.Second)

	// Add node 3 and raise the token on nodes 1 and 2, reload from node 1.
	c.writeConf(1, 3, 2000)
	c.writeConf(2, 3, 2000)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.cfgOf(1).ReloadConfig(ctx); err != nil {
		t.Fatalf("reload: %v", err)
	}
	for i := 1; i <= 2; i++ {
		c.waitLog(i, "Node 3 added to the node list", 10*time.Second)
	}
	c.waitMembers(1, cl1, []int{1, 2, 3}, 30*time.Second)
	// token + (3-2)*token_coefficient; consensus 1.2 × token.
	c.waitKey(1, cl1, "runtime.config.totem.token", "2100", 5*time.Second)
	c.waitKey(1, cl1, "runtime.config.totem.consensus", "2520", 5*time.Second)
	c.waitKey(1, cl1, "nodelist.node.2.nodeid", "3", 5*time.Second)

	// A totem key set at run time is derived and applied at once.
	if err := cl1.Set(ctx, "totem.token", cmap.Uint32(3000)); err != nil {
		t.Fatal(err)
	}
	c.waitKey(1, cl1, "runtime.config.totem.token", "3100", 5*time.Second)
	c.waitKey(1, cl1, "runtime.config.totem.token_retransmit", "738", 5*time.Second)
	// knet_mtu and compression set at run time reach the transport (corosync's
	// totemknet_refresh_config): the path MTU to node 2 is capped at once.
	var stats *cmap.Client
	if err := c.lab.Do("n1", func() (err error) {
		stats, err = cmap.DialMap(ctx, cmap.MapStats)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer stats.Close()
	linkMTU := func() int {
		n, _ := strconv.Atoi(getString(stats, "stats.knet.node2.link0.mtu"))
		return n
	}
	if m := linkMTU(); m <= 1200 {
		t.Fatalf("path MTU to node 2 is %d before knet_mtu is set; the check needs more than 1200", m)
	}
	if err := cl1.Set(ctx, "totem.knet_mtu", cmap.Uint32(1200)); err != nil {
		t.Fatal(err)
	}
	if err := cl1.Set(ctx, "totem.knet_compression_model", cmap.String("zstd")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); linkMTU() > 1200; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("knet_mtu 1200: stats.knet.node2.link0.mtu still %d", linkMTU())
		}
	}
	c.waitMembers(1, cl1, []int{1, 2, 3}, 10*time.Second)
	for _, k := range []string{"totem.knet_mtu", "totem.knet_compression_model"} {
		if err := cl1.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}

	// An invalid one is refused and the values in force stay.
	if err := cl1.Set(ctx, "totem.join", cmap.Uint32(5)); err != nil {
		t.Fatal(err)
	}
	c.waitLog(1, "[TOTEM ] parse error in config: The join timeout parameter (5 ms) may not be less than (30 ms).", 5*time.Second)
	if got := getString(cl1, "runtime.config.totem.token"); got != "3100" {
		t.Fatalf("runtime.config.totem.token = %s after a refused change", got)
	}
	if err := cl1.Delete(ctx, "totem.join"); err != nil {
		t.Fatal(err)
	}

	// runtime.force_gather re-forms the ring with the same members.
	before := strings.Count(c.log(1), "A new membership (")
	if err := cl1.Set(ctx, "runtime.force_gather", cmap.String("yes")); err != nil {
		t.Fatal(err)
	}
	c.waitLog(1, "Forcing into GATHER state", 5*time.Second)
	c.waitKey(1, cl1, "runtime.force_gather", "no", 5*time.Second)
	for deadline := time.Now().Add(20 * time.Second); strings.Count(c.log(1), "A new membership (") == before; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no new membership after force_gather:\n%s", c.log(1))
		}
	}
	c.waitMembers(1, cl1, []int{1, 2, 3}, 30*time.Second)

	// Remove node 3 again: nodes 1 and 2 drop it without its cooperation.
	c.writeConf(1, 2, 2000)
	c.writeConf(2, 2, 2000)
	if err := c.cfgOf(1).ReloadConfig(ctx); err != nil {
		t.Fatalf("reload: %v", err)
	}
	c.waitLog(1, "Node 3 removed from the node list", 10*time.Second)
	c.waitMembers(1, cl1, []int{1, 2}, 30*time.Second)
	c.waitKey(1, cl1, "runtime.config.totem.token", "2000", 5*time.Second)
}
