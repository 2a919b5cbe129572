package cpg

import (
	"testing"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// TestReference runs the suite against Debian's corosync 3.1.7 over the shm transport.
func TestReference(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{})
	ns := newTarget(ref.Netns)
	before := refcorosync.ShmNames()
	runSuite(t, ns)
	if left := ns.shmLeftovers(before); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the clients closed: %v", left)
	}
}

// TestReferenceSocket repeats the basic scenarios over the socket transport.
func TestReferenceSocket(t *testing.T) {
	ref := refcorosync.Start(t, refcorosync.Options{IPCType: "socket"})
	ns := newTarget(ref.Netns)
	before := refcorosync.ShmNames()
	t.Run("JoinMcastLeave", func(t *testing.T) { testJoinMcastLeave(t, ns) })
	t.Run("TwoClients", func(t *testing.T) { testTwoClients(t, ns) })
	if left := ns.shmLeftovers(before); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the clients closed: %v", left)
	}
}
