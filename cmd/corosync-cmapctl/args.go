package main

import (
	"github.com/corosync-go/corosync/cmd/internal/getopt"
	"github.com/corosync-go/corosync/ipc/cmap"
)

// optString is corosync-cmapctl 3.1.7's getopt option string.
const optString = "m:hqgsdDtTbp:C:"

// action is what the command line asks for (enum user_action).
type action int

const (
	actionPrint action = iota // list keys, all or by prefix (the default)
	actionGet
	actionSet
	actionDelete
	actionDeletePrefix
	actionTrack
	actionLoad
	actionClearStats
)

// options is a parsed command line.
type options struct {
	action      action
	mapID       cmap.Map
	showBinary  bool
	quiet       bool
	trackPrefix bool   // -T (the default) rather than -t
	file        string // -p
	clearOpt    string // -C
	operands    []string
}

// outcome is a command line that ends before connecting: the text for stdout (-h) or
// stderr and the exit code.
type outcome struct {
	stdout, stderr string
	code           int
}

// parseArgs interprets argv as corosync-cmapctl 3.1.7 does. A nil outcome means: connect
// and run opts. Options take effect in order, so the last of -g/-s/-d/-D/-t/-T/-p/-C
// chooses the action, -h wins unless an earlier option was refused, and a bad -m or -C
// argument stops everything at once.
func parseArgs(argv []string, posixlyCorrect bool) (options, *outcome) {
	argv0 := "corosync-cmapctl"
	var args []string
	if len(argv) > 0 {
		argv0, args = argv[0], argv[1:]
	}
	g := getopt.Parse(argv0, args, optString, posixlyCorrect)
	o := options{action: actionPrint, mapID: cmap.MapICMAP, trackPrefix: true}
	// mapSet is never reset: once a good -m was seen, a later bad one passes silently.
	mapSet := false
	for _, op := range g.Opts {
		switch op.Name {
		case 'h':
			return o, &outcome{stdout: helpText}
		case 'b':
			o.showBinary = true
		case 'q':
			o.quiet = true
		case 'g':
			o.action = actionGet
		case 's':
			o.action = actionSet
		case 'd':
			o.action = actionDelete
		case 'D':
			o.action = actionDeletePrefix
		case 'p':
			o.file = op.Arg
			o.action = actionLoad
		case 'C':
			switch op.Arg {
			case "knet", "totem", "ipc", "schedmiss", "all":
				o.action = actionClearStats
				o.clearOpt = op.Arg
				o.mapID = cmap.MapStats
			default:
				return o, &outcome{stderr: "argument to -C should be 'knet', 'totem', 'ipc', 'schedmiss' or 'all'\n", code: 1}
			}
		case 't':
			o.action = actionTrack
			o.trackPrefix = false
		case 'T':
			o.action = actionTrack
		case 'm':
			switch op.Arg {
			case "icmap", "default":
				o.mapID, mapSet = cmap.MapICMAP, true
			case "stats":
				o.mapID, mapSet = cmap.MapStats, true
			}
			if !mapSet {
				return o, &outcome{stderr: "invalid map name, must be 'default', 'icmap' or 'stats'\n", code: 1}
			}
		}
	}
	if g.Err != "" {
		return o, &outcome{stderr: g.Err, code: 1}
	}
	o.operands = g.Operands
	if len(o.operands) == 0 && o.action != actionLoad && o.action != actionClearStats && o.action != actionPrint {
		return o, &outcome{stderr: "Expected key after options\n", code: 1}
	}
	return o, nil
}
