package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/ipc/cmap"
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		argv  []string
		want  options
		early *outcome
	}{
		{argv: []string{"c"}, want: options{action: actionPrint, trackPrefix: true}},
		{argv: []string{"c", "-b", "-q", "totem."}, want: options{action: actionPrint, trackPrefix: true, showBinary: true, quiet: true, operands: []string{"totem."}}},
		{argv: []string{"c", "-g", "a", "-s", "b"}, want: options{action: actionSet, trackPrefix: true, operands: []string{"a", "b"}}},
		{argv: []string{"c", "-t", "-T", "k"}, want: options{action: actionTrack, operands: []string{"k"}}},
		{argv: []string{"c", "-T", "k"}, want: options{action: actionTrack, trackPrefix: true, operands: []string{"k"}}},
		{argv: []string{"c", "-p", "f"}, want: options{action: actionLoad, trackPrefix: true, file: "f"}},
		{argv: []string{"c", "-C", "all"}, want: options{action: actionClearStats, trackPrefix: true, clearOpt: "all", mapID: cmap.MapStats}},
		{argv: []string{"c", "-C", "ipc", "-m", "icmap"}, want: options{action: actionClearStats, trackPrefix: true, clearOpt: "ipc"}},
		{argv: []string{"c", "-m", "stats", "-m", "bogus", "-d", "k"}, want: options{action: actionDelete, trackPrefix: true, mapID: cmap.MapStats, operands: []string{"k"}}},
		{argv: []string{"c", "-m", "default", "-D", "k"}, want: options{action: actionDeletePrefix, trackPrefix: true, operands: []string{"k"}}},
		{argv: []string{"c", "-h", "-x"}, early: &outcome{stdout: helpText}},
		{argv: []string{"c", "-x", "-h"}, early: &outcome{stderr: "c: invalid option -- 'x'\n", code: 1}},
		{argv: []string{"c", "-m", "bogus"}, early: &outcome{stderr: "invalid map name, must be 'default', 'icmap' or 'stats'\n", code: 1}},
		{argv: []string{"c", "-m", "bogus", "-x"}, early: &outcome{stderr: "invalid map name, must be 'default', 'icmap' or 'stats'\n", code: 1}},
		{argv: []string{"c", "-C", "nope"}, early: &outcome{stderr: "argument to -C should be 'knet', 'totem', 'ipc', 'schedmiss' or 'all'\n", code: 1}},
		{argv: []string{"c", "-g"}, early: &outcome{stderr: "Expected key after options\n", code: 1}},
		{argv: []string{"c", "-s", "-t"}, early: &outcome{stderr: "Expected key after options\n", code: 1}},
	}
	for _, c := range cases {
		got, early := parseArgs(c.argv, false)
		if !reflect.DeepEqual(early, c.early) {
			t.Errorf("%q: outcome %+v, want %+v", c.argv, early, c.early)
			continue
		}
		if early == nil && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %+v, want %+v", c.argv, got, c.want)
		}
	}
}

func TestHelpText(t *testing.T) {
	// Spot checks of the text 3.1.7 prints; the integration test compares all of it.
	for _, s := range []string{"\nusage:  corosync-cmapctl [-b] [-DdghsqTCt] [-p filename] [-m map] [params...]\n",
		"used by corosync. \n", "    [^[^]]<key_name>[ <type> <value>]\n", "    corosync-cmapctl [-b] -T key_prefix\n\n"} {
		if !strings.Contains(helpText, s) {
			t.Errorf("help text lacks %q", s)
		}
	}
}
