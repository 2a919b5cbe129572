package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/corosync-go/corosync/l4_services/logsys"
)

// linuxSched is schedSystem on Linux.
type linuxSched struct{}

// MaxRRPriority implements schedSystem.
func (linuxSched) MaxRRPriority() (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_SCHED_GET_PRIORITY_MAX, unix.SCHED_RR, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// SetRR implements schedSystem. sched_setscheduler changes one thread, and Go runs
// goroutines on several, so every thread is changed; it repeats until a pass finds no new
// thread, because a thread created meanwhile by one not yet changed would not inherit.
func (linuxSched) SetRR(prio int) error {
	done := map[int]bool{}
	for range 10 {
		tids, err := threads()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			fresh++
			err := unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: unix.SCHED_RR, Priority: uint32(prio)}, 0)
			if err != nil && !errors.Is(err, unix.ESRCH) { // a thread that just exited
				return err
			}
			done[tid] = true
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}

// threads lists the process's thread ids.
func threads() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, tid)
		}
	}
	return out, nil
}

// MoveToRootCgroup implements schedSystem as corosync_move_to_root_cgroup: cgroup v1's
// cpu controller, else cgroup v2's root.
func (linuxSched) MoveToRootCgroup() error {
	file := "/sys/fs/cgroup/cpu/tasks"
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"); err != nil {
		file = "/sys/fs/cgroup/cgroup.procs"
		if _, err := os.Stat(file); err != nil {
			return err
		}
	}
	return os.WriteFile(file, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
}

// SetPriority implements schedSystem.
func (linuxSched) SetPriority(prio int) error {
	return unix.Setpriority(unix.PRIO_PGRP, 0, prio)
}

// LockMemory implements schedSystem like corosync_mlockall, with MCL_ONFAULT: pages are
// locked as they are first touched. Go reserves its heap in large arenas, and without it
// MCL_FUTURE would fault in and pin each whole arena when it is mapped.
func (linuxSched) LockMemory(log *slog.Logger) {
	inf := &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, inf); err != nil {
		log.Warn(logsys.Perror("Could not increase RLIMIT_MEMLOCK, not locking memory", err))
		return
	}
	if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT); err != nil {
		log.Warn(logsys.Perror("Could not lock memory of service to avoid page faults", err))
	}
}
