package config

import (
	"context"
	"testing"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// TestFromMapRederivesTimers: a live map with totem.token changed at run time derives the
// timers corosync's totem_volatile_config_read gives, token_coefficient included.
func TestFromMapRederivesTimers(t *testing.T) {
	h := fakeHost("node-a", "192.0.2.1")
	text := conf("", []string{
		"ring0_addr: 192.0.2.1\n nodeid: 1\n", "ring0_addr: 192.0.2.2\n nodeid: 2\n", "ring0_addr: 192.0.2.3\n nodeid: 3\n",
	}, "")
	parsed, err := ParseBytes("corosync.conf", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	derived, err := Derive(context.Background(), parsed, h)
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]icmap.Value{}
	for _, e := range append(parsed.Entries, derived...) {
		live[e.Key] = e.Value.ICMAP()
	}
	if v := live["runtime.config.totem.token"]; v.Uint32() != 3650 {
		t.Fatalf("start: runtime.config.totem.token = %v", v)
	}
	live["stats.srp.mcast_tx"] = cmap.Uint64(7) // not a configuration key: ignored
	live["runtime.whatever"] = cmap.Float(1.5)  // a type no file makes: left out
	live["totem.token"] = cmap.Uint32(5000)
	entries, err := Derive(context.Background(), FromMap("(cmap)", live), h)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Value{}
	for _, e := range entries {
		got[e.Key] = e.Value
	}
	// 5000 + (3-2)*650; retransmit 5650/4.2; consensus 1.2*token.
	for key, want := range map[string]uint32{"token": 5650, "token_retransmit": 1345, "consensus": 6780} {
		if v := got["runtime.config.totem."+key]; !v.Equal(U32(want)) {
			t.Errorf("runtime.config.totem.%s = %v, want %d", key, v, want)
		}
	}
	live["totem.join"] = cmap.Uint32(10) // below corosync's 30 ms minimum
	if _, err := Derive(context.Background(), FromMap("(cmap)", live), h); err == nil {
		t.Fatal("a 10 ms join was accepted")
	}
}
