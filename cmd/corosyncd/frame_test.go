package main

import (
	"testing"

	"github.com/corosync-go/corosync/ipc/cmap"
	totem "github.com/corosync-go/corosync/l2_totem"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// TestFrameBytesFollowsNetMTU: frames are sized by corosync's net_mtu rule, 64 KiB on knet
// (whose links fragment), 1500 on udp and udpu, totem.netmtu when set; and the send queue
// is derived from the frame size as corosync's MESSAGE_QUEUE_MAX (4 MiB of frames).
func TestFrameBytesFollowsNetMTU(t *testing.T) {
	for _, c := range []struct {
		name      string
		transport string
		netmtu    *cmap.Value
		want      int
	}{
		{name: "knet default", want: totem.MaxFrameBytes},
		{name: "knet", transport: "knet", want: totem.MaxFrameBytes},
		{name: "udpu", transport: "udpu", want: totem.DefaultFrameBytesMax},
		{name: "udp", transport: "udp", want: totem.DefaultFrameBytesMax},
		{name: "netmtu 9000", transport: "knet", netmtu: ptr(cmap.Uint32(9000)), want: 8900},
		{name: "netmtu as text", netmtu: ptr(cmap.String("3000")), want: 2900},
		{name: "tiny netmtu", netmtu: ptr(cmap.Uint32(100)), want: 64},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := icmap.New()
			if c.transport != "" {
				m.Set("totem.transport", cmap.String(c.transport))
			}
			if c.netmtu != nil {
				m.Set("totem.netmtu", *c.netmtu)
			}
			if got := frameBytes(m); got != c.want {
				t.Fatalf("frame bytes %d, want %d", got, c.want)
			}
			tc := totemConfig(m, 1)
			if err := tc.Validate(); err != nil {
				t.Fatal(err)
			}
			if tc.FrameBytesMax != c.want || tc.PendingFramesMax != 4<<20/c.want {
				t.Fatalf("totem config: frames of %d bytes, %d pending; want %d and %d", tc.FrameBytesMax, tc.PendingFramesMax, c.want, 4<<20/c.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
