package logsys

import (
	"strings"
	"testing"
)

// FuzzLine logs arbitrary messages, subsystems and attributes: a stderr line must come
// out, start with the priority and bracketed subsystem, end in one newline and fit
// libqb's 511 bytes.
func FuzzLine(f *testing.F) {
	f.Add("Corosync Cluster Engine 3.1.7 starting up", "MAIN", "node", "1")
	f.Add("A new membership (1.5) was formed. Members joined: 1", "TOTEM", "", "")
	f.Add(strings.Repeat("x", 600), "ABCDEFGHIJ", "k y", "v\"=()\n")
	f.Add("trailing\n", "", "subsys", "CPG")
	f.Fuzz(func(t *testing.T, msg, subsys, key, val string) {
		cfg := Default()
		cfg.Timestamp, cfg.Fileline, cfg.FunctionName = TimestampOff, true, true
		h, stderr := testHandler(t, cfg, nil)
		args := []any{}
		if key != "" {
			args = append(args, key, val)
		}
		logAt(h, LevelNotice, subsys, msg, args...)
		out := stderr.String()
		if !strings.HasPrefix(out, "notice  [") || !strings.HasSuffix(out, "\n") {
			t.Fatalf("line %q", out)
		}
		// Newlines inside the message split it, as in corosync; the first line is whole.
		first, _, _ := strings.Cut(out, "\n")
		if len(first) > maxLine || len(out) > maxLine+1 {
			t.Fatalf("%d bytes: %q", len(out), out)
		}
		// A subsystem is printed raw, as corosync does; one holding a newline splits
		// the line, which only code can do.
		if sub := subsysPad(subsys, key, val); !strings.Contains(sub[:min(len(sub), 6)], "\n") &&
			!strings.HasPrefix(first[len("notice  ["):], (sub + "      ")[:6]+"] main.c:main:1397 ") {
			t.Fatalf("subsystem or source wrong in %q", first)
		}
	})
}

// subsysPad is the subsystem the handler should print for these arguments.
func subsysPad(subsys, key, val string) string {
	if key == SubsysKey && val != "" {
		subsys = val
	}
	if subsys == "" {
		subsys = "MAIN"
	}
	return subsys
}
