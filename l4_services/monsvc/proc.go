package monsvc

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"
)

// Stats are the two figures mon watches.
type Stats interface {
	// MemoryUsed is the memory in use, swap included, in percent of memory and swap.
	MemoryUsed() (int32, error)
	// Load15 is the 15-minute load average.
	Load15() (float64, error)
}

// ProcStats reads the figures from /proc as Debian's corosync 3.1.7 gets them through
// libstatgrab 0.92.1 and glibc's getloadavg.
type ProcStats struct {
	// FS holds meminfo and loadavg; nil is the machine's /proc.
	FS fs.FS
}

func (p ProcStats) read(name string) ([]byte, error) {
	fsys := p.FS
	if fsys == nil {
		fsys = os.DirFS("/proc")
	}
	return fs.ReadFile(fsys, name)
}

// Errors as libstatgrab words them in "Unable to get memory stats: %s".
var (
	errOpen  = errors.New("failed to open file")
	errParse = errors.New("failed to parse input")
)

// MemoryUsed implements Stats.
func (p ProcStats) MemoryUsed() (int32, error) {
	b, err := p.read("meminfo")
	if err != nil {
		return -1, errOpen
	}
	return MemoryUsedPercent(b)
}

// Load15 implements Stats.
func (p ProcStats) Load15() (float64, error) {
	b, err := p.read("loadavg")
	if err != nil {
		return -1, errOpen
	}
	return Load15(b)
}

// meminfoLines splits a file as fgets with a 256-byte buffer does: lines, with longer
// ones cut into pieces of 255 bytes that are read as lines of their own.
func meminfoLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		n := 0
		for n < len(b) && n < 255 && (n == 0 || b[n-1] != '\n') {
			n++
		}
		out = append(out, string(b[:n]))
		b = b[n:]
	}
	return out
}

// afterWord is what sscanf's "%*s" leaves of a line: the text after its first word, or
// false when the line has no word.
func afterWord(line string) (string, bool) {
	s := skipSpace(line)
	i := 0
	for i < len(s) && !isCSpace(s[i]) {
		i++
	}
	return s[i:], i > 0
}

// meminfoValue is sscanf(line, "%*s %lld kB"): the number after the first word, if any,
// with strtoll's saturation.
func meminfoValue(line string) (int64, bool) {
	rest, ok := afterWord(line)
	if !ok {
		return 0, false
	}
	neg, mag, overflow, ok := scanDecimal(rest)
	switch {
	case !ok:
		return 0, false
	case neg && (overflow || mag > 1<<63):
		return math.MinInt64, true
	case neg:
		return int64(-mag), true
	case overflow || mag > math.MaxInt64:
		return math.MaxInt64, true
	}
	return int64(mag), true
}

// swapValue is sscanf(line, "%*s %llu kB").
func swapValue(line string) (uint64, bool) {
	rest, ok := afterWord(line)
	if !ok {
		return 0, false
	}
	return scanUint64(rest)
}

// MemoryUsedPercent computes mon's memory_used from the text of /proc/meminfo as
// libstatgrab 0.92.1 and corosync do: memory is MemTotal, free memory MemFree plus Cached
// (the last of each line wins); swap is the first SwapTotal and SwapFree lines, both
// required; the result is (total - free) * 100 / total over memory and swap, in bytes,
// with C's 64-bit wrap-around and truncation. A zero total (corosync divides by zero) is
// an error.
func MemoryUsedPercent(meminfo []byte) (int32, error) {
	var memTotal, memFree, cached int64
	var swapTotal, swapFree uint64
	swapSeen := 0
	lines := meminfoLines(meminfo)
	for _, l := range lines {
		v, ok := meminfoValue(l)
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(l, "MemTotal:"):
			memTotal = v
		case strings.HasPrefix(l, "MemFree:"):
			memFree = v
		case strings.HasPrefix(l, "Cached:"):
			cached = v
		}
	}
	// libstatgrab reads the file again for swap, stopping after two swap lines.
	for _, l := range lines {
		if swapSeen == 2 {
			break
		}
		v, ok := swapValue(l)
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(l, "SwapTotal:"):
			swapTotal = v * 1024
			swapSeen++
		case strings.HasPrefix(l, "SwapFree:"):
			swapFree = v * 1024
			swapSeen++
		}
	}
	if swapSeen < 2 {
		return -1, errParse
	}
	total := memTotal*1024 + int64(swapTotal)
	free := (memFree+cached)*1024 + int64(swapFree)
	if total == 0 {
		return -1, fmt.Errorf("%w: no memory in total", errParse)
	}
	return int32((total - free) * 100 / total), nil
}

// Load15 reads the 15-minute load average from the text of /proc/loadavg as glibc's
// getloadavg does: the first 64 bytes without the last, then three numbers read with
// strtod one after the other.
func Load15(loadavg []byte) (float64, error) {
	if len(loadavg) == 0 {
		return -1, errParse
	}
	b := loadavg[:min(len(loadavg), 64)]
	s := string(b[:len(b)-1])
	var v float64
	for i := 0; i < 3; i++ {
		f, n := strtod(s)
		if n == 0 {
			return -1, errParse
		}
		v, s = f, s[n:]
	}
	return v, nil
}
