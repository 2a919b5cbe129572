package cpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/corosync-go/corosync/ipc"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("cpg: client closed")

const (
	// eventQueue is how many events wait in Events before the reader stops taking events
	// from the daemon (whose own queue then grows).
	eventQueue = 64
	// finalizeTimeout bounds Close's FINALIZE request.
	finalizeTimeout = 5 * time.Second
	// Backoff between retries of a call the daemon refused for now.
	retryFirst = time.Millisecond
	retryMax   = 50 * time.Millisecond
)

// Client is a connection to the cpg service, the Go counterpart of a libcpg handle. Its
// methods may be called from several goroutines; requests are serialised.
type Client struct {
	conn   *ipc.Client
	flags  ModelFlags
	pid    uint32
	events chan Event
	stop   context.CancelFunc
	done   chan struct{} // closed when the event reader has exited

	mcastMu sync.Mutex // keeps one message's fragments together

	mu     sync.Mutex
	closed bool
}

// Dial connects to the cpg service as cpg_model_initialize does with CPG_MODEL_V1 and the
// DeliverInitialTotemConf flag, so that a TotemConfChg event follows the first ConfChg.
// Like libcpg it sends nothing yet: the flags travel in each JOIN request.
func Dial(ctx context.Context) (*Client, error) {
	return DialModel(ctx, DeliverInitialTotemConf)
}

// DialModel connects with the given CPG_MODEL_V1 flags; 0 is what cpg_initialize uses.
// Unknown flags are refused with CS_ERR_INVALID_PARAM, as libcpg refuses them.
func DialModel(ctx context.Context, flags ModelFlags) (*Client, error) {
	if flags&^DeliverInitialTotemConf != 0 {
		return nil, fmt.Errorf("cpg: unknown model flags %#x: %w", uint32(flags), ipc.CSErrInvalid)
	}
	conn, err := ipc.Dial(ctx, "cpg")
	if err != nil {
		return nil, err
	}
	rctx, stop := context.WithCancel(context.Background())
	c := &Client{conn: conn, flags: flags, pid: uint32(os.Getpid()), events: make(chan Event, eventQueue),
		stop: stop, done: make(chan struct{})}
	go c.readEvents(rctx)
	return c, nil
}

// Events returns the channel of the group's events: Deliver, ConfChg, TotemConfChg (and
// FlowControl, which corosync 3.1.7 never sends). It is closed when the client is closed
// or the daemon goes away. Keep reading it while joined: the daemon queues events for a
// client that does not take them, and an IPC server may drop a client whose queue
// overflows.
func (c *Client) Events() <-chan Event { return c.events }

// MaxAtomicMsgSize is the largest message Mcast sends in one request
// (cpg_max_atomic_msgsize_get); longer ones are sent in fragments.
func (c *Client) MaxAtomicMsgSize() int { return MaxAtomicMsgSize }

// FlowControlState is cpg_flow_control_state_get, which in corosync 3.1.7 always reports
// FlowControlDisabled: flow control shows as CS_ERR_TRY_AGAIN, which Mcast retries.
func (c *Client) FlowControlState() FlowControlState { return FlowControlDisabled }

// Join joins group. As cpg_join does, it repeats the request while the daemon answers
// CS_ERR_BUSY (a leave of this connection is in progress); it also repeats it on
// CS_ERR_TRY_AGAIN (the daemon is busy, or still knows an earlier incarnation of this
// process in the group), until ctx ends. The ConfChg that shows the join follows on
// Events. A connection is in one group at a time: a second Join answers CS_ERR_EXIST.
func (c *Client) Join(ctx context.Context, group string) error {
	req, err := JoinRequest{Group: group, PID: c.pid, Flags: c.flags}.Encode()
	if err != nil {
		return err
	}
	return retry(ctx, func() error { return c.status(ctx, req, ResJoin) }, ipc.CSErrBusy, ipc.CSErrTryAgain)
}

// Leave leaves group, which must be the group joined: corosync checks only that the
// connection has joined, then announces the departure of this process from the group
// named here. It repeats the request while the daemon answers CS_ERR_BUSY (the join is
// still in progress) or CS_ERR_TRY_AGAIN. The ConfChg that shows the leave follows on
// Events. In corosync 3.1.7 a connection that left stays "leaving" for good: it still
// receives the group's events, and a later Join on it answers CS_ERR_EXIST (same group)
// or CS_ERR_BUSY (another group, which Join retries until ctx ends); dial a new Client to
// join again.
func (c *Client) Leave(ctx context.Context, group string) error {
	req, err := LeaveRequest{Group: group, PID: c.pid}.Encode()
	if err != nil {
		return err
	}
	return retry(ctx, func() error { return c.status(ctx, req, ResLeave) }, ipc.CSErrBusy, ipc.CSErrTryAgain)
}

// Mcast multicasts msg to the joined group; every member, this client included, receives
// it as a Deliver, in the same order everywhere. Like cpg_mcast_joined it gets no answer
// for a message of up to MaxAtomicMsgSize bytes (an error such as not being joined shows
// only in the daemon's log) and sends a longer one as PARTIAL_MCAST fragments, each
// answered. When the daemon refuses a send for now (CS_ERR_TRY_AGAIN), Mcast waits and
// tries again until ctx ends; the error then wraps both ctx.Err() and ipc.CSErrTryAgain.
func (c *Client) Mcast(ctx context.Context, guarantee Guarantee, msg []byte) error {
	if c.isClosed() {
		return ErrClosed
	}
	c.mcastMu.Lock()
	defer c.mcastMu.Unlock()
	if len(msg) <= MaxAtomicMsgSize {
		req := McastRequest{Guarantee: guarantee, Msg: msg}.Encode()
		return retry(ctx, func() error { return c.conn.Send(req) }, ipc.CSErrTryAgain)
	}
	if uint64(len(msg)) > 1<<32-1 {
		return fmt.Errorf("cpg: a %d-byte message does not fit the 32-bit msglen: %w", len(msg), ipc.CSErrTooBig)
	}
	for sent := 0; sent < len(msg); {
		n := min(len(msg)-sent, MaxAtomicMsgSize)
		t := PartialContinued
		switch {
		case sent == 0:
			t = PartialFirst
		case sent+n == len(msg):
			t = PartialLast
		}
		req := PartialMcastRequest{Guarantee: guarantee, MsgLen: uint32(len(msg)), Type: t, Frag: msg[sent : sent+n]}.Encode()
		// A refusal (at send, or the daemon's generic TRY_AGAIN answer) means the
		// fragment was not multicast, so sending it again keeps the message whole.
		err := retry(ctx, func() error { return c.status(ctx, req, ResPartialSend) }, ipc.CSErrTryAgain)
		if err != nil {
			return fmt.Errorf("cpg: fragment at byte %d of %d: %w", sent, len(msg), err)
		}
		sent += n
	}
	return nil
}

// MembershipGet lists group's members (cpg_membership_get), in the daemon's order (by
// node id, then pid). The reasons are zero: the daemon leaves them uninitialised.
func (c *Client) MembershipGet(ctx context.Context, group string) ([]Address, error) {
	req, err := MembershipRequest{Group: group}.Encode()
	if err != nil {
		return nil, err
	}
	res, err := c.call(ctx, req)
	if err != nil {
		return nil, err
	}
	r, err := DecodeMembershipResponse(res)
	if err != nil {
		return nil, err
	}
	if err := r.Error.Err(); err != nil {
		return nil, err
	}
	for i := range r.Members {
		r.Members[i].Reason = ReasonUndefined
	}
	return r.Members, nil
}

// LocalGet returns this node's id (cpg_local_get).
func (c *Client) LocalGet(ctx context.Context) (uint32, error) {
	res, err := c.call(ctx, EncodeHeaderRequest(ReqLocalGet))
	if err != nil {
		return 0, err
	}
	r, err := DecodeLocalGetResponse(res)
	if err != nil {
		return 0, err
	}
	return r.NodeID, r.Error.Err()
}

// Iterate lists groups and members with the iteration requests (cpg_iteration_initialize,
// _next until CS_ERR_NO_SECTIONS, _finalize). group names the group for IterationOneGroup
// and must be empty for the other types, as libcpg requires. Entries come grouped by group
// name.
func (c *Client) Iterate(ctx context.Context, typ IterationType, group string) ([]IterationEntry, error) {
	if typ < IterationNameOnly || typ > IterationAll {
		return nil, fmt.Errorf("cpg: iteration type %d: %w", typ, ipc.CSErrInvalid)
	}
	if typ != IterationOneGroup && group != "" {
		return nil, fmt.Errorf("cpg: a group name is only for IterationOneGroup: %w", ipc.CSErrInvalid)
	}
	req, err := IterationInitializeRequest{Group: group, Type: typ}.Encode()
	if err != nil {
		return nil, err
	}
	res, err := c.call(ctx, req)
	if err != nil {
		return nil, err
	}
	init, err := DecodeIterationInitializeResponse(res)
	if err != nil {
		return nil, err
	}
	if err := init.Error.Err(); err != nil {
		return nil, err
	}
	entries, err := c.iterate(ctx, init.Handle)
	fin := c.status(ctx, IterationFinalizeRequest{Handle: init.Handle}.Encode(), ResIterationFinalize)
	if err != nil {
		return nil, err
	}
	return entries, fin
}

func (c *Client) iterate(ctx context.Context, handle uint64) ([]IterationEntry, error) {
	var out []IterationEntry
	req := IterationNextRequest{Handle: handle}.Encode()
	for {
		res, err := c.call(ctx, req)
		if err != nil {
			return nil, err
		}
		r, err := DecodeIterationNextResponse(res)
		if err != nil {
			return nil, err
		}
		switch r.Error {
		case ipc.CSOk:
			out = append(out, r.Entry)
		case ipc.CSErrNoSections:
			return out, nil
		default:
			return nil, r.Error
		}
	}
}

// Close finalizes and disconnects, as cpg_finalize does: after FINALIZE the daemon sends
// no more events, and on the disconnect it announces a still-joined process as leaving
// with ReasonProcDown. Close is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), finalizeTimeout)
	res, err := c.conn.Request(ctx, EncodeHeaderRequest(ReqFinalize))
	cancel()
	if err == nil {
		var cs ipc.CS
		if cs, err = DecodeStatusResponse(res, ResFinalize); err == nil {
			err = cs.Err()
		}
	}
	if errors.Is(err, ipc.ErrDisconnected) {
		err = nil // nothing left to finalize
	}
	c.stop()
	<-c.done // the reader must leave the event ring before it is unmapped
	return errors.Join(err, c.conn.Close())
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// call sends one request and returns the response, valid until the next call. A bare
// header with an error (the daemon's answer to a request it refuses, often with id 0) is
// returned as that code.
func (c *Client) call(ctx context.Context, req []byte) ([]byte, error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	res, err := c.conn.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	if cs := ipc.ResponseError(res); cs != ipc.CSOk && len(res) == ipc.ResponseHeaderBytes {
		return nil, cs
	}
	return res, nil
}

// status sends a request answered by a bare header and returns its code as an error.
func (c *Client) status(ctx context.Context, req []byte, resID int32) error {
	res, err := c.call(ctx, req)
	if err != nil {
		return err
	}
	cs, err := DecodeStatusResponse(res, resID)
	if err != nil {
		return err
	}
	return cs.Err()
}

// retry calls f until it returns an error other than the again codes, backing off
// between tries, or until ctx ends.
func retry(ctx context.Context, f func() error, again ...ipc.CS) error {
	wait := retryFirst
	for {
		err := f()
		if !isOneOf(err, again) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("cpg: %w (the daemon kept answering %w)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, retryMax)
	}
}

func isOneOf(err error, codes []ipc.CS) bool {
	for _, cs := range codes {
		if errors.Is(err, cs) {
			return true
		}
	}
	return false
}
