package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/corosync-go/corosync/l4_services/logsys"
)

// schedPlan is what system.sched_rr, system.priority and system.move_to_root_cgroup ask
// for (corosync 3.1.7 main.c): realtime round-robin scheduling at the highest priority by
// default, so that a loaded machine does not starve the token.
type schedPlan struct {
	rr       bool
	prio     int  // nice value for setpriority; math.MinInt32 is "max", math.MaxInt32 "min"
	cgroup   bool // move_to_root_cgroup: yes
	noCgroup bool // move_to_root_cgroup: no (neither: auto)
}

// planScheduling reads the system.* keys as corosync does; an invalid priority is a
// configuration error (status 8).
func planScheduling(keys map[string]string) (schedPlan, error) {
	p := schedPlan{rr: true}
	switch keys["system.move_to_root_cgroup"] {
	case "yes":
		p.cgroup = true
	case "no":
		p.noCgroup = true
	}
	if v, ok := keys["system.sched_rr"]; ok && v != "yes" {
		p.rr = false
	}
	if v, ok := keys["system.priority"]; ok {
		switch v {
		case "max":
			p.prio = math.MinInt32
		case "min":
			p.prio = math.MaxInt32
		default:
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return p, fmt.Errorf("Priority value %s is invalid", v)
			}
			p.prio = int(n)
		}
	}
	return p, nil
}

// schedSystem is the operating system's side of scheduling, replaceable in tests.
type schedSystem interface {
	// MaxRRPriority is sched_get_priority_max(SCHED_RR).
	MaxRRPriority() (int, error)
	// SetRR puts every thread of the process under SCHED_RR at prio; threads created
	// later inherit it from their creators.
	SetRR(prio int) error
	// MoveToRootCgroup moves the process to the root cpu cgroup, where realtime
	// scheduling has a budget.
	MoveToRootCgroup() error
	// SetPriority is setpriority(PRIO_PGRP, 0, prio).
	SetPriority(prio int) error
	// LockMemory is corosync_mlockall.
	LockMemory(log *slog.Logger)
}

// applyScheduling is corosync's sequence: optional move to the root cgroup, SCHED_RR (in
// auto mode a failure moves to the root cgroup and tries again), then the nice value
// (maximum when realtime scheduling failed), then locked memory. It reports whether the
// process runs under SCHED_RR.
func applyScheduling(p schedPlan, sys schedSystem, log *slog.Logger) (realtime bool) {
	if p.cgroup {
		_ = sys.MoveToRootCgroup() // not fatal, as in corosync
	}
	prio := p.prio
	if p.rr {
		auto := !p.cgroup && !p.noCgroup
		err := setRR(sys, log, auto)
		if err != nil && auto {
			_ = sys.MoveToRootCgroup()
			err = setRR(sys, log, false)
		}
		if err != nil {
			prio = math.MinInt32
		} else {
			prio = 0
			realtime = true
		}
	}
	if prio != 0 {
		if err := sys.SetPriority(prio); err != nil {
			log.Warn(logsys.Perror(fmt.Sprintf("Could not set priority %d", prio), err))
		}
	}
	sys.LockMemory(log)
	return realtime
}

// setRR is corosync_set_rr_scheduler; silent drops its warnings.
func setRR(sys schedSystem, log *slog.Logger, silent bool) error {
	max, err := sys.MaxRRPriority()
	if err != nil {
		if !silent {
			log.Warn(logsys.Perror("Could not get maximum scheduler priority", err))
		}
		return err
	}
	if err := sys.SetRR(max); err != nil {
		if !silent {
			log.Warn(logsys.Perror(fmt.Sprintf("Could not set SCHED_RR at priority %d", max), err))
		}
		return err
	}
	return nil
}

// oneProcessor runs the daemon's Go code on one processor at a time (GOMAXPROCS 1) under
// SCHED_RR, unless the GOMAXPROCS environment variable says otherwise. corosync is one
// thread, so at realtime priority it takes at most one CPU. With more processors Go's
// runtime keeps threads spinning for work between goroutine hand-offs, and at realtime
// priority they starve every ordinary process, the IPC clients included (perf/RESULTS.md,
// issue #6). Threads blocked in system calls do not count against the limit.
func oneProcessor(log *slog.Logger) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if prev := runtime.GOMAXPROCS(1); prev != 1 {
		log.Debug(fmt.Sprintf("realtime scheduling: Go code runs on one processor (was %d)", prev))
	}
}

// requestSpin is the IPC server's RequestSpin: no polling under SCHED_RR, where it would
// keep the CPU from the clients (and, on one processor, from the daemon's other work).
func requestSpin(realtime bool) time.Duration {
	if realtime {
		return -1
	}
	return 0 // the default
}
