package main

import (
	"fmt"
	"io"
	"math"

	"github.com/corosync-go/corosync/cmd/internal/getopt"
)

// command is what the command line asks for; the last command option wins.
type command int

const (
	cmdShowStatus        command = iota // -s, the default
	cmdShowNodes                        // -l
	cmdSetVotes                         // -v
	cmdSetExpected                      // -e
	cmdMonitor                          // -m
	cmdUnregisterQdevice                // -f
)

// sortType is -o's ordering of the membership list.
type sortType int

const (
	sortAddr     sortType = iota // a: the daemon's order, which is by address
	sortNodeID                   // i
	sortNodeName                 // n
)

// options are the parsed command line.
type options struct {
	cmd      command
	hexIDs   bool // -H
	numeric  bool // -i: addresses instead of names
	allAddrs bool // -a
	parsable bool // -p
	sort     sortType
	// votes is -v's or -e's value, whichever came last (the C tool shares the variable).
	votes uint32
	// nodeID is -n's node for -v; nodeIDSet tells whether it was given.
	nodeID    uint32
	nodeIDSet bool
}

// optString is corosync-quorumtool 3.1.7's getopt option string.
const optString = "VHaslpmfe:v:hin:o:"

// version is what -V prints.
const version = "3.1.7"

// usage is show_usage's text for argv0.
func usage(argv0 string) string {
	return "usage: \n" + argv0 + ` <options>

  options:

  -s             show quorum status
  -m             constantly monitor quorum status
  -l             list nodes
  -a             show all names or addresses for each node
  -p             when used with -s or -l, generates machine parsable output
  -v <votes>     change the number of votes for a node (*)
  -n <nodeid>    optional nodeid of node for -v
  -e <expected>  change expected votes for the cluster (*)
  -H             show nodeids in hexadecimal rather than decimal
  -i             show node IP addresses instead of the resolved name
  -o <a|n|i>     order by [a] IP address (default), [n] name, [i] nodeid
  -f             forcefully unregister a quorum device *DANGEROUS* (*)
  -h             show this help text
  -V             show version and exit

  (*) Starred items only work if votequorum is the quorum provider for corosync

`
}

// parseArgs interprets the command line as the C tool's getopt loop does, option by
// option: -h, -V and a bad value end it at once, before a later malformed option is
// seen. When it returns done, the tool exits with code after what it wrote.
func parseArgs(argv0 string, args []string, posixlyCorrect bool, stdout, stderr io.Writer) (o options, done bool, code int) {
	r := getopt.Parse(argv0, args, optString, posixlyCorrect)
	fail := func(msg string) (options, bool, int) {
		io.WriteString(stderr, msg)
		return o, true, 1
	}
	for _, p := range r.Opts {
		switch p.Name {
		case 'f':
			o.cmd = cmdUnregisterQdevice
		case 's':
			o.cmd = cmdShowStatus
		case 'a':
			o.allAddrs = true
		case 'm':
			o.cmd = cmdMonitor
		case 'i':
			o.numeric = true
		case 'H':
			o.hexIDs = true
		case 'l':
			o.cmd = cmdShowNodes
		case 'p':
			o.parsable = true
		case 'e':
			v, ok := getopt.StrToNum(p.Arg, 1, math.MaxInt32)
			if !ok {
				return fail("New expected votes value was not valid, try a positive number\n")
			}
			o.votes, o.cmd = uint32(v), cmdSetExpected
		case 'n':
			v, ok := getopt.StrToNum(p.Arg, 1, math.MaxUint32)
			if !ok {
				return fail("The nodeid was not valid, try a positive number\n")
			}
			o.nodeID, o.nodeIDSet = uint32(v), true
		case 'v':
			v, ok := getopt.StrToNum(p.Arg, 0, math.MaxInt32)
			if !ok {
				return fail("New votes value was not valid, try a positive number or zero\n")
			}
			o.votes, o.cmd = uint32(v), cmdSetVotes
		case 'o':
			switch p.Arg {
			case "a":
				o.sort = sortAddr
			case "i":
				o.sort = sortNodeID
			case "n":
				o.sort = sortNodeName
			default:
				return fail("Invalid ordering option. valid orders are a(address), i(node ID) or n(name)\n")
			}
		case 'V':
			fmt.Fprintf(stdout, "corosync-quorumtool version: %s\n", version)
			return o, true, 0
		case 'h':
			io.WriteString(stdout, usage(argv0))
			return o, true, 0
		}
	}
	if r.Err != "" {
		io.WriteString(stderr, r.Err)
		io.WriteString(stdout, usage(argv0))
		return o, true, 1
	}
	return o, false, 0
}
