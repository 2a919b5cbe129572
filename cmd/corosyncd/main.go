// Command corosyncd is the cluster engine daemon, a drop-in replacement for corosync 3.1.7:
// the same flags, configuration file, cmap keys, IPC services and log lines.
//
//	corosyncd -f                 run in the foreground on /etc/corosync/corosync.conf,
//	                             or on an embedded one-node default when that file is absent
//	corosyncd                    the same, detached into the background as corosync does
//	corosyncd -f -c FILE         run on FILE
//	corosyncd -t [-c FILE]       check the configuration and exit (status 8 if invalid)
//	corosyncd -v                 print the version
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
)

func main() {
	os.Exit(mainWithArgs(os.Args[1:]))
}

func mainWithArgs(args []string) int {
	fs := flag.NewFlagSet("corosyncd", flag.ContinueOnError)
	foreground := fs.Bool("f", false, "run in the foreground (without it the daemon detaches into the background)")
	confPath := fs.String("c", defaultConfPath, "configuration file")
	testOnly := fs.Bool("t", false, "test the configuration and exit")
	version := fs.Bool("v", false, "print the version and exit")
	fs.Bool("p", false, "do not set the process priority (accepted for compatibility)")
	fs.Bool("P", false, "set the priority to maximum (accepted for compatibility)")
	fs.Bool("r", false, "set round-robin realtime scheduling (accepted for compatibility)")
	fs.Bool("l", false, "lock memory (accepted for compatibility)")
	if err := fs.Parse(args); err != nil {
		return exitConfigError
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "c" {
			explicit = true
		}
	})
	if *version {
		fmt.Printf("Corosync Cluster Engine, version '%s'\nCopyright (c) 2006-2021 Red Hat, Inc.\n\nBuilt-in features: systemd pie\nAvailable crypto models: nss openssl\nAvailable compression models: zlib lz4 lz4hc zstd\n", Version)
		return exitOK
	}
	logs := newLogOutput(os.Stderr)
	if *testOnly {
		return testConfig(*confPath, explicit, logs)
	}
	if !*foreground {
		return detach(args, *confPath, explicit, logs)
	}
	return run(context.Background(), *confPath, explicit, logs)
}

// testConfig is corosync -t: parse and validate, report like corosync, exit 0 or 8.
func testConfig(path string, explicit bool, logs *logOutput) int {
	if _, err := load(context.Background(), path, explicit); err != nil {
		logs.logger.Error("parse error in config: " + err.Error())
		logs.logger.Error(fmt.Sprintf("Corosync Cluster Engine exiting with status %d.", exitConfigError))
		return exitConfigError
	}
	logs.logger.Log(context.Background(), levelNotice, "Corosync Cluster Engine exiting normally")
	return exitOK
}
