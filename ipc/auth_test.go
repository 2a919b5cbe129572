package ipc

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

func TestUIDGIDRule(t *testing.T) {
	keys := map[string]uint8{"uidgid.uid.1000": 1, "uidgid.config.gid.50": 1, "uidgid.uid.7": 0, "uidgid.config.uid.8": 2}
	allow := UIDGIDRule(func(k string) (uint8, bool) { v, ok := keys[k]; return v, ok })
	for _, c := range []struct {
		uid, gid uint32
		want     bool
	}{{1000, 1000, true}, {1001, 50, true}, {1001, 51, false}, {7, 7, false}, {8, 8, false}, {50, 1000, false}} {
		if got := allow(Creds{UID: c.uid, GID: c.gid}); got != c.want {
			t.Errorf("uid %d gid %d: allowed=%v, want %v", c.uid, c.gid, got, c.want)
		}
	}
}

// asNobody runs Debian's corosync-cmapctl as uid/gid 65534 inside namespace ns.
func asNobody(ns string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	argv := append([]string{"netns", "exec", ns, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "corosync-cmapctl"}, args...)
	out, err := exec.CommandContext(ctx, "ip", argv...).CombinedOutput()
	return string(out), err
}

// TestUIDGIDMatchesCorosync runs Debian's corosync-cmapctl as an unprivileged user against
// the reference corosync 3.1.7 and against our server, refused and then allowed by each
// kind of rule, and expects the same outcome and the same words from both.
func TestUIDGIDMatchesCorosync(t *testing.T) {
	needCmapctl(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("skipping: setpriv (util-linux) not installed")
	}
	cases := []struct {
		name     string
		refExtra string // corosync.conf text for the reference
		ourKeys  string // the cmap keys that text becomes
		allowed  bool
	}{
		{"no rule", "", "", false},
		{"uid rule", "uidgid {\n\tuid: nobody\n}\n", "uidgid.config.uid.65534", true},
		{"gid rule", "uidgid {\n\tgid: nogroup\n}\n", "uidgid.config.gid.65534", true},
		{"other uid", "uidgid {\n\tuid: daemon\n}\n", "uidgid.config.uid.1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := refcorosync.Start(t, refcorosync.Options{Extra: c.refExtra})
			refOut, refErr := asNobody(ref.Name, "-g", "totem.token")
			ns := refcorosync.NewNetns(t)
			startCmap(t, ns.Name, "shm", "IPC_TEST_UIDGID="+c.ourKeys)
			ourOut, ourErr := asNobody(ns.Name, "-g", "totem.token")
			t.Logf("reference: %v %q; ours: %v %q", refErr, refOut, ourErr, ourOut)
			if (refErr == nil) != c.allowed {
				t.Fatalf("reference corosync: allowed=%v, the case expects %v: %q", refErr == nil, c.allowed, refOut)
			}
			if (ourErr == nil) != c.allowed {
				t.Fatalf("our server: allowed=%v, want %v: %q", ourErr == nil, c.allowed, ourOut)
			}
			if !c.allowed && ourOut != refOut {
				t.Errorf("refusals differ:\nreference: %q\nours:      %q", refOut, ourOut)
			}
			if c.allowed && !strings.HasPrefix(ourOut, "totem.token (u32) = ") {
				t.Errorf("allowed client got %q", ourOut)
			}
		})
	}
}

// TestUIDGIDRuntimeKey allows an unprivileged user at run time by setting uidgid.uid.<uid>
// with corosync-cmapctl as root, as corosync's documentation describes, on both servers.
func TestUIDGIDRuntimeKey(t *testing.T) {
	needCmapctl(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("skipping: setpriv (util-linux) not installed")
	}
	ref := refcorosync.Start(t, refcorosync.Options{})
	ns := refcorosync.NewNetns(t)
	startCmap(t, ns.Name, "shm")
	for _, nsName := range []string{ref.Name, ns.Name} {
		if out, err := asNobody(nsName, "-g", "totem.token"); err == nil {
			t.Fatalf("%s: allowed before the key was set: %q", nsName, out)
		}
		if out, err := cmapctl(t, nsName, "-s", "uidgid.uid.65534", "u8", "1"); err != nil {
			t.Fatalf("%s: set key: %v %q", nsName, err, out)
		}
		if out, err := asNobody(nsName, "-g", "totem.token"); err != nil {
			t.Errorf("%s: refused after the key was set: %v %q", nsName, err, out)
		}
	}
}
