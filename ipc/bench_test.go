package ipc

import (
	"context"
	"sort"
	"testing"
	"time"
)

// BenchmarkRoundTrip measures one cmap GET round trip (Go client, our server, the stub
// cmap) per transport, and reports the median and 99th percentile.
//
//	go test -run XXX -bench RoundTrip ./ipc
func BenchmarkRoundTrip(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr, func(b *testing.B) {
			stub, _ := inProcessCmap(b, tr)
			ctx := context.Background()
			c, err := Dial(ctx, stub.name)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.Request(ctx, cmapSetU32("bench.key", 1))
			req := cmapGet("bench.key", 16)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				resp, err := c.Request(ctx, req)
				lat = append(lat, time.Since(start))
				if err != nil || ResponseError(resp) != CSOk {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
		})
	}
}
