package monsvc

import (
	"strings"
	"testing"
	"testing/fstest"
)

// meminfoSample is this machine's /proc/meminfo (abridged) when 3.1.7 reported 2.
const meminfoSample = `MemTotal:       24684100 kB
MemFree:        22999528 kB
MemAvailable:   24018924 kB
Buffers:          106716 kB
Cached:          1142004 kB
SwapCached:            0 kB
Active:           790128 kB
SwapTotal:             0 kB
SwapFree:              0 kB
Zswap:                 0 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
`

func TestMemoryUsedLikeLibstatgrab(t *testing.T) {
	// (24684100 - (22999528 + 1142004)) * 100 / 24684100 = 2 (MemAvailable is not used).
	if v, err := MemoryUsedPercent([]byte(meminfoSample)); err != nil || v != 2 {
		t.Errorf("got %d, %v; want 2", v, err)
	}
	// Swap counts on both sides.
	withSwap := strings.Replace(strings.Replace(meminfoSample, "SwapTotal:             0", "SwapTotal:      24684100", 1), "SwapFree:              0", "SwapFree:              0", 1)
	if v, err := MemoryUsedPercent([]byte(withSwap)); err != nil || v != 51 {
		t.Errorf("with full swap: %d, %v; want 51", v, err)
	}
	// Only the first SwapTotal and SwapFree lines count; later Cached lines win.
	dup := meminfoSample + "SwapTotal: 999 kB\nCached: 0 kB\n"
	if v, err := MemoryUsedPercent([]byte(dup)); err != nil || v != 6 {
		t.Errorf("with repeated lines: %d, %v; want 6", v, err)
	}
	for name, in := range map[string]string{
		"no swap lines": "MemTotal: 100 kB\nMemFree: 50 kB\n",
		"zero total":    "SwapTotal: 0 kB\nSwapFree: 0 kB\n",
		"empty":         "",
	} {
		if v, err := MemoryUsedPercent([]byte(in)); err == nil {
			t.Errorf("%s: %d, no error", name, v)
		}
	}
}

func TestMeminfoLinesCutAt255(t *testing.T) {
	long := strings.Repeat("x", 300) + "\nMemTotal: 1 kB\n"
	lines := meminfoLines([]byte(long))
	if len(lines) != 3 || len(lines[0]) != 255 || lines[1] != strings.Repeat("x", 45)+"\n" {
		t.Errorf("lines %q", lines)
	}
}

func TestLoad15(t *testing.T) {
	for in, want := range map[string]float64{
		"0.31 0.40 0.52 1/109 5511\n": 0.52,
		"1 2 3.5\n":                   3.5,
		"0.00 0.00 0.00 1/1 1\n":      0,
	} {
		if v, err := Load15([]byte(in)); err != nil || v != want {
			t.Errorf("%q: %v, %v; want %v", in, v, err, want)
		}
	}
	// "1 2 3": glibc drops the last byte (the newline), leaving two numbers.
	for _, in := range []string{"", "0.1,0.2,0.3\n", "0.1 0.2\n", "1 2 3"} {
		if v, err := Load15([]byte(in)); err == nil {
			t.Errorf("%q: %v, no error", in, v)
		}
	}
}

func TestProcStatsReadsTheFS(t *testing.T) {
	p := ProcStats{FS: fstest.MapFS{
		"meminfo": {Data: []byte(meminfoSample)},
		"loadavg": {Data: []byte("0.31 0.40 0.52 1/109 5511\n")},
	}}
	if v, err := p.MemoryUsed(); err != nil || v != 2 {
		t.Errorf("memory %d, %v", v, err)
	}
	if v, err := p.Load15(); err != nil || v != 0.52 {
		t.Errorf("load %v, %v", v, err)
	}
	if _, err := (ProcStats{FS: fstest.MapFS{}}).MemoryUsed(); err == nil || err.Error() != "failed to open file" {
		t.Errorf("missing meminfo: %v", err)
	}
	// The machine's own /proc reads.
	if v, err := (ProcStats{}).MemoryUsed(); err != nil || v < 0 || v > 100 {
		t.Errorf("this machine's memory: %d, %v", v, err)
	}
	if _, err := (ProcStats{}).Load15(); err != nil {
		t.Errorf("this machine's load: %v", err)
	}
}
