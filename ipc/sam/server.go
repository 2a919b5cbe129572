package sam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/quorum"
)

// ErrServerExited is what Register returns in the server when the exit function given
// with WithExit returns instead of ending the process.
var ErrServerExited = errors.New("sam: server quit")

// Register is sam_register. In the original process it becomes the SAM server: it starts
// the program again as a child (the same executable and arguments; Go cannot fork) and
// watches it, starting a new instance after a failure with the Restart policy, and
// otherwise ending the process with the child's exit status (os.Exit, or WithExit's
// function). So the server's Register returns only on an error. In a child, Register
// returns the instance number (1 for the first child, then one more per restart) and
// the server's state: its policy and interval, its warning signal, and the data stored
// so far. Call it early: everything before it runs again in every instance, on state
// that Register then replaces with the server's.
func (s *SAM) Register(ctx context.Context) (uint32, error) {
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	if st != initialized {
		return 0, ipc.CSErrBadHandle
	}
	if s.childEnvSeen {
		return s.registerChild()
	}
	return s.serve(ctx)
}

// registerChild adopts the descriptors the server passed and reads its handshake.
func (s *SAM) registerChild() (uint32, error) {
	if s.childEnvErr != nil {
		return 0, ipc.CSErrLibrary
	}
	out, in := s.childFDs[0], s.childFDs[1]
	for _, fd := range []int{out, in} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return 0, ipc.CSErrLibrary
		}
		// Programs the child runs must not hold the server's pipes.
		unix.CloseOnExec(fd)
	}
	toServer := os.NewFile(uintptr(out), "sam-commands")
	fromServer := os.NewFile(uintptr(in), "sam-replies")
	h, err := readHandshake(fromServer, MaxDataSize)
	if err != nil {
		if errors.Is(err, ErrMalformed) {
			s.malformed.Add(1)
		}
		toServer.Close()
		fromServer.Close()
		return 0, ipc.CSErrLibrary
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toServer, s.fromServer = toServer, fromServer
	s.policy = h.policy
	s.interval = time.Duration(h.intervalMs) * time.Millisecond
	s.warnSignal = syscall.Signal(h.warnSignal)
	s.data = h.data
	s.amChild = true
	s.status = registered
	return h.instance, nil
}

// The server's states of sam_internal_data.instance_id's child.
const (
	childStopped = 0 // registered, or stopped
	childStarted = 1 // health checked
)

type action int

// sam_parent_action_t.
const (
	actionError action = iota
	actionRecovery
	actionQuit
	actionContinue
)

// Cmap state values (SAM_CMAP_S_*).
const (
	stateFailed     = "failed"
	stateRegistered = "stopped"
	stateStarted    = "running"
	stateQuorumWait = "waiting for quorum"
)

// server is the original process's side: it owns the cmap and quorum connections.
type server struct {
	s        *SAM
	ctx      context.Context
	recpol   Policy // the policy at registration (libsam's local recpol)
	policy   Policy // sam_mark_failed turns it into Quit
	cmap     *cmap.Client
	pidPath  string
	instance uint32
}

// cmapTimeout bounds one cmap request of the server.
const cmapTimeout = 10 * time.Second

func (sv *server) cmapSet(key string, v cmap.Value) error {
	ctx, cancel := context.WithTimeout(sv.ctx, cmapTimeout)
	defer cancel()
	return sv.cmap.Set(ctx, sv.pidPath+key, v)
}

// setState is sam_cmap_update_key(SAM_CMAP_KEY_STATE).
func (sv *server) setState(state string) error { return sv.cmapSet("state", cmap.String(state)) }

// touch is sam_cmap_update_key(SAM_CMAP_KEY_LAST_HC): CLOCK_MONOTONIC in nanoseconds,
// the clock corosync's watchdog service compares it with.
func (sv *server) touch() error { return sv.cmapSet("last_updated", cmap.Uint64(monotonicNs())) }

func monotonicNs() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return uint64(ts.Sec)*uint64(time.Second) + uint64(ts.Nsec)
}

// cmapRegister is sam_cmap_register: recovery and poll_period under
// resources.process.<pid>.
func (sv *server) cmapRegister() error {
	ctx, cancel := context.WithTimeout(sv.ctx, cmapTimeout)
	defer cancel()
	c, err := cmap.Dial(ctx)
	if err != nil {
		return err
	}
	sv.cmap = c
	sv.pidPath = fmt.Sprintf("resources.process.%d.", os.Getpid())
	recovery := "quit"
	if sv.recpol.base() == Restart {
		recovery = "restart"
	}
	if err = sv.cmapSet("recovery", cmap.String(recovery)); err == nil {
		err = sv.cmapSet("poll_period", cmap.Uint64(uint64(sv.s.intervalMs())))
	}
	if err != nil {
		sv.destroyPidPath()
		c.Close()
		sv.cmap = nil
		return err
	}
	return nil
}

// destroyPidPath is sam_cmap_destroy_pid_path: every key under the process's prefix goes.
func (sv *server) destroyPidPath() {
	ctx, cancel := context.WithTimeout(sv.ctx, cmapTimeout)
	defer cancel()
	entries, err := sv.cmap.Iter(ctx, sv.pidPath)
	if err != nil {
		return
	}
	for _, e := range entries {
		sv.cmap.Delete(ctx, e.Key)
	}
}

func (sv *server) close() {
	if sv.cmap != nil {
		sv.cmap.Close()
	}
	if q := sv.s.quorum; q != nil {
		q.Close()
	}
}

// serve is sam_register's parent side.
func (s *SAM) serve(ctx context.Context) (uint32, error) {
	sv := &server{s: s, ctx: ctx, recpol: s.policy, policy: s.policy}
	if sv.recpol&Cmap != 0 {
		if err := sv.cmapRegister(); err != nil {
			return 0, err
		}
	}
	for {
		code, act, err := sv.runChild()
		if err != nil {
			sv.close()
			return 0, err
		}
		old := act
		if act == actionRecovery && sv.policy.base() == Quit {
			act = actionQuit
		}
		if act != actionQuit {
			continue
		}
		if sv.recpol&Cmap != 0 {
			if old == actionRecovery {
				sv.setState(stateFailed)
			} else {
				sv.destroyPidPath()
			}
		}
		sv.close()
		s.opts.log.Info("SAM server quits", "status", code)
		s.opts.exit(code)
		return 0, ErrServerExited
	}
}

// childCommand is how a child is started: this executable again, same arguments.
func (s *SAM) childCommand() *exec.Cmd {
	if s.opts.command != nil {
		return s.opts.command()
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	return cmd
}

// runChild starts one instance and watches it until it ends (or must be replaced); it
// returns the child's exit status as WEXITSTATUS gives it (0 after a signal).
func (sv *server) runChild() (int, action, error) {
	s := sv.s
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return 0, actionError, ipc.CSErrLibrary
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		return 0, actionError, ipc.CSErrLibrary
	}
	closeAll := func() {
		for _, f := range []*os.File{cmdR, cmdW, repR, repW} {
			f.Close()
		}
	}
	if sv.recpol&Cmap != 0 {
		if err := sv.setState(stateRegistered); err != nil {
			closeAll()
			return 0, actionError, err
		}
	}
	sv.instance++
	cmd := s.childCommand()
	cmd.ExtraFiles = []*os.File{cmdW, repR} // descriptors 3 and 4
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, childEnv+"=3,4")
	if cmd.Stdin == nil {
		cmd.Stdin = os.Stdin
	}
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		sv.instance--
		closeAll()
		return 0, actionError, ipc.CSErrLibrary
	}
	cmdW.Close()
	repR.Close()
	s.opts.log.Debug("SAM child started", "pid", cmd.Process.Pid, "instance", sv.instance)

	act, herr := sv.handle(cmd, cmdR, repW)
	if act == actionError {
		// libsam leaves the child running; a Go server returning an error kills it so
		// that it does not outlive its supervision unseen.
		cmd.Process.Kill()
	}
	cmd.Wait()
	cmdR.Close()
	repW.Close()
	code := 0
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		code = int(ws>>8) & 0xff
	}
	s.opts.log.Debug("SAM child ended", "pid", cmd.Process.Pid, "instance", sv.instance, "state", cmd.ProcessState.String())
	if act == actionError {
		if herr == nil {
			herr = ipc.CSErrLibrary
		}
		return code, act, herr
	}
	return code, act, nil
}

// readResult is one command read from the child, or why reading stopped.
type readResult struct {
	c   command
	err error
}

// watch is one child's watch state: sam_parent_handler's locals.
type watch struct {
	sv       *server
	child    *exec.Cmd
	cmds     <-chan readResult
	pending  *readResult // read while waiting for quorum
	replyMu  *sync.Mutex
	replies  io.Writer
	status   int
	termSent bool
	action   action
	qevents  <-chan quorum.Event
	qerr     bool // the quorum connection failed
}

// handle is sam_parent_handler.
func (sv *server) handle(child *exec.Cmd, in *os.File, out *os.File) (action, error) {
	s := sv.s
	results := make(chan readResult)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			c, err := readCommand(in, MaxDataSize)
			select {
			case results <- readResult{c, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	replyMu := &sync.Mutex{}
	s.mu.Lock()
	hs := handshake{instance: sv.instance, policy: sv.recpol, intervalMs: s.intervalMs(), warnSignal: int32(s.warnSignal), data: append([]byte(nil), s.data...)}
	s.mu.Unlock()
	// The handshake may be larger than the pipe holds: write it beside the loop, before
	// any reply (a child reads it in Register, before it can send a command).
	replyMu.Lock()
	go func() {
		defer replyMu.Unlock()
		out.Write(encodeHandshake(hs))
	}()
	w := &watch{sv: sv, child: child, cmds: results, replyMu: replyMu, replies: out, action: actionContinue}
	if sv.recpol&Quorum != 0 && s.quorum != nil {
		w.qevents = s.quorum.Events()
	}
	return w.loop()
}

func (w *watch) reply(cs ipc.CS) error {
	w.replyMu.Lock()
	defer w.replyMu.Unlock()
	_, err := w.replies.Write(encodeReply(cs))
	return err
}

// replyErr answers err as libsam's sam_parent_reply_send does (a Go error that is not a
// cs_error_t is CS_ERR_LIBRARY) and returns the code, nil for OK.
func (w *watch) replyErr(err error) error {
	cs := ipc.CSOk
	if err != nil {
		cs = ipc.CSErrLibrary
		var c ipc.CS
		if errors.As(err, &c) {
			cs = c
		}
	}
	if werr := w.reply(cs); werr != nil && cs == ipc.CSOk {
		return ipc.CSErrLibrary
	}
	return cs.Err()
}

// killChild is sam_parent_kill_child: the warning signal first, SIGKILL the next time.
func (w *watch) killChild() {
	if !w.termSent {
		w.child.Process.Signal(w.sv.s.currentWarnSignal())
		w.termSent = true
		return
	}
	w.child.Process.Signal(syscall.SIGKILL)
	w.action = actionRecovery
}

func (s *SAM) currentWarnSignal() syscall.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.warnSignal
}

// quorumEvent is quorum_dispatch for one notification (and those already queued).
func (w *watch) quorumEvent(ev quorum.Event, ok bool) {
	s := w.sv.s
	for {
		if !ok {
			w.qevents = nil
			w.qerr = true
			s.quorate = false
			return
		}
		if q, isQ := ev.(quorum.Quorum); isQ {
			s.quorate = q.Quorate
		}
		select {
		case ev, ok = <-w.qevents:
		default:
			return
		}
	}
}

func (w *watch) loop() (action, error) {
	sv, s := w.sv, w.sv.s
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for w.action == actionContinue {
		var tick <-chan time.Time
		if w.status == childStarted && s.interval != 0 {
			if timer == nil {
				timer = time.NewTimer(s.interval)
			} else {
				timer.Reset(s.interval)
			}
			tick = timer.C
		} else if timer != nil {
			timer.Stop()
		}
		var r readResult
		got := false
		if w.pending != nil {
			r, got, w.pending = *w.pending, true, nil
		} else {
			select {
			case r = <-w.cmds:
				got = true
			case ev, ok := <-w.qevents:
				w.quorumEvent(ev, ok)
				if w.status == childStarted && (!s.quorate || w.qerr) {
					w.killChild()
					if w.qerr && w.action == actionContinue {
						// libsam's poll sees the broken quorum descriptor again at once.
						w.killChild()
					}
				}
			case <-tick:
				if w.status == childStopped {
					w.action = actionQuit
				} else {
					w.killChild()
				}
			case <-sv.ctx.Done():
				return actionError, sv.ctx.Err()
			}
		}
		if !got {
			continue
		}
		if r.err != nil {
			if !errors.Is(r.err, io.EOF) {
				// A broken stream: the child cannot be talked to any more.
				if errors.Is(r.err, ErrMalformed) {
					s.malformed.Add(1)
				}
				s.opts.log.Warn("SAM child sent a malformed command", "err", r.err)
				w.child.Process.Signal(syscall.SIGKILL)
			}
			// EOF: recovery, or quit if the child was not started.
			if w.status == childStopped {
				w.action = actionQuit
			} else {
				w.action = actionRecovery
			}
			// Keep the end for a later look (after a wait for quorum).
			w.pending = &r
			break
		}
		if sv.recpol&Cmap != 0 {
			sv.touch()
		}
		w.command(r.c)
	}
	return w.action, nil
}

// command carries out one command of the child.
func (w *watch) command(c command) {
	sv, s := w.sv, w.sv.s
	switch c.op {
	case cmdStart:
		if w.status != childStopped {
			return
		}
		if sv.recpol&Quorum != 0 {
			gone, err := w.waitForQuorum()
			if gone {
				// The child ended while waiting: as in libsam, it counts as started, so
				// its end is a recovery.
				w.status = childStarted
				return
			}
			if err != nil {
				return
			}
		} else if sv.recpol&Cmap != 0 {
			// With Quorum the wait above answered already (libsam answers twice then,
			// which shifts the child's later replies; one answer here).
			if w.replyErr(sv.setState(stateStarted)) != nil {
				return
			}
		}
		w.status = childStarted
	case cmdStop:
		if w.status != childStarted {
			return
		}
		if sv.recpol&Cmap != 0 {
			if w.replyErr(sv.setState(stateRegistered)) != nil {
				return
			}
		}
		w.status = childStopped
	case cmdDataStore:
		s.mu.Lock()
		s.store(c.data)
		s.mu.Unlock()
		w.reply(ipc.CSOk)
	case cmdWarnSignalSet:
		s.mu.Lock()
		s.warnSignal = syscall.Signal(c.signal)
		s.mu.Unlock()
		w.reply(ipc.CSOk)
	case cmdMarkFailed:
		// sam_parent_mark_child_failed: no warning, and the policy becomes Quit, so the
		// process is marked failed and the server quits.
		w.status = childStarted
		w.termSent = true
		sv.policy = Quit | sv.recpol&(Quorum|Cmap)
		w.killChild()
	}
}

// waitForQuorum is sam_parent_wait_for_quorum; gone reports that the child ended
// meanwhile (nothing is answered then).
func (w *watch) waitForQuorum() (gone bool, err error) {
	sv, s := w.sv, w.sv.s
	fail := func(err error) (bool, error) {
		if sv.recpol&Cmap != 0 {
			sv.setState(stateRegistered)
		}
		return false, w.replyErr(err)
	}
	if sv.recpol&Cmap != 0 {
		if err := sv.setState(stateQuorumWait); err != nil {
			return fail(err)
		}
	}
	// quorum_dispatch(CS_DISPATCH_ALL): take what is queued.
	if w.qerr {
		return fail(ipc.CSErrLibrary)
	}
	select {
	case ev, ok := <-w.qevents:
		w.quorumEvent(ev, ok)
	default:
	}
	for !s.quorate {
		if w.qerr {
			return fail(ipc.CSErrLibrary)
		}
		cmds := w.cmds
		if w.pending != nil {
			cmds = nil // hold one command at a time, as the pipe would
		}
		select {
		case r := <-cmds:
			w.pending = &r
			if r.err != nil {
				return true, nil
			}
			// A child waiting for the answer sends nothing; keep it for later anyway.
		case ev, ok := <-w.qevents:
			w.quorumEvent(ev, ok)
		case <-sv.ctx.Done():
			return fail(sv.ctx.Err())
		}
	}
	if sv.recpol&Cmap != 0 {
		if err := sv.setState(stateStarted); err != nil {
			return fail(err)
		}
	}
	return false, w.replyErr(nil)
}
