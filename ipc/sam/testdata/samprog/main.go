// Command samprog is the Go SAM program the ipc/sam tests build and run against a daemon.
// Each scenario prints "iid N: ..." lines the tests wait for, and exits 0 when its
// instances saw what they should, 2 otherwise.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/sam"
)

func main() {
	scenario := flag.String("scenario", "", "crash, hang, hccb, cmapquit, markfailed, quorumquit, quorumrestart, quorumcmap")
	flag.Parse()
	ctx := context.Background()
	run := map[string]func(context.Context) int{
		"crash": crash, "hang": hang, "hccb": hccb, "cmapquit": cmapquit, "markfailed": markFailed,
		"quorumquit": quorumQuit, "quorumrestart": quorumRestart,
		"quorumcmap": func(ctx context.Context) int { return quorumRestartPolicy(ctx, sam.QuorumRestart|sam.Cmap) },
	}[*scenario]
	if run == nil {
		fmt.Fprintf(os.Stderr, "unknown scenario %q\n", *scenario)
		os.Exit(2)
	}
	os.Exit(run(ctx))
}

func say(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
}

func fail(format string, args ...any) int {
	fmt.Printf("FAIL: "+format+"\n", args...)
	return 2
}

// register initializes and registers; in the server it never returns.
func register(ctx context.Context, interval time.Duration, p sam.Policy) (*sam.SAM, uint32) {
	s, err := sam.Initialize(ctx, interval, p)
	if err != nil {
		fmt.Printf("FAIL: initialize: %v\n", err)
		os.Exit(2)
	}
	iid, err := s.Register(ctx)
	if err != nil {
		fmt.Printf("FAIL: register: %v\n", err)
		os.Exit(2)
	}
	return s, iid
}

func restored(s *sam.SAM) string {
	n, err := s.DataGetSize()
	if err != nil {
		return "<" + err.Error() + ">"
	}
	buf := make([]byte, n)
	if _, err := s.DataRestore(buf); err != nil {
		return "<" + err.Error() + ">"
	}
	return string(buf)
}

// crash: instance 1 stores data, starts and crashes (SIGSEGV); instance 2 gets the
// data back and ends cleanly.
func crash(ctx context.Context) int {
	s, iid := register(ctx, 2*time.Second, sam.Restart|sam.Cmap)
	switch iid {
	case 1:
		if err := s.DataStore([]byte("stored by instance 1")); err != nil {
			return fail("data store: %v", err)
		}
		if err := s.Start(); err != nil {
			return fail("start: %v", err)
		}
		s.HCSend()
		say("iid 1: crashing")
		syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(10 * time.Second)
		return fail("iid 1 still alive")
	case 2:
		got := restored(s)
		say("iid 2: restored %q", got)
		if got != "stored by instance 1" {
			return fail("restored %q", got)
		}
		if err := s.Finalize(); err != nil {
			return fail("finalize: %v", err)
		}
		return 0
	}
	return fail("instance %d", iid)
}

// hang: instance 1 sends health checks for a while, then stops sending; the server warns
// it with SIGUSR1 (which it ignores) and kills it. Instance 2 sees that the warning came.
func hang(ctx context.Context) int {
	s, iid := register(ctx, time.Second, sam.Restart)
	switch iid {
	case 1:
		if err := s.WarnSignalSet(syscall.SIGUSR1); err != nil {
			return fail("warn signal: %v", err)
		}
		warned := make(chan os.Signal, 1)
		signal.Notify(warned, syscall.SIGUSR1)
		if err := s.Start(); err != nil {
			return fail("start: %v", err)
		}
		for range 3 {
			time.Sleep(300 * time.Millisecond)
			if err := s.HCSend(); err != nil {
				return fail("hc send: %v", err)
			}
		}
		say("iid 1: hanging")
		<-warned
		say("iid 1: warned")
		if err := s.DataStore([]byte("warned")); err != nil {
			return fail("data store: %v", err)
		}
		time.Sleep(30 * time.Second)
		return fail("iid 1 was not killed")
	case 2:
		got := restored(s)
		say("iid 2: restored %q", got)
		if got != "warned" {
			return fail("restored %q", got)
		}
		return 0
	}
	return fail("instance %d", iid)
}

// hccb: event-driven checks; the callback fails on its third call, the child is killed
// and restarted.
func hccb(ctx context.Context) int {
	s, iid := register(ctx, 400*time.Millisecond, sam.Restart)
	switch iid {
	case 1:
		calls := 0
		if err := s.HCCallbackRegister(func() error {
			calls++
			say("iid 1: callback %d", calls)
			s.DataStore([]byte(fmt.Sprint(calls)))
			if calls >= 3 {
				return fmt.Errorf("unhealthy")
			}
			return nil
		}); err != nil {
			return fail("hc callback register: %v", err)
		}
		if err := s.Start(); err != nil {
			return fail("start: %v", err)
		}
		time.Sleep(30 * time.Second)
		return fail("iid 1 was not killed")
	case 2:
		got := restored(s)
		say("iid 2: restored %q", got)
		if got != "3" {
			return fail("restored %q", got)
		}
		return 0
	}
	return fail("instance %d", iid)
}

func cmapString(ctx context.Context, c *cmap.Client, key string) string {
	v, err := c.Get(ctx, key)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return v.String()
}

// cmapquit is testsam's test8 for the quit policy: the keys as libsam writes them, then
// a start without health checks: the child is killed, the server marks the process
// failed and quits.
func cmapquit(ctx context.Context) int {
	s, iid := register(ctx, time.Second, sam.Quit|sam.Cmap)
	if iid != 1 {
		return fail("instance %d", iid)
	}
	c, err := cmap.Dial(ctx)
	if err != nil {
		return fail("cmap: %v", err)
	}
	defer c.Close()
	prefix := fmt.Sprintf("resources.process.%d.", os.Getppid())
	check := func(key, want string) bool {
		if got := cmapString(ctx, c, prefix+key); got != want {
			fmt.Printf("FAIL: %s%s = %q, want %q\n", prefix, key, got, want)
			return false
		}
		return true
	}
	if !check("recovery", "quit") || !check("poll_period", "1000") || !check("state", "stopped") {
		return 2
	}
	if err := s.Start(); err != nil {
		return fail("start: %v", err)
	}
	if !check("state", "running") {
		return 2
	}
	if err := s.HCSend(); err != nil {
		return fail("hc send: %v", err)
	}
	v1, _ := c.Get(ctx, prefix+"last_updated")
	time.Sleep(200 * time.Millisecond)
	s.HCSend()
	time.Sleep(100 * time.Millisecond)
	v2, _ := c.Get(ctx, prefix+"last_updated")
	if d := time.Duration(v2.Uint64() - v1.Uint64()); v1.Type() != cmap.TypeUint64 || d < 100*time.Millisecond || d > 2*time.Second {
		return fail("last_updated %v then %v", v1, v2)
	}
	if err := s.Stop(); err != nil {
		return fail("stop: %v", err)
	}
	if !check("state", "stopped") {
		return 2
	}
	if err := s.Start(); err != nil {
		return fail("start 2: %v", err)
	}
	say("iid 1: started without health checks")
	time.Sleep(30 * time.Second)
	return fail("iid 1 was not killed")
}

// markFailed: the restart policy with cmap; instance 1 exits while started (a failure:
// restarted), instance 2 marks itself failed, and the server kills it and quits leaving
// state failed.
func markFailed(ctx context.Context) int {
	s, iid := register(ctx, 0, sam.Restart|sam.Cmap)
	switch iid {
	case 1:
		if err := s.Start(); err != nil {
			return fail("start: %v", err)
		}
		say("iid 1: exiting while started")
		return 1
	case 2:
		say("iid 2: marking failed")
		if err := s.MarkFailed(); err != nil {
			return fail("mark failed: %v", err)
		}
		time.Sleep(30 * time.Second)
		return fail("iid 2 was not killed")
	}
	return fail("instance %d", iid)
}

// quorumQuit: starts once quorate and sends health checks until killed; the test makes
// the node lose quorum, and the server must then quit (no instance 2).
func quorumQuit(ctx context.Context) int {
	s, iid := register(ctx, time.Second, sam.QuorumQuit)
	if iid != 1 {
		return fail("instance %d", iid)
	}
	if err := s.Start(); err != nil {
		return fail("start: %v", err)
	}
	say("iid 1: started")
	for range 300 {
		time.Sleep(100 * time.Millisecond)
		if err := s.HCSend(); err != nil {
			return fail("hc send: %v", err)
		}
	}
	return fail("iid 1 was not killed")
}

// quorumRestart: instance 1 is killed when quorum goes; instance 2's Start waits until
// quorum is back.
func quorumRestart(ctx context.Context) int {
	return quorumRestartPolicy(ctx, sam.QuorumRestart)
}

func quorumRestartPolicy(ctx context.Context, p sam.Policy) int {
	s, iid := register(ctx, time.Second, p)
	switch iid {
	case 1:
		if err := s.Start(); err != nil {
			return fail("start: %v", err)
		}
		say("iid 1: started")
		for range 300 {
			time.Sleep(100 * time.Millisecond)
			s.HCSend()
		}
		return fail("iid 1 was not killed")
	case 2:
		say("iid 2: starting")
		if err := s.Start(); err != nil {
			return fail("start: %v", err)
		}
		say("iid 2: started")
		if err := s.Stop(); err != nil {
			return fail("stop: %v", err)
		}
		say("iid 2: stopped")
		return 0
	}
	return fail("instance %d", iid)
}
