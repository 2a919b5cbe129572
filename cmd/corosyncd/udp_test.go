package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// startOurs runs our daemon on conf inside ns until the test ends (SIGTERM, so that it
// removes the IPC files of the tools that used it) and waits until it is ready.
func startOurs(t *testing.T, ns *refcorosync.Netns, conf string) *refcorosync.Output {
	t.Helper()
	cmd := ns.Command(os.Args[0], "-f", "-c", conf)
	cmd.Env = append(os.Environ(), "COROSYNCD_TEST_MAIN=1")
	log := &refcorosync.Output{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("our daemon ignored SIGTERM:\n%s", log)
		}
	})
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(log.String(), "ready to provide service"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("our daemon never became ready:\n%s", log)
		}
	}
	return log
}

// inetGroups lists the IPv4 groups joined on lo in a namespace (ip maddr), without the
// all-hosts group every interface has.
var maddrLine = regexp.MustCompile(`inet\s+(\S+)`)

func inetGroups(t *testing.T, cmd *exec.Cmd) []string {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	var groups []string
	for _, m := range maddrLine.FindAllStringSubmatch(string(out), -1) {
		if m[1] != "224.0.0.1" {
			groups = append(groups, m[1])
		}
	}
	return groups
}

// TestUDPConfigMatchesCorosync starts corosync 3.1.7 and our daemon on the same one-node
// file with transport udp (default group, an explicit group with port and ttl, broadcast)
// and udpu, and compares what corosync-cmapctl shows under totem. and runtime.config.,
// the transport's notice, and the multicast group the node joined.
func TestUDPConfigMatchesCorosync(t *testing.T) {
	if why := refcorosync.Skip(); why != "" {
		t.Skip("skipping: " + why)
	}
	for _, tc := range []struct {
		name, totem, banner string
		group               string // joined on lo by both daemons; "" for none
	}{
		{"udp default group", "transport: udp", "UDP/IP Multicast", "239.192.176.228"},
		{"udp mcastaddr", "transport: udp\n\tinterface {\n\t\tmcastaddr: 239.1.2.3\n\t\tmcastport: 6000\n\t\tttl: 3\n\t}", "UDP/IP Multicast", "239.1.2.3"},
		{"udp broadcast", "transport: udp\n\tinterface {\n\t\tbroadcast: yes\n\t}", "UDP/IP Multicast", ""},
		{"udpu", "transport: udpu", "UDP/IP Unicast", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := func(stateDir string) string {
				return strings.Replace(oneNodeConf(stateDir), "transport: knet", tc.totem, 1)
			}
			ref := refcorosync.Start(t, refcorosync.Options{Conf: conf("/var/lib/corosync")})
			ns := refcorosync.NewNetns(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "corosync.conf")
			if err := os.WriteFile(path, []byte(conf(dir)), 0o644); err != nil {
				t.Fatal(err)
			}
			log := startOurs(t, ns, path)
			for _, prefix := range []string{"totem.", "runtime.config."} {
				theirs, err1 := ref.Command("corosync-cmapctl", prefix).CombinedOutput()
				ours, err2 := ns.Command("corosync-cmapctl", prefix).CombinedOutput()
				if err1 != nil || err2 != nil || string(theirs) != string(ours) {
					t.Errorf("corosync-cmapctl %s (%v, %v):\ncorosync 3.1.7:\n%s\nours:\n%s", prefix, err1, err2, theirs, ours)
				}
			}
			banner := "[TOTEM ] Initializing transport (" + tc.banner + ")."
			if !strings.Contains(ref.Log(), banner) || !strings.Contains(log.String(), banner) {
				t.Errorf("%q missing:\ncorosync 3.1.7:\n%s\nours:\n%s", banner, ref.Log(), log)
			}
			theirs, ours := inetGroups(t, ref.Command("ip", "maddr", "show", "dev", "lo")), inetGroups(t, ns.Command("ip", "maddr", "show", "dev", "lo"))
			want := []string{}
			if tc.group != "" {
				want = []string{tc.group}
			}
			if strings.Join(theirs, ",") != strings.Join(want, ",") || strings.Join(ours, ",") != strings.Join(want, ",") {
				t.Errorf("groups joined on lo: corosync 3.1.7 %v, ours %v, want %v", theirs, ours, want)
			}
		})
	}
}
