package main

import (
	"bufio"
	"context"
	"io"

	"github.com/corosync-go/corosync/cmd/internal/cserr"
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
)

// track follows changes of the given keys (-t) or prefixes (-T), printing one line per
// notification, until a line starting with "q" is typed, stdin ends (see watchStdin) or
// the daemon goes away.
func (t *tool) track(ctx context.Context, keys []string) error {
	flags := cmap.TrackAdd | cmap.TrackDelete | cmap.TrackModify
	if t.opts.trackPrefix {
		flags |= cmap.TrackPrefix
	}
	for _, k := range keys {
		err := ipc.CSErrNameTooLong.Err()
		if len(k) < maxNameBytes {
			_, err = t.cmap.TrackAdd(ctx, k, flags)
		}
		if err != nil {
			t.errorf("Failed to add tracking function. Error %s\n", cserr.Strerror(cserr.Of(err)))
			return exitStatus(1)
		}
	}
	t.out.WriteString("Type \"q\" to finish\n")
	t.out.Flush()
	quit := make(chan struct{})
	go watchStdin(t.sys.stdin, !t.sys.stdinIsPipe, quit)
	events := t.cmap.Events()
	for {
		select {
		case n, ok := <-events:
			if !ok {
				t.errorf("Dispatch error %s\n", cserr.Strerror(ipc.CSErrLibrary))
				return nil
			}
			t.printNotification(n)
			t.out.Flush()
		case <-quit:
			// Like 3.1.7, which dispatches what already arrived in the same wake-up.
			for {
				select {
				case n, ok := <-events:
					if !ok {
						return nil
					}
					t.printNotification(n)
				default:
					return nil
				}
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// printNotification prints a change as cmap_notify_fn does: "create> ", "modify> " with
// the new value, "delete> " with the old one.
func (t *tool) printNotification(n cmap.Notification) {
	var v cmap.Value
	switch n.Event {
	case cmap.TrackAdd:
		t.out.WriteString("create> ")
		v = n.New
	case cmap.TrackDelete:
		t.out.WriteString("delete> ")
		v = n.Old
	case cmap.TrackModify:
		t.out.WriteString("modify> ")
		v = n.New
	default:
		t.out.WriteString("unknown change> ")
		return
	}
	t.out.Write(appendKey(nil, n.Key, v.Type(), v, t.flags))
}

// watchStdin closes quit when a read of stdin starts with 'q', or when stdin ends and
// quitOnEnd is set. It reads as fgets(buf, 3) does, at most two bytes or up to a newline
// at a time, so "quit" and "q" quit but "aq" does not.
//
// 3.1.7 polls stdin for POLLIN before reading it, and the end of a pipe shows only as
// POLLHUP: it keeps tracking (spinning) when a pipe's writer goes away, while the end of
// a file, /dev/null or a terminal (^D) ends it. quitOnEnd carries that distinction. A
// read error leaves tracking running too, as a closed stdin does in 3.1.7.
func watchStdin(stdin io.Reader, quitOnEnd bool, quit chan<- struct{}) {
	r := bufio.NewReader(stdin)
	for {
		var chunk []byte
		var err error
		for len(chunk) < 2 {
			var c byte
			if c, err = r.ReadByte(); err != nil {
				break
			}
			chunk = append(chunk, c)
			if c == '\n' {
				break
			}
		}
		if len(chunk) > 0 && chunk[0] == 'q' {
			close(quit)
			return
		}
		if err != nil {
			if err == io.EOF && quitOnEnd {
				close(quit)
			}
			return
		}
	}
}
