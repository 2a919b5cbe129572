// Command corosync-cmapctl reads and changes corosync's configuration and statistics
// maps, with corosync 3.1.7's options, output, messages and exit codes:
//
//	corosync-cmapctl [-b] [-DdghsqTCt] [-p filename] [-m map] [params...]
//
// It lists keys (all, or by prefix), gets (-g), sets (-s key type value), deletes (-d,
// -D by prefix), loads a file of changes (-p), tracks changes (-t key, -T prefix) and
// clears statistics (-C). Values print as "key (type) = value"; -q prints values only
// and -b shows binary values.
//
// Differences from 3.1.7, none visible in its output streams: stdout is flushed after
// every tracked change and before any message on stderr; while tracking, every chunk
// typed on stdin is looked at for "q" (3.1.7 can miss one typed after another line); and
// where 3.1.7 keeps tracking by spinning on a stdin pipe whose writer went away, this one
// keeps tracking by waiting.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args, osSystem()))
}
