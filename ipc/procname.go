package ipc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
)

// procNameBytes is the room corosync keeps for a client's name (cs_ipcs_conn_context's
// proc_name[32], NUL included).
const procNameBytes = 32

var errProcStat = errors.New("ipc: /proc/<pid>/stat has no \"(name) \" field")

// procName is the client's command name as corosync 3.1.7 records it when a connection is
// created (ipc_glue's pid_to_name), "" when it cannot be read.
func procName(pid int32) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	name, err := parseProcStatName(b)
	if err != nil {
		return ""
	}
	return name
}

// parseProcStatName extracts the command name from the contents of /proc/<pid>/stat as
// corosync's pid_to_name does: it reads one line of at most 255 bytes (fgets into 256),
// takes what follows the last '(' up to the last ')', which must be followed by a space,
// and keeps at most 31 bytes. The kernel's comm is at most 15 bytes, so the cut only
// matters for forged input.
func parseProcStatName(stat []byte) (string, error) {
	line := stat
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i+1]
	}
	line = line[:min(len(line), 255)]
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i] // the C string ends there
	}
	open := bytes.LastIndexByte(line, '(')
	if open < 0 {
		return "", errProcStat
	}
	close := bytes.LastIndexByte(line, ')')
	if close < 0 || close+1 >= len(line) || line[close+1] != ' ' {
		return "", errProcStat
	}
	name := line[open+1:]
	if close > open {
		name = line[open+1 : close]
	}
	return string(name[:min(len(name), procNameBytes-1)]), nil
}
