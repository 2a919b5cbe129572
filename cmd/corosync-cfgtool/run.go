package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
	"github.com/corosync-go/corosync/ipc/cmap"
)

// deps are the tool's ways to reach the daemon, replaceable in tests.
type deps struct {
	dialCfg  func(ctx context.Context) (cfgAPI, error)
	dialCmap func(ctx context.Context) (cmapAPI, error)
	// retryDelay is the pause between shutdown attempts the daemon asks to retry
	// (cs_repeat's one second).
	retryDelay time.Duration
}

// shutdownAttempts is cs_repeat's bound on tries of a shutdown answered "try again".
const shutdownAttempts = 30

// killReason is what the killed node logs.
const killReason = "Killed by corosync-cfgtool"

// daemonDeps reaches the local corosync.
func daemonDeps() deps {
	return deps{
		dialCfg: func(ctx context.Context) (cfgAPI, error) {
			c, err := cfg.Dial(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		dialCmap: func(ctx context.Context) (cmapAPI, error) {
			c, err := cmap.Dial(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		retryDelay: time.Second,
	}
}

// run is the whole tool: argv is the command line with argv[0], posixlyCorrect whether
// POSIXLY_CORRECT is set. It returns the exit status.
func run(ctx context.Context, argv []string, posixlyCorrect bool, stdout, stderr io.Writer, d deps) int {
	argv0 := ""
	if len(argv) > 0 {
		argv0, argv = argv[0], argv[1:]
	}
	o, ue := parseArgs(argv0, argv, posixlyCorrect)
	if ue != nil {
		io.WriteString(stderr, ue.Msg)
		return 1
	}
	switch o.action {
	case actionLinkStatus, actionNodeStatus:
		return status(ctx, d, o, stdout, stderr)
	case actionReload:
		return reload(ctx, d, stdout, stderr)
	case actionReopenLogs:
		return reopenLogs(ctx, d, stderr)
	case actionKillNode:
		return killNode(ctx, d, o.nodeID, stdout, stderr)
	case actionShutdown:
		return shutdown(ctx, d, o.force, stdout, stderr)
	case actionShowAddrs:
		return showAddrs(ctx, d, o.nodeID, stdout, stderr)
	}
	io.WriteString(stdout, usageText)
	return 0
}

// dialCfg connects to cfg, or says why not (with the code as a number, or with
// cs_strerror's name when named is set, as the C tool's actions differ) and returns nil.
func dialCfg(ctx context.Context, d deps, stderr io.Writer, named bool) cfgAPI {
	c, err := d.dialCfg(ctx)
	if err == nil {
		return c
	}
	if named {
		fmt.Fprintf(stderr, "Could not initialize corosync configuration API error %s\n", csStrerror(errCS(err)))
	} else {
		fmt.Fprintf(stderr, "Could not initialize corosync configuration API error %d\n", int(errCS(err)))
	}
	return nil
}

// status is -s (link status) and -n (node status).
func status(ctx context.Context, d deps, o options, stdout, stderr io.Writer) int {
	cf := dialCfg(ctx, d, stderr, false)
	if cf == nil {
		return 1
	}
	defer cf.Close()
	cm, err := d.dialCmap(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "Could not initialize corosync cmap API error %d\n", int(errCS(err)))
		return 1
	}
	v, ee := gatherView(ctx, cf, cm)
	cm.Close()
	if ee != nil {
		io.WriteString(stderr, ee.Msg)
		return ee.Code
	}
	writeHeader(stdout, &v)
	res := nodeStatuses(ctx, cf, v.NodeIDs)
	if o.action == actionNodeStatus {
		writeNodes(stdout, &v, res)
		return 0
	}
	writeStatusErrors(stderr, res)
	writeLinks(stdout, &v, res, o.brief)
	return 0
}

// reload is -R. A refused reload exits with the daemon's code.
func reload(ctx context.Context, d deps, stdout, stderr io.Writer) int {
	io.WriteString(stdout, "Reloading corosync.conf...\n")
	cf := dialCfg(ctx, d, stderr, true)
	if cf == nil {
		return 1
	}
	defer cf.Close()
	if err := cf.ReloadConfig(ctx); err != nil {
		cs := errCS(err)
		fmt.Fprintf(stderr, "Could not reload configuration. Error %s\n", csStrerror(cs))
		return int(cs)
	}
	io.WriteString(stdout, "Done\n")
	return 0
}

// reopenLogs is -L. A refusal exits with the daemon's code.
func reopenLogs(ctx context.Context, d deps, stderr io.Writer) int {
	cf := dialCfg(ctx, d, stderr, true)
	if cf == nil {
		return 1
	}
	defer cf.Close()
	if err := cf.ReopenLogFiles(ctx); err != nil {
		cs := errCS(err)
		fmt.Fprintf(stderr, "Could not reopen corosync logging files. Error %s\n", csStrerror(cs))
		return int(cs)
	}
	return 0
}

// killNode is -k.
func killNode(ctx context.Context, d deps, id uint32, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "Killing node %d\n", id)
	cf := dialCfg(ctx, d, stderr, false)
	if cf == nil {
		return 1
	}
	defer cf.Close()
	if err := cf.KillNode(ctx, id, killReason); err != nil {
		fmt.Fprintf(stderr, "Could not kill node (error = %s)\n", csStrerror(errCS(err)))
		return 1
	}
	return 0
}

// shutdown is -H: ask the daemon to stop (over the vetoes of its tracking clients with
// force), retrying while it says "try again". A refusal is reported, yet the exit status
// is 0, as in corosync-cfgtool.
func shutdown(ctx context.Context, d deps, force bool, stdout, stderr io.Writer) int {
	flags := cfg.ShutdownRequest
	if force {
		flags = cfg.ShutdownRegardless
	}
	cf := dialCfg(ctx, d, stderr, false)
	if cf == nil {
		return 1
	}
	defer cf.Close()
	io.WriteString(stdout, "Shutting down corosync\n")
	var cs ipc.CS
	for attempt := 0; attempt < shutdownAttempts; attempt++ {
		cs = errCS(cf.TryShutdown(ctx, flags))
		if cs != ipc.CSErrTryAgain {
			break
		}
		if !sleep(ctx, d.retryDelay) {
			break
		}
	}
	if cs != ipc.CSOk {
		fmt.Fprintf(stderr, "Could not shutdown (error = %d)\n", int(cs))
	}
	return 0
}

// showAddrs is -a.
func showAddrs(ctx context.Context, d deps, id uint32, stdout, stderr io.Writer) int {
	cf := dialCfg(ctx, d, stderr, false)
	if cf == nil {
		return 1
	}
	defer cf.Close()
	addrs, err := cf.NodeAddrs(ctx, id)
	if err != nil {
		fmt.Fprintf(stderr, "Could not get node address for nodeid %d\n", int32(id))
		return 1
	}
	writeAddrs(stdout, addrs)
	return 0
}

// sleep waits for dt or until ctx ends, reporting whether dt passed.
func sleep(ctx context.Context, dt time.Duration) bool {
	t := time.NewTimer(dt)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
