package sam

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/quorum"
)

// Policy is sam_recovery_policy_t: Quit or Restart, optionally with the Quorum and Cmap
// flags.
type Policy uint32

// The recovery policies, with libsam's values.
const (
	// Quit ends the server (with the child's exit status) when the child fails.
	Quit Policy = 1
	// Restart starts a new instance of the child when it fails.
	Restart Policy = 2
	// Quorum makes Start wait for quorum and treats a loss of quorum as a failure.
	Quorum Policy = 0x08
	// Cmap publishes the process under resources.process.<server pid>. for corosync's
	// watchdog service.
	Cmap Policy = 0x10
	// QuorumQuit is Quorum|Quit.
	QuorumQuit = Quorum | Quit
	// QuorumRestart is Quorum|Restart.
	QuorumRestart = Quorum | Restart
)

// base is the policy without its flags (SAM_RP_MASK).
func (p Policy) base() Policy { return p &^ (Quorum | Cmap) }

func (p Policy) valid() bool { return p.base() == Quit || p.base() == Restart }

// maxIntervalMs bounds the health check interval: libsam keeps it in an int.
const maxIntervalMs = 1<<31 - 1

type status int

// The states of sam_internal_status_t after sam_initialize.
const (
	initialized status = iota + 1
	registered
	started
	finalized
)

// Option adjusts Initialize.
type Option func(*options)

type options struct {
	exit    func(int)
	log     *slog.Logger
	command func() *exec.Cmd
	env     func(string) (string, bool)
}

// WithExit replaces os.Exit, which the server calls when it quits with its child's exit
// status.
func WithExit(exit func(code int)) Option { return func(o *options) { o.exit = exit } }

// WithLogger sets where the server logs children starting and ending.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithCommand sets how the server starts a child (by default it runs its own executable
// again with the same arguments; the child's environment and descriptors 3 and 4 are
// set by the server).
func WithCommand(f func() *exec.Cmd) Option { return func(o *options) { o.command = f } }

// SAM is one SAM connection, libsam's process-wide state as a value. Its methods may be
// called from several goroutines.
type SAM struct {
	opts     options
	interval time.Duration
	policy   Policy

	// childFDs is set when this process was started by a SAM server (childEnv).
	childFDs     [2]int
	childEnvSeen bool
	childEnvErr  error

	mu         sync.Mutex // libsam's lock: data, warn signal and commands that wait
	status     status
	amChild    bool
	toServer   io.WriteCloser // child: commands
	fromServer io.ReadCloser  // child: replies
	warnSignal syscall.Signal
	data       []byte

	hc *hcLoop // the event-driven health check, once registered

	quorum  *quorum.Client // server: quorum tracking (Quorum policy)
	quorate bool

	malformed atomic.Uint64
}

// Malformed counts the malformed messages this process received: a bad handshake or
// reply from its server (a child), or a bad command stream from a child (a server,
// which then kills that child).
func (s *SAM) Malformed() uint64 { return s.malformed.Load() }

// awaitReply reads the server's answer as sam_read_reply does: the code it sent, or
// ipc.CSErrLibrary when the pipe breaks or carries something else.
func (s *SAM) awaitReply() error {
	err := readReply(s.fromServer)
	var cs ipc.CS
	switch {
	case err == nil:
		return nil
	case errors.As(err, &cs):
		return cs
	case errors.Is(err, ErrMalformed):
		s.malformed.Add(1)
	}
	return ipc.CSErrLibrary
}

// Initialize is sam_initialize: a health check interval (0: none, only the child's end
// is watched) and a recovery policy. With the Quorum flag the original process connects
// to the quorum service and reads the current state; a child (a process the server
// started) does not, its server watches quorum for it.
func Initialize(ctx context.Context, interval time.Duration, policy Policy, opts ...Option) (*SAM, error) {
	if !policy.valid() || interval < 0 || interval/time.Millisecond > maxIntervalMs {
		return nil, ipc.CSErrInvalid
	}
	s := &SAM{interval: interval, policy: policy, status: initialized, warnSignal: syscall.SIGTERM}
	s.opts = options{exit: os.Exit, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&s.opts)
	}
	if v, ok := os.LookupEnv(childEnv); ok {
		s.childEnvSeen = true
		out, in, err := parseChildEnv(v)
		s.childFDs, s.childEnvErr = [2]int{out, in}, err
		// Programs the child runs are not SAM children.
		os.Unsetenv(childEnv)
		return s, nil
	}
	if policy&Quorum != 0 {
		q, err := quorum.DialModel(ctx, quorum.ModelV0)
		if err != nil {
			return nil, err
		}
		if err := q.TrackStart(ctx, quorum.TrackChanges); err != nil {
			q.Close()
			return nil, err
		}
		// quorum_dispatch(CS_DISPATCH_ONE): the current state comes first.
		select {
		case ev, ok := <-q.Events():
			if !ok {
				q.Close()
				return nil, ipc.CSErrLibrary
			}
			if qe, isQ := ev.(quorum.Quorum); isQ {
				s.quorate = qe.Quorate
			}
		case <-ctx.Done():
			q.Close()
			return nil, ctx.Err()
		}
		s.quorum = q
	}
	return s, nil
}

// IsChild reports whether this process was started by a SAM server (it is an instance,
// not the server).
func (s *SAM) IsChild() bool { return s.childEnvSeen }

func (s *SAM) intervalMs() uint32 { return uint32(s.interval / time.Millisecond) }

// write sends a command to the server; the caller holds s.mu or needs no reply.
func (s *SAM) write(c command) error {
	if _, err := s.toServer.Write(encodeCommand(c)); err != nil {
		return ipc.CSErrLibrary
	}
	return nil
}

// Start is sam_start: health checking begins. With the Quorum flag it waits until the
// node is quorate; with Quorum or Cmap it waits for the server's answer.
func (s *SAM) Start() error {
	s.mu.Lock()
	if s.status != registered {
		s.mu.Unlock()
		return ipc.CSErrBadHandle
	}
	if err := s.write(command{op: cmdStart}); err != nil {
		s.mu.Unlock()
		return err
	}
	if s.policy&(Quorum|Cmap) != 0 {
		if err := s.awaitReply(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.status = started
	hc := s.hc
	s.mu.Unlock()
	hc.notify(true)
	return nil
}

// Stop is sam_stop: health checking ends until the next Start.
func (s *SAM) Stop() error {
	s.mu.Lock()
	if s.status != started {
		s.mu.Unlock()
		return ipc.CSErrBadHandle
	}
	if err := s.write(command{op: cmdStop}); err != nil {
		s.mu.Unlock()
		return err
	}
	if s.policy&Cmap != 0 {
		if err := s.awaitReply(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.status = registered
	hc := s.hc
	s.mu.Unlock()
	hc.notify(false)
	return nil
}

// HCSend is sam_hc_send: one health check confirmation.
func (s *SAM) HCSend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != started {
		return ipc.CSErrBadHandle
	}
	return s.write(command{op: cmdHB})
}

// MarkFailed is sam_mark_failed: the server kills this child at once (SIGKILL), marks
// the process failed in cmap and quits. It needs the Cmap flag.
func (s *SAM) MarkFailed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != started && s.status != registered {
		return ipc.CSErrBadHandle
	}
	if s.policy&Cmap == 0 {
		return ipc.CSErrInvalid
	}
	return s.write(command{op: cmdMarkFailed})
}

// WarnSignalSet is sam_warn_signal_set: the signal a failing child gets before SIGKILL
// (SIGTERM by default; SIGKILL means no warning).
func (s *SAM) WarnSignalSet(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != initialized && s.status != registered && s.status != started {
		return ipc.CSErrBadHandle
	}
	if s.amChild {
		if err := s.write(command{op: cmdWarnSignalSet, signal: int32(sig)}); err != nil {
			return err
		}
		if err := s.awaitReply(); err != nil {
			return err
		}
	}
	s.warnSignal = sig
	return nil
}

// DataStore is sam_data_store: data kept by the server and handed to every later
// instance. Empty or nil data deletes what is stored.
func (s *SAM) DataStore(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != initialized && s.status != registered && s.status != started {
		return ipc.CSErrBadHandle
	}
	if len(data) > MaxDataSize {
		return ipc.CSErrNoMemory
	}
	if s.amChild {
		if err := s.write(command{op: cmdDataStore, data: data}); err != nil {
			return err
		}
		if err := s.awaitReply(); err != nil {
			return err
		}
	}
	s.store(data)
	return nil
}

func (s *SAM) store(data []byte) {
	if len(data) == 0 {
		s.data = nil
		return
	}
	s.data = append(s.data[:0], data...)
}

// DataGetSize is sam_data_getsize: the size of the stored data (0 when none).
func (s *SAM) DataGetSize() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != initialized && s.status != registered && s.status != started {
		return 0, ipc.CSErrBadHandle
	}
	return len(s.data), nil
}

// DataRestore is sam_data_restore: it copies the stored data into buf and returns its
// size. A nil buf, or one shorter than the data, is ipc.CSErrInvalid.
func (s *SAM) DataRestore(buf []byte) (int, error) {
	if buf == nil {
		return 0, ipc.CSErrInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != initialized && s.status != registered && s.status != started {
		return 0, ipc.CSErrBadHandle
	}
	if len(buf) < len(s.data) {
		return 0, ipc.CSErrInvalid
	}
	return copy(buf, s.data), nil
}

// Finalize is sam_finalize: health checking stops (Stop when started) and the handle
// takes no more calls. Like libsam it answers OK even when the Stop failed.
func (s *SAM) Finalize() error {
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	if st != initialized && st != registered && st != started {
		return ipc.CSErrBadHandle
	}
	if st == started {
		if err := s.Stop(); err != nil {
			return nil
		}
	}
	s.mu.Lock()
	s.status = finalized
	s.data = nil
	hc := s.hc
	q := s.quorum
	s.quorum = nil
	s.mu.Unlock()
	hc.close()
	if q != nil {
		q.Close()
	}
	return nil
}
