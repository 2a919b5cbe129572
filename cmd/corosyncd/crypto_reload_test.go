package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReloadChangesCrypto: corosync-cfgtool -R after the authkey and the cipher changed on
// every node switches the running ring to them without a membership change (load beside
// the old, activate, clean up, as corosync 3.1.7 with knet does); afterwards a node that
// still has the old key cannot join, and one with the new key can.
func TestReloadChangesCrypto(t *testing.T) {
	c := newCluster(t, 3)
	for i := 1; i <= 3; i++ {
		c.start(i)
	}
	cl1 := c.cmapOf(1)
	c.waitMembers(1, cl1, []int{1, 2, 3}, 30*time.Second)
	before := strings.Count(c.log(1), "A new membership (")

	// New key in a new file, new cipher, on every node.
	newKey := make([]byte, 256)
	for i := range newKey {
		newKey[i] = byte(i*13 + 5)
	}
	newKeyFile := filepath.Join(c.dir, "authkey.new")
	if err := os.WriteFile(newKeyFile, newKey, 0o400); err != nil {
		t.Fatal(err)
	}
	oldKeyFile := filepath.Join(c.dir, "authkey")
	rewrite := func(i int, cipher, keyfile string) {
		b, err := os.ReadFile(c.confPath(i))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, kv := range [][2]string{{"crypto_cipher: ", cipher}, {"keyfile: ", keyfile}} {
			start := strings.Index(s, kv[0])
			end := start + strings.Index(s[start:], "\n")
			s = s[:start] + kv[0] + kv[1] + s[end:]
		}
		if err := os.WriteFile(c.confPath(i), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 3; i++ {
		rewrite(i, "aes128", newKeyFile)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.cfgOf(1).ReloadConfig(ctx); err != nil {
		time.Sleep(time.Second)
		t.Fatalf("reload: %v\n%s", err, c.log(1))
	}
	for i := 1; i <= 3; i++ {
		c.waitLog(i, "kronosnet crypto reconfigured on index 2: nss/aes128/sha256", 10*time.Second)
		c.waitKey(i, c.cmapOf(i), "totem.crypto_cipher", "aes128", 5*time.Second)
	}
	// The phases take two safe rotations; then the ring must still be the same.
	time.Sleep(3 * time.Second)
	c.waitMembers(1, cl1, []int{1, 2, 3}, time.Second)
	if after := strings.Count(c.log(1), "A new membership ("); after != before {
		t.Fatalf("the crypto switch changed the membership (%d new ones):\n%s", after-before, c.log(1))
	}

	// Node 3 comes back with the old key and cipher: it must stay out.
	c.stop(3)
	c.waitMembers(1, cl1, []int{1, 2}, 30*time.Second)
	rewrite(3, "aes256", oldKeyFile)
	c.start(3)
	time.Sleep(5 * time.Second)
	c.waitMembers(1, cl1, []int{1, 2}, time.Second)
	// With the new ones it joins.
	c.stop(3)
	rewrite(3, "aes128", newKeyFile)
	c.start(3)
	c.waitMembers(1, cl1, []int{1, 2, 3}, 30*time.Second)
}
