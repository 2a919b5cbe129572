package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

// detachedEnv marks the background process started by detach, so that it logs corosync's
// "Corosync TTY detached".
const detachedEnv = "COROSYNCD_DETACHED"

// detach is corosync without -f: the configuration is checked here, so that a bad file is
// reported on the terminal with corosync's status, and then the daemon runs in a new
// session with its standard streams on /dev/null while this process exits 0. A Go
// program cannot fork, so the background process is this executable run again with -f.
func detach(args []string, confPath string, explicit bool, logs *logOutput) int {
	if code := precheck(confPath, explicit, logs); code != exitOK {
		return code
	}
	exe, err := os.Executable()
	if err != nil {
		logs.logger.Error(logsys.Perror("Could not find the daemon's executable to detach", err))
		return exitForkFailed
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		logs.logger.Error(fmt.Sprintf("Corosync Cluster Engine exiting with status %d.", exitStdToNull))
		return exitStdToNull
	}
	defer devnull.Close()
	cmd := exec.Command(exe, append([]string{"-f"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.Env = append(os.Environ(), detachedEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		logs.logger.Error(logsys.Perror("Could not start the background daemon", err))
		logs.logger.Error(fmt.Sprintf("Corosync Cluster Engine exiting with status %d.", exitForkFailed))
		return exitForkFailed
	}
	_ = cmd.Process.Release()
	return exitOK
}

// precheck loads the configuration and its logging section as start-up will, reporting
// what start-up would refuse, with the same status.
func precheck(confPath string, explicit bool, logs *logOutput) int {
	fail := func(code int, msg string) int {
		logs.logger.Error(msg)
		logs.logger.Error(fmt.Sprintf("Corosync Cluster Engine exiting with status %d.", code))
		return code
	}
	conf, err := load(context.Background(), confPath, explicit)
	if err != nil {
		return fail(exitConfigError, "parse error in config: "+err.Error())
	}
	m := icmap.New()
	if err := conf.fill(m); err != nil {
		return fail(exitConfigError, "parse error in config: "+err.Error())
	}
	if _, err := logsys.FromKeys(text(m)); err != nil {
		if msg, ok := configError(err); ok {
			return fail(exitLogConfigError, msg)
		}
		return fail(exitConfigError, err.Error())
	}
	return exitOK
}
