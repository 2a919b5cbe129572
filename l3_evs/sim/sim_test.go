package sim

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"
)

// runSeeds runs seeds 1..n in parallel and returns the results in seed order.
func runSeeds(n int, opt Options) []Result {
	results := make([]Result, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o := opt
				o.Seed = int64(i + 1)
				results[i] = Run(o)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// TestSimulationSeeds is the whole-cluster property test: 1,000 seeded runs of 3 to 7 nodes
// with every fault kind, checked after every step.
func TestSimulationSeeds(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 100
	}
	failed := 0
	var deliveries uint64
	for _, r := range runSeeds(n, Options{}) {
		deliveries += r.Deliveries
		if r.Err != nil {
			failed++
			if failed <= 3 {
				t.Errorf("seed %d (%d nodes): %v\nreplay: go run ./cmd/totemsim -seed %d\n%s", r.Seed, r.Nodes, r.Err, r.Seed, r.Trace)
			}
		}
	}
	t.Logf("%d runs, %d deliveries checked, %d failed", n, deliveries, failed)
	if deliveries < uint64(n)*200 {
		t.Errorf("only %d deliveries in %d runs: the load generator is not loading", deliveries, n)
	}
}

func TestReplayIsBitForBit(t *testing.T) {
	for _, seed := range []int64{3, 17, 401} {
		a := Run(Options{Seed: seed, TraceEvents: 5000})
		b := Run(Options{Seed: seed, TraceEvents: 5000})
		a.Trace, b.Trace = fmt.Sprint(a.Trace), fmt.Sprint(b.Trace)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d does not replay: %+v vs %+v", seed, a, b)
		}
	}
}

func TestFaultKindsAreInjected(t *testing.T) {
	kinds := map[string]bool{}
	for _, r := range runSeeds(20, Options{}) {
		for _, f := range r.Faults {
			for _, k := range []string{"loss", "partition", "asymmetric: true", "healed", "crashed",
				"persisted ring seq: true", "persisted ring seq: false", "paused", "dup", "left gracefully"} {
				if containsStr(f, k) {
					kinds[k] = true
				}
			}
		}
	}
	if len(kinds) != 10 {
		t.Fatalf("fault kinds seen in 20 runs: %v", kinds)
	}
}

func containsStr(s, sub string) bool {
	return len(sub) <= len(s) && (s[:len(sub)] == sub || containsStr(s[1:], sub))
}

// TestPlantedBugsAreCaught proves the checker can fail: every run in which a planted bug
// changed what node 1 delivered must be reported, and each bug must fire in some runs.
func TestPlantedBugsAreCaught(t *testing.T) {
	for _, bug := range Bugs {
		fired, caught := 0, 0
		for _, r := range runSeeds(150, Options{Bug: bug}) {
			if r.BugFired == 0 {
				continue
			}
			fired++
			if r.Err != nil {
				caught++
			} else {
				t.Errorf("%s: seed %d changed node 1's deliveries but passed the checker", bug, r.Seed)
			}
		}
		t.Logf("%s: fired in %d runs, caught in %d", bug, fired, caught)
		if fired < 3 {
			t.Errorf("%s fired in only %d of 150 runs", bug, fired)
		}
	}
}
