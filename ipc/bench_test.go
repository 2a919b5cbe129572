package ipc

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// BenchmarkRoundTrip measures one cmap GET round trip (Go client, our server, the stub
// cmap) per transport, with client and server in one process.
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
			timeGets(b, c, cmapGet("bench.key", 16))
		})
	}
}

// timeGets runs b.N requests one after another and reports the median and 99th
// percentile round trip and the rate.
func timeGets(b *testing.B, c *Client, req []byte) {
	ctx := context.Background()
	for i := 0; i < 1000; i++ { // warm up both ends
		c.Request(ctx, req)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		resp, err := c.Request(ctx, req)
		lat = append(lat, time.Since(t))
		if err != nil || ResponseError(resp) != CSOk {
			b.Fatalf("request: %v %v", err, ResponseError(resp))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*9/10].Nanoseconds())/1000, "p90-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// benchServer is one side of the comparison: a namespace with a cmap server in another
// process, and the transport name the server was configured with.
type benchServer struct {
	name  string
	netns string
	do    func(func() error) error
}

// benchServers starts our stub cmap (in a re-executed test binary, so client and server
// are separate processes as they are with corosync) and the reference corosync 3.1.7, each
// in its own namespace, with the given transport.
func benchServers(b *testing.B, transport string) []benchServer {
	ns := refcorosync.NewNetns(b)
	startCmap(b, ns.Name, transport)
	refType := transport
	if refType == "shm" {
		refType = "native"
	}
	ref := refcorosync.Start(b, refcorosync.Options{IPCType: refType})
	return []benchServer{{"ours", ns.Name, ns.Do}, {"corosync-3.1.7", ref.Name, ref.Do}}
}

// BenchmarkCmapGet compares cmap_get round trips against our server and against corosync
// 3.1.7 in the same run: from our Go client, from 4 Go clients at once, and from C through
// Debian's unmodified libcmap. The key is totem.token, a uint32 on both servers. Our server
// answers from the test stub cmap, which is a map under a mutex like the real engine.
//
//	go test -run XXX -bench CmapGet -benchtime 200000x ./ipc
func BenchmarkCmapGet(b *testing.B) {
	if why := refcorosync.Skip(); why != "" {
		b.Skip("skipping: " + why)
	}
	cbench := filepath.Join(b.TempDir(), "cmapbench")
	if out, err := exec.Command("gcc", "-O2", "-o", cbench, "testdata/cmapbench.c", "-lcmap").CombinedOutput(); err != nil {
		b.Skipf("skipping: cannot build the libcmap benchmark (needs gcc and libcmap-dev): %v: %s", err, out)
	}
	req := cmapGet("totem.token", 4)
	for _, tr := range transports {
		for _, srv := range benchServers(b, tr) {
			dial := func(b *testing.B) *Client {
				var c *Client
				err := srv.do(func() (err error) { c, err = Dial(context.Background(), "cmap"); return err })
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { c.Close() })
				return c
			}
			b.Run(fmt.Sprintf("server=%s/ipc=%s/client=go", srv.name, tr), func(b *testing.B) {
				timeGets(b, dial(b), req)
			})
			b.Run(fmt.Sprintf("server=%s/ipc=%s/client=go-x4", srv.name, tr), func(b *testing.B) {
				clients := []*Client{dial(b), dial(b), dial(b), dial(b)}
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for k, c := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := k; i < b.N; i += len(clients) {
							if resp, err := c.Request(context.Background(), req); err != nil || ResponseError(resp) != CSOk {
								b.Errorf("request: %v", err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			})
			b.Run(fmt.Sprintf("server=%s/ipc=%s/client=c-libcmap", srv.name, tr), func(b *testing.B) {
				out, err := exec.Command("ip", "netns", "exec", srv.netns, cbench, "totem.token", strconv.Itoa(b.N)).CombinedOutput()
				if err != nil {
					b.Fatalf("cmapbench: %v: %s", err, out)
				}
				for _, f := range strings.Fields(string(out)) {
					k, v, _ := strings.Cut(f, "=")
					n, _ := strconv.ParseFloat(v, 64)
					switch k {
					case "p50_ns":
						b.ReportMetric(n/1000, "p50-µs")
					case "p99_ns":
						b.ReportMetric(n/1000, "p99-µs")
					case "per_sec":
						b.ReportMetric(n, "req/s")
					}
				}
			})
		}
	}
}
