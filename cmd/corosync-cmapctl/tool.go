package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/corosync-go/corosync/cmd/internal/cserr"
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
)

// maxTryAgain is how often 3.1.7 retries a call answered CS_ERR_TRY_AGAIN, a second apart.
const maxTryAgain = 10

// store is the part of a cmap client the tool uses; *cmap.Client implements it.
type store interface {
	Get(ctx context.Context, key string) (cmap.Value, error)
	Set(ctx context.Context, key string, v cmap.Value) error
	Delete(ctx context.Context, key string) error
	Iter(ctx context.Context, prefix string) ([]cmap.Entry, error)
	TrackAdd(ctx context.Context, keyOrPrefix string, flags cmap.TrackType) (cmap.TrackHandle, error)
	Events() <-chan cmap.Notification
	Close() error
}

// system is what the tool touches outside itself, replaceable in tests.
type system struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// dial connects to a map, as cmap_initialize_map does.
	dial func(ctx context.Context, m cmap.Map) (store, error)
	// open opens a file to read (-p files, bin values).
	open func(name string) (io.ReadCloser, error)
	// wait pauses before retrying after CS_ERR_TRY_AGAIN.
	wait func(ctx context.Context, d time.Duration) error
	// posixlyCorrect is whether POSIXLY_CORRECT is set (getopt stops at an operand).
	posixlyCorrect bool
	// stdinIsPipe is whether stdin is a pipe, whose end does not stop tracking.
	stdinIsPipe bool
}

// osSystem is the real process's system.
func osSystem() system {
	return system{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		dial: func(ctx context.Context, m cmap.Map) (store, error) { return cmap.DialMap(ctx, m) },
		open: func(name string) (io.ReadCloser, error) { return os.Open(name) },
		wait: func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		posixlyCorrect: os.Getenv("POSIXLY_CORRECT") != "",
		stdinIsPipe:    isPipe(os.Stdin),
	}
}

// isPipe reports whether f is a pipe (FIFO).
func isPipe(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}

// exitStatus ends the tool early with a code, as the C tool's exit() calls do, after
// its message was printed.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// tool is one run of corosync-cmapctl.
type tool struct {
	sys   system
	opts  options
	out   *bufio.Writer
	cmap  store
	flags printFlags
}

// run executes corosync-cmapctl with argv (argv[0] is the program name) and returns the
// exit code.
func run(ctx context.Context, argv []string, sys system) int {
	opts, early := parseArgs(argv, sys.posixlyCorrect)
	if early != nil {
		io.WriteString(sys.stdout, early.stdout)
		io.WriteString(sys.stderr, early.stderr)
		return early.code
	}
	t := &tool{sys: sys, opts: opts, out: bufio.NewWriter(sys.stdout),
		flags: printFlags{showBinary: opts.showBinary, quiet: opts.quiet}}
	defer t.out.Flush()
	err := t.connect(ctx)
	if err == nil {
		defer t.cmap.Close()
		err = t.dispatch(ctx)
	}
	var code exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	t.errorf("%v\n", err)
	return 1
}

// connect opens the map, retrying while the daemon answers CS_ERR_TRY_AGAIN.
func (t *tool) connect(ctx context.Context) error {
	for tries := 0; ; tries++ {
		c, err := t.sys.dial(ctx, t.opts.mapID)
		if err == nil {
			t.cmap = c
			return nil
		}
		cs := cserr.Of(err)
		if cs != ipc.CSErrTryAgain || tries >= maxTryAgain {
			t.errorf("Failed to initialize the cmap API. Error %s\n", cserr.Strerror(cs))
			return exitStatus(1)
		}
		if err := t.sys.wait(ctx, time.Second); err != nil {
			return err
		}
	}
}

// dispatch runs the action the command line chose.
func (t *tool) dispatch(ctx context.Context) error {
	args := t.opts.operands
	switch t.opts.action {
	case actionGet:
		return t.getKeys(ctx, args)
	case actionSet:
		if len(args) < 3 {
			t.errorf("At least 3 parameters are expected for set\n")
			return exitStatus(1)
		}
		return t.setKey(ctx, args[0], args[1], args[2])
	case actionDelete:
		return t.deleteKeys(ctx, args)
	case actionDeletePrefix:
		for _, p := range args {
			if err := t.deletePrefix(ctx, p); err != nil {
				return err
			}
		}
		return nil
	case actionLoad:
		return t.load(ctx, t.opts.file)
	case actionTrack:
		return t.track(ctx, args)
	case actionClearStats:
		// 3.1.7 ignores the answer.
		t.cmap.Set(ctx, "stats.clear."+t.opts.clearOpt, cmap.Uint32(1))
		return nil
	}
	return t.list(ctx, args)
}

// errorf writes a message to stderr. Pending stdout goes first, so that the two streams
// interleave in the order things happened (3.1.7 buffers stdout when it is not a
// terminal, which only reorders them).
func (t *tool) errorf(format string, a ...any) {
	t.out.Flush()
	fmt.Fprintf(t.sys.stderr, format, a...)
}
