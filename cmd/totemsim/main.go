// Command totemsim runs seeded whole-cluster simulations of the real Totem (l2) and EVS (l3)
// code with injected faults, checks the EVS properties after every step, and prints as its
// last line exactly "N passed, F failed". A failure prints its seed and a short event trace;
// -seed S replays that run bit for bit.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/corosync-go/corosync/l3_evs/sim"
)

func main() {
	seeds := flag.Int("seeds", 100, "number of seeded runs")
	from := flag.Int64("from", 1, "first seed of the -seeds runs")
	seed := flag.Int64("seed", 0, "replay this one seed (overrides -seeds)")
	nodes := flag.Int("nodes", 0, "cluster size (0: 3 to 7, chosen by the seed)")
	bug := flag.String("bug", "", "plant a bug in the simulated delivery path: one of "+fmt.Sprint(sim.Bugs))
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "runs in parallel")
	chaos := flag.Duration("chaos", 0, "virtual time with faults and load per run (0: default)")
	quiet := flag.Duration("quiet", 0, "fault-free virtual time at the end of each run (0: default)")
	verbose := flag.Bool("v", false, "print every run's summary and faults")
	traceEvents := flag.Int("trace", 60, "events shown before a failure")
	flag.Parse()
	if *bug != "" && !slices.Contains(sim.Bugs, *bug) {
		fmt.Fprintf(os.Stderr, "totemsim: unknown bug %q (known: %v)\n", *bug, sim.Bugs)
		os.Exit(2)
	}
	if *nodes != 0 && (*nodes < 1 || *nodes > 64) {
		fmt.Fprintln(os.Stderr, "totemsim: -nodes must be between 1 and 64")
		os.Exit(2)
	}

	var list []int64
	if *seed != 0 {
		list = []int64{*seed}
	} else {
		for s := int64(0); s < int64(*seeds); s++ {
			list = append(list, *from+s)
		}
	}
	results := make([]sim.Result, len(list))
	var wg sync.WaitGroup
	next := make(chan int)
	start := time.Now()
	for w := 0; w < max(1, *workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = sim.Run(sim.Options{Seed: list[i], Nodes: *nodes, Bug: *bug, Chaos: *chaos, Quiet: *quiet, TraceEvents: *traceEvents})
			}
		}()
	}
	for i := range list {
		next <- i
	}
	close(next)
	wg.Wait()

	passed, failed := 0, 0
	var deliveries, packets uint64
	for _, r := range results {
		deliveries += r.Deliveries
		packets += r.Packets
		if r.Err == nil {
			passed++
			if *verbose {
				fmt.Printf("seed %d: ok (%d nodes, %d deliveries, %d configs, %d packets, %d faults, virtual %v)\n",
					r.Seed, r.Nodes, r.Deliveries, r.Configs, r.Packets, len(r.Faults), r.VirtualEnd)
			}
			continue
		}
		failed++
		fmt.Printf("seed %d: FAILED (%d nodes): %v\n", r.Seed, r.Nodes, r.Err)
		fmt.Printf("  replay: go run ./cmd/totemsim -seed %d", r.Seed)
		if *nodes != 0 {
			fmt.Printf(" -nodes %d", *nodes)
		}
		if *bug != "" {
			fmt.Printf(" -bug %s", *bug)
		}
		fmt.Printf("\n  last events:\n%s", indent(r.Trace))
		if *verbose {
			for _, f := range r.Faults {
				fmt.Println("  fault:", f)
			}
		}
	}
	fmt.Printf("simulated %d runs in %v: %d deliveries checked, %d packets\n",
		len(list), time.Since(start).Round(time.Millisecond), deliveries, packets)
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func indent(s string) string {
	out := ""
	for _, line := range splitLines(s) {
		out += "    " + line + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var lines []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		lines = append(lines, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return lines
}
