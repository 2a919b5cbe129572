package cmapsvc

import (
	"slices"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
)

// BenchmarkGet is our Go client's Get over shm against the service: one GET round trip
// per op, with the median and 99th percentile reported beside ns/op.
//
//	go test -run XXX -bench Get ./l4_services/cmapsvc    # as root
func BenchmarkGet(b *testing.B) {
	e := newEnv(b, Config{})
	e.m.Set("totem.token", cmap.Uint32(3000))
	c := e.dial(b, false)
	ctx := testCtx(b)
	want := cmap.Uint32(3000)
	for range 1000 { // warm both ends up
		c.Get(ctx, "totem.token")
	}
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		v, err := c.Get(ctx, "totem.token")
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
		if err != nil || !v.Equal(want) {
			b.Fatalf("get: %v %v", v, err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
}
