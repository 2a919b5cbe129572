// Package perf holds the benchmark harness and the comparison with corosync 3.1.7.
package perf
