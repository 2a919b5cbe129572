package cpg

import (
	"testing"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// TestBackend runs the suite, the C client included, against the in-process backend: it
// must behave as corosync 3.1.7 does in every scenario.
func TestBackend(t *testing.T) {
	before := refcorosync.ShmNames()
	var ns *target
	t.Run("Suite", func(t *testing.T) {
		ns, _ = serveStub(t)
		runSuite(t, ns)
	})
	if ns == nil {
		return // skipped
	}
	if left := ns.shmLeftovers(before); len(left) > 0 {
		t.Fatalf("/dev/shm leftovers after the server stopped: %v", left)
	}
}
