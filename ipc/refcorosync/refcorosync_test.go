package refcorosync_test

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// TestReferenceServesCmap starts the reference daemon and reads totem.cluster_name from it
// with a raw cmap GET, over both IPC transports, and checks /dev/shm is clean afterwards.
func TestReferenceServesCmap(t *testing.T) {
	for _, typ := range []string{"native", "socket"} {
		t.Run(typ, func(t *testing.T) {
			ref := refcorosync.Start(t, refcorosync.Options{IPCType: typ})
			before := refcorosync.ShmNames()
			var c *ipc.Client
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ref.Do(func() (err error) { c, err = ipc.Dial(ctx, "cmap"); return err }); err != nil {
				t.Fatal(err)
			}
			req := make([]byte, 288)
			ipc.PutRequestHeader(req, 2) // MESSAGE_REQ_CMAP_GET
			key := "totem.cluster_name"
			binary.LittleEndian.PutUint16(req[16:], uint16(len(key)))
			copy(req[24:], key)
			binary.LittleEndian.PutUint64(req[280:], 256)
			res, err := c.Request(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if cs := ipc.ResponseError(res); cs != ipc.CSOk {
				t.Fatalf("cmap get: %v", cs)
			}
			if !strings.Contains(string(res[24:]), "refcluster") {
				t.Fatalf("response %q lacks the cluster name", res)
			}
			c.Close()
			if left := refcorosync.ShmLeftovers(before, 2*time.Second); len(left) > 0 {
				t.Fatalf("/dev/shm leftovers after close: %v", left)
			}
		})
	}
}
