package main

import (
	"math"

	"github.com/corosync-go/corosync/cmd/internal/getopt"
)

// action is what the command line asks for; the last action option wins.
type action int

const (
	actionUsage      action = iota // no action option: print the usage
	actionLinkStatus               // -s
	actionNodeStatus               // -n
	actionReload                   // -R
	actionReopenLogs               // -L
	actionShutdown                 // -H
	actionShowAddrs                // -a nodeid
	actionKillNode                 // -k nodeid
)

// options are the parsed command line.
type options struct {
	action action
	nodeID uint32 // of -k and -a
	brief  bool   // -b
	force  bool   // --force
	// iface is -i's argument. corosync 3.1.7 accepts it but does nothing with it.
	iface string
}

// shortOpts and longOpts are corosync-cfgtool 3.1.7's getopt_long arguments ("r" is
// accepted and ignored there too).
const shortOpts = "i:snbrRLk:a:hH"

var longOpts = []getopt.LongOpt{
	{Name: "if", HasArg: true, Val: 'i'},
	{Name: "status", Val: 's'},
	{Name: "nodes", Val: 'n'},
	{Name: "brief", Val: 'b'},
	{Name: "reload", Val: 'R'},
	{Name: "reopen", Val: 'L'},
	{Name: "kill", HasArg: true, Val: 'k'},
	{Name: "address", HasArg: true, Val: 'a'},
	{Name: "shutdown", Val: 'H'},
	{Name: "force"},
}

// badNodeID is what corosync-cfgtool says about a -k or -a argument it refuses.
const badNodeID = "The nodeid was not valid, try a positive number\n"

// usageError is a command line the tool refuses before doing anything: Msg goes to
// stderr and the exit code is 1.
type usageError struct{ Msg string }

func (e *usageError) Error() string { return e.Msg }

// parseArgs interprets the command line as corosync-cfgtool 3.1.7 does, option by option:
// a bad node id stops it even when a later option is malformed, and a malformed option
// stops it before a later bad node id. posixlyCorrect is whether POSIXLY_CORRECT is set.
func parseArgs(argv0 string, args []string, posixlyCorrect bool) (options, *usageError) {
	var o options
	opts, gerr := getopt.ParseLong(argv0, args, shortOpts, longOpts, posixlyCorrect)
	for _, p := range opts {
		switch p.Val {
		case 0:
			if p.Long == "force" {
				o.force = true
			}
		case 'i':
			o.iface = p.Arg
		case 's':
			o.action = actionLinkStatus
		case 'n':
			o.action = actionNodeStatus
		case 'b':
			o.brief = true
		case 'R':
			o.action = actionReload
		case 'L':
			o.action = actionReopenLogs
		case 'H':
			o.action = actionShutdown
		case 'k', 'a':
			id, ok := parseNodeID(p.Arg)
			if !ok {
				return o, &usageError{badNodeID}
			}
			o.nodeID = id
			o.action = actionKillNode
			if p.Val == 'a' {
				o.action = actionShowAddrs
			}
		}
	}
	if gerr != nil {
		return o, &usageError{gerr.Msg}
	}
	return o, nil
}

// parseNodeID accepts what util_strtonum(s, 1, UINT_MAX) accepts.
func parseNodeID(s string) (uint32, bool) {
	v, ok := getopt.StrToNum(s, 1, math.MaxUint32)
	return uint32(v), ok
}
