package ipc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// RemoveStale removes connection directories in ShmDir left by a server that was killed
// while clients whose own processes also died were connected (nobody else would ever
// remove them; corosync 3.1.7 leaves them too). A directory is removed only when it is
// named as our servers name them (qb-<server pid>-<client pid>-<fd>-XXXXXX), its server
// pid is not a live process, and every file in it belongs to one of the named services,
// so directories of other libqb servers (Pacemaker's) are never touched. It returns how
// many directories it removed.
func (s *Server) RemoveStale(services ...string) int {
	entries, err := os.ReadDir(s.cfg.ShmDir)
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		pid, ok := serverPIDOf(e.Name())
		if !ok || pid == s.pid || unix.Kill(pid, 0) != unix.ESRCH {
			continue
		}
		dir := filepath.Join(s.cfg.ShmDir, e.Name())
		if !onlyServiceFiles(dir, services) {
			continue
		}
		if os.RemoveAll(dir) == nil {
			removed++
			s.cfg.Log.Info("removed IPC files left by a dead server", "dir", dir)
		}
	}
	return removed
}

// serverPIDOf parses qb-<pid>-<pid>-<fd>-<suffix>.
func serverPIDOf(name string) (int, bool) {
	parts := strings.Split(name, "-")
	if len(parts) != 5 || parts[0] != "qb" {
		return 0, false
	}
	for _, p := range parts[1:4] {
		if _, err := strconv.ParseUint(p, 10, 31); err != nil {
			return 0, false
		}
	}
	pid, _ := strconv.Atoi(parts[1])
	return pid, pid > 0
}

// onlyServiceFiles reports whether dir holds only plain files whose names end with
// "-<service>" or "-<service>-header"/"-data" for one of services.
func onlyServiceFiles(dir string, services []string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			return false
		}
		name := strings.TrimSuffix(strings.TrimSuffix(e.Name(), "-header"), "-data")
		ours := false
		for _, svc := range services {
			if strings.HasSuffix(name, "-"+svc) {
				ours = true
				break
			}
		}
		if !ours {
			return false
		}
	}
	return true
}
