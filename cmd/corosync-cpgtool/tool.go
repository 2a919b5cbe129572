package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"path"
	"strings"

	"github.com/corosync-go/corosync/cmd/internal/cserr"
	"github.com/corosync-go/corosync/cmd/internal/getopt"
	"github.com/corosync-go/corosync/ipc/cfg"
	"github.com/corosync-go/corosync/ipc/cpg"
)

// cpgAPI is what the tool asks of the cpg service (*cpg.Client), an interface so tests
// can stand in for the daemon.
type cpgAPI interface {
	Iterate(ctx context.Context, typ cpg.IterationType, group string) ([]cpg.IterationEntry, error)
	Close() error
}

// cfgAPI is what it asks of the cfg service (*cfg.Client).
type cfgAPI interface {
	NodeAddrs(ctx context.Context, nodeID uint32) ([]netip.Addr, error)
	Close() error
}

// deps are the tool's ways to reach the daemon.
type deps struct {
	dialCpg func(ctx context.Context) (cpgAPI, error)
	dialCfg func(ctx context.Context) (cfgAPI, error)
}

// daemonDeps reaches the local corosync.
func daemonDeps() deps {
	return deps{
		dialCpg: func(ctx context.Context) (cpgAPI, error) {
			c, err := cpg.Dial(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		dialCfg: func(ctx context.Context) (cfgAPI, error) {
			c, err := cfg.Dial(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	}
}

// optString is corosync-cpgtool 3.1.7's getopt option string.
const optString = "hd:ne"

// usage is usage_do's text; prog is the basename of argv[0].
func usage(prog string) string {
	return prog + ` [-d delimiter] [-e] [-n] [-h]

A tool for displaying cpg groups and members.
options:
	-d	Delimiter between fields.
	-e	Don't escape unprintable characters in group name.
	-n	Display only all existing group names.
	-h	Display this help.
`
}

// options are the parsed command line.
type options struct {
	delim     byte // 0: none
	noEscape  bool
	namesOnly bool
}

// run is the whole tool: argv is the command line with argv[0], posixlyCorrect whether
// POSIXLY_CORRECT is set. It returns the exit status.
func run(ctx context.Context, argv []string, posixlyCorrect bool, stdout, stderr io.Writer, d deps) int {
	argv0 := ""
	if len(argv) > 0 {
		argv0, argv = argv[0], argv[1:]
	}
	r := getopt.Parse(argv0, argv, optString, posixlyCorrect)
	var o options
	for _, p := range r.Opts {
		switch p.Name {
		case 'd':
			if p.Arg != "" {
				o.delim = p.Arg[0]
			}
		case 'n':
			o.namesOnly = true
		case 'e':
			o.noEscape = true
		case 'h':
			io.WriteString(stdout, usage(basename(argv0)))
			return 0
		}
	}
	if r.Err != "" {
		io.WriteString(stderr, r.Err)
		return 1
	}
	cp, err := d.dialCpg(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "Could not initialize corosync cpg API error %d\n", int(cserr.Of(err)))
		return 1
	}
	defer cp.Close()
	cf, err := d.dialCfg(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "Could not initialize corosync configuration API error %d\n", int(cserr.Of(err)))
		return 1
	}
	defer cf.Close()
	ok := false
	if o.namesOnly {
		ok = displayGroups(ctx, cp, o, stdout, stderr)
	} else {
		ok = displayMembers(ctx, cp, cf, o, stdout, stderr)
	}
	if !ok {
		return 1
	}
	return 0
}

// basename is basename(3) of GNU libgen: the last component, trailing slashes ignored,
// "/" for a path of slashes only.
func basename(p string) string {
	if p == "" {
		return "."
	}
	return path.Base(p)
}

// groupName is fprint_group: the name, with bytes other than printable ASCII escaped
// unless noEscape. The C tool's char is signed, so a byte from 0x80 up prints as the
// negative int it becomes: \xFFFFFF80 and so on.
func groupName(name string, noEscape bool) string {
	if noEscape {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= ' ' && c < 0x7f && c != '\\':
			b.WriteByte(c)
		case c == '\\':
			b.WriteString(`\\`)
		default:
			fmt.Fprintf(&b, `\x%02X`, uint32(int32(int8(c))))
		}
	}
	return b.String()
}

// iterate lists the entries of one iteration, printing the C tool's complaint when the
// iteration cannot start.
func iterate(ctx context.Context, cp cpgAPI, typ cpg.IterationType, stderr io.Writer) ([]cpg.IterationEntry, bool) {
	entries, err := cp.Iterate(ctx, typ, "")
	if err != nil {
		fmt.Fprintf(stderr, "Cannot initialize cpg iterator error %d\n", int(cserr.Of(err)))
		return nil, false
	}
	return entries, true
}

// displayGroups is -n: each group's name on a line of its own, or all on one line
// ended by the delimiter each.
func displayGroups(ctx context.Context, cp cpgAPI, o options, stdout, stderr io.Writer) bool {
	entries, ok := iterate(ctx, cp, cpg.IterationNameOnly, stderr)
	if !ok {
		return false
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(groupName(e.Group, o.noEscape))
		if o.delim != 0 {
			b.WriteByte(o.delim)
		} else {
			b.WriteByte('\n')
		}
	}
	if o.delim != 0 {
		b.WriteByte('\n')
	}
	io.WriteString(stdout, b.String())
	return true
}

// displayMembers is the default output: a header, then each group's name and members
// with their addresses, or with -d one delimited line per member.
func displayMembers(ctx context.Context, cp cpgAPI, cf cfgAPI, o options, stdout, stderr io.Writer) bool {
	entries, ok := iterate(ctx, cp, cpg.IterationAll, stderr)
	if !ok {
		return false
	}
	var b strings.Builder
	d := string([]byte{o.delim})
	if o.delim != 0 {
		b.WriteString("GRP_NAME" + d + "PID" + d + "NODEID\n")
	} else {
		fmt.Fprintf(&b, "Group Name\t%10s\t%10s\n", "PID", "Node ID")
	}
	// The C tool starts from an empty name, so a nameless group's header is not printed.
	prev := ""
	for _, e := range entries {
		if o.delim != 0 {
			fmt.Fprintf(&b, "%s%s%d%s%d\n", groupName(e.Group, o.noEscape), d, e.PID, d, e.NodeID)
			continue
		}
		if e.Group != prev {
			b.WriteString(groupName(e.Group, o.noEscape) + "\n")
			prev = e.Group
		}
		fmt.Fprintf(&b, "\t\t%10d\t%10d (%s)\n", e.PID, e.NodeID, addrList(ctx, cf, e.NodeID))
	}
	io.WriteString(stdout, b.String())
	return true
}

// addrList is fprint_addrs: the node's addresses separated by spaces, nothing when cfg
// cannot tell.
func addrList(ctx context.Context, cf cfgAPI, id uint32) string {
	addrs, err := cf.NodeAddrs(ctx, id)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for i, a := range addrs {
		if !a.IsValid() {
			continue
		}
		if i != 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.WithZone("").String())
	}
	return b.String()
}
