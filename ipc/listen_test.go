package ipc

import (
	"strings"
	"syscall"
	"testing"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// TestListenTwiceSaysWhy: a second listener on the same service fails with a readable
// error (libqb's NUL-padded address left out) that still matches the errno.
func TestListenTwiceSaysWhy(t *testing.T) {
	ns := refcorosync.NewNetns(t)
	if err := ns.Do(func() error {
		srv := NewServer(Config{})
		first, err := srv.Listen(slowEcho{name: "twice"})
		if err != nil {
			return err
		}
		defer first.Close()
		_, err = srv.Listen(slowEcho{name: "twice"})
		if err == nil {
			t.Error("a second listener on one name was accepted")
			return nil
		}
		if strings.ContainsRune(err.Error(), 0) || err.Error() != "ipc: listen on @twice: bind: address already in use" {
			t.Errorf("error %q", err)
		}
		if !strings.Contains(err.Error(), syscall.EADDRINUSE.Error()) {
			t.Errorf("error %q does not say why", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
