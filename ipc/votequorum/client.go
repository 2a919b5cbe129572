package votequorum

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/corosync-go/corosync/ipc"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("votequorum: client closed")

// eventQueue is how many notifications wait in Events before the reader stops taking
// them from the daemon.
const eventQueue = 64

// Client is a connection to the votequorum service, the Go counterpart of a
// libvotequorum handle. Its methods may be called from several goroutines; requests are
// serialised, so a QdeviceRegister waiting for the cluster holds up the client's other
// calls.
type Client struct {
	conn   *ipc.Client
	events *ipc.EventPump[Event]

	mu     sync.Mutex
	closed bool
}

// Dial connects to the votequorum service (votequorum_initialize, which sends no request).
func Dial(ctx context.Context) (*Client, error) {
	conn, err := ipc.Dial(ctx, "votequorum")
	if err != nil {
		return nil, err
	}
	c := &Client{conn: conn, events: ipc.StartEvents(conn, eventQueue, pumpEvent)}
	return c, nil
}

// Events returns the channel of notifications, which arrive after TrackStart. It is
// closed when the client is closed or the daemon goes away. Keep reading it while
// tracking: the daemon drops a client whose event queue overflows.
func (c *Client) Events() <-chan Event { return c.events.C() }

// Close disconnects. Like votequorum_finalize it sends nothing: the daemon forgets the
// client's tracking when the connection goes (a quorum device it registered stays
// registered, and loses its vote when its poll timer runs out). Close is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.events.Stop()
	return c.conn.Close()
}

// pumpEvent decodes one notification for the event pump.
func pumpEvent(_ context.Context, msg []byte) (Event, bool) {
	ev, err := decodeEvent(msg)
	return ev, err == nil
}

// decodeEvent decodes any of the three notifications.
func decodeEvent(msg []byte) (Event, error) {
	if len(msg) < 4 {
		return nil, fmt.Errorf("%w: %d-byte event", ErrMalformed, len(msg))
	}
	switch id := int32(binary.LittleEndian.Uint32(msg)); id {
	case ResQuorumNotification:
		return DecodeQuorum(msg)
	case ResNodelistNotification:
		return DecodeNodelist(msg)
	case ResExpectedVotesNotification:
		return DecodeExpectedVotes(msg)
	default:
		return nil, fmt.Errorf("%w: event id %d", ErrMalformed, id)
	}
}

// call sends one request and returns its response (valid until the next call) after
// checking its code: a non-OK code is returned as the error.
func (c *Client) call(ctx context.Context, req []byte) ([]byte, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	res, err := c.conn.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	if cs := ipc.ResponseError(res); cs != ipc.CSOk {
		return nil, cs
	}
	return res, nil
}

// status sends a request answered by res_lib_votequorum_status.
func (c *Client) status(ctx context.Context, req []byte) error {
	res, err := c.call(ctx, req)
	if err != nil {
		return err
	}
	_, err = DecodeStatusResponse(res)
	return err
}

// Info returns votequorum's view of a node (votequorum_getinfo); nodeID 0 is the local
// node. A node votequorum does not know gives ipc.CSErrNotExist.
func (c *Client) Info(ctx context.Context, nodeID uint32) (Info, error) {
	res, err := c.call(ctx, GetInfoRequest{NodeID: nodeID}.Encode())
	if err != nil {
		return Info{}, err
	}
	r, err := DecodeGetInfoResponse(res)
	return r.Info, err
}

// SetExpected sets the cluster's expected votes (votequorum_setexpected). The daemon
// refuses (ipc.CSErrInvalid) a value below the current total votes, or one that would
// make a quorate cluster inquorate; on success trackers get an ExpectedVotes.
func (c *Client) SetExpected(ctx context.Context, expected uint32) error {
	return c.status(ctx, SetExpectedRequest{ExpectedVotes: expected}.Encode())
}

// SetVotes sets a node's votes (votequorum_setvotes; node 0 is the quorum device, not
// the local node). An unknown node gives CS_ERR_NAME_NOT_FOUND (ipc.CS(17)); votes that
// would leave the quorum above the total votes, or below half of them, give
// ipc.CSErrInvalid.
func (c *Client) SetVotes(ctx context.Context, nodeID, votes uint32) error {
	return c.status(ctx, SetVotesRequest{NodeID: nodeID, Votes: votes}.Encode())
}

// TrackStart subscribes to notifications (votequorum_trackstart). TrackCurrent or
// TrackChanges make the daemon send the current state at once (a Nodelist, then a
// Quorum); TrackChanges or TrackChangesOnly subscribe to changes. userContext is echoed
// in every notification. A client already tracking gets ipc.CSErrExist, after the
// current state if it asked for it.
func (c *Client) TrackStart(ctx context.Context, flags TrackFlags, userContext uint64) error {
	return c.status(ctx, TrackStartRequest{Context: userContext, Flags: flags}.Encode())
}

// TrackStop ends the subscription (votequorum_trackstop); ipc.CSErrNotExist when the
// client was not tracking.
func (c *Client) TrackStop(ctx context.Context) error {
	return c.status(ctx, EncodeHeaderRequest(ReqTrackStop))
}

// checkDeviceName refuses what libvotequorum refuses before sending: an empty name or one
// of QdeviceMaxNameLen bytes or more.
func checkDeviceName(n string) error {
	if n == "" {
		return fmt.Errorf("votequorum: empty device name: %w", ipc.CSErrInvalid)
	}
	return checkName("device name", n)
}

// QdeviceRegister registers this node's quorum device (votequorum_qdevice_register). The
// daemon answers once the registration has gone round the cluster. Registering the
// registered name again succeeds; another name gives ipc.CSErrExist; ipc.CSErrAccess when
// corosync.conf's quorum settings rule a device out.
func (c *Client) QdeviceRegister(ctx context.Context, name string) error {
	if err := checkDeviceName(name); err != nil {
		return err
	}
	req, err := QdeviceRegisterRequest{Name: name}.Encode()
	if err != nil {
		return err
	}
	return c.status(ctx, req)
}

// QdeviceUnregister unregisters the device (votequorum_qdevice_unregister):
// ipc.CSErrNotExist when none is registered, ipc.CSErrInvalid for another name.
func (c *Client) QdeviceUnregister(ctx context.Context, name string) error {
	if err := checkDeviceName(name); err != nil {
		return err
	}
	req, err := QdeviceUnregisterRequest{Name: name}.Encode()
	if err != nil {
		return err
	}
	return c.status(ctx, req)
}

// QdeviceUpdate renames the registered device (votequorum_qdevice_update); the errors
// are QdeviceUnregister's.
func (c *Client) QdeviceUpdate(ctx context.Context, oldName, newName string) error {
	if err := checkDeviceName(oldName); err != nil {
		return err
	}
	if err := checkDeviceName(newName); err != nil {
		return err
	}
	req, err := QdeviceUpdateRequest{OldName: oldName, NewName: newName}.Encode()
	if err != nil {
		return err
	}
	return c.status(ctx, req)
}

// QdevicePoll tells the daemon the device is alive and whether it casts its vote
// (votequorum_qdevice_poll). ring must be the current ring id (from a Nodelist event):
// another gives CS_ERR_MESSAGE_ERROR (ipc.CSErrMessage). A device that does not poll
// again within quorum.device.timeout loses its vote.
func (c *Client) QdevicePoll(ctx context.Context, name string, castVote bool, ring RingID) error {
	if err := checkDeviceName(name); err != nil {
		return err
	}
	req, err := QdevicePollRequest{Name: name, CastVote: castVote, RingID: ring}.Encode()
	if err != nil {
		return err
	}
	return c.status(ctx, req)
}

// QdeviceMasterWins tells the daemon whether the device may use master-wins mode
// (votequorum_qdevice_master_wins).
func (c *Client) QdeviceMasterWins(ctx context.Context, name string, allow bool) error {
	if err := checkDeviceName(name); err != nil {
		return err
	}
	req, err := QdeviceMasterWinsRequest{Name: name, Allow: allow}.Encode()
	if err != nil {
		return err
	}
	return c.status(ctx, req)
}
