package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadyNotification: a daemon started with NOTIFY_SOCKET (as systemd's Type=notify
// does) sends READY=1 once its ring is formed.
func TestReadyNotification(t *testing.T) {
	c := newCluster(t, 1)
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c.env = []string{"NOTIFY_SOCKET=" + sock}
	c.start(1)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v\n%s", err, c.log(1))
	}
	if string(buf[:n]) != "READY=1" {
		t.Errorf("notification %q", buf[:n])
	}
	// The line is written before READY=1 is sent; the pipe to this test may lag.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(c.log(1), "ready to provide service"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no ready line:\n%s", c.log(1))
		}
	}
}

func TestSdNotifyWithoutSocket(t *testing.T) {
	os.Unsetenv("NOTIFY_SOCKET")
	if err := sdNotify("READY=1"); err != nil {
		t.Fatal(err)
	}
}
