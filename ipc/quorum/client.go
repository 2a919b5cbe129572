package quorum

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/corosync-go/corosync/ipc"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("quorum: client closed")

// eventQueue is how many notifications wait in Events before the reader stops taking
// them from the daemon.
const eventQueue = 64

// Client is a connection to the quorum service, the Go counterpart of a libquorum
// handle. Its methods may be called from several goroutines; requests are serialised.
type Client struct {
	conn   *ipc.Client
	typ    Type
	model  Model
	events *ipc.EventPump[Event]

	mu     sync.Mutex
	closed bool
}

// Dial connects to the quorum service with notification model V1, as
// quorum_model_initialize(QUORUM_MODEL_V1) does: Events then delivers Quorum
// notifications with whole ring ids, and Nodelist notifications.
func Dial(ctx context.Context) (*Client, error) { return DialModel(ctx, ModelV1) }

// DialModel connects with the given notification model. ModelV0 is what quorum_initialize
// asks for (with a GETTYPE request instead of MODEL_GETTYPE): quorum notifications carry
// only the ring's sequence number (RingID.NodeID is 0) and no Nodelist events come.
// The quorum type the daemon answers is kept for Type.
func DialModel(ctx context.Context, model Model) (*Client, error) {
	if model != ModelV0 && model != ModelV1 {
		return nil, fmt.Errorf("quorum: model %d: %w", model, ipc.CSErrInvalid)
	}
	conn, err := ipc.Dial(ctx, "quorum")
	if err != nil {
		return nil, err
	}
	typ, err := getType(ctx, conn, model)
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &Client{conn: conn, typ: typ, model: model, events: ipc.StartEvents(conn, eventQueue, pumpEvent)}
	return c, nil
}

// getType sends the request quorum_initialize (V0) or quorum_model_initialize (V1)
// starts with; for V1 it also sets the connection's model in the daemon.
func getType(ctx context.Context, conn *ipc.Client, model Model) (Type, error) {
	if model == ModelV0 {
		res, err := conn.Request(ctx, EncodeHeaderRequest(ReqGetType))
		if err != nil {
			return 0, err
		}
		r, err := DecodeGetTypeResponse(res)
		if err != nil {
			return 0, err
		}
		return r.Type, r.Error.Err()
	}
	res, err := conn.Request(ctx, ModelGetTypeRequest{Model: model}.Encode())
	if err != nil {
		return 0, err
	}
	r, err := DecodeModelGetTypeResponse(res)
	if err != nil {
		return 0, err
	}
	return r.Type, r.Error.Err()
}

// Type is the quorum type the daemon reported when the client connected: TypeSet when a
// quorum provider is configured.
func (c *Client) Type() Type { return c.typ }

// Model is the client's notification model.
func (c *Client) Model() Model { return c.model }

// Events returns the channel of notifications, which arrive after TrackStart. It is
// closed when the client is closed or the daemon goes away. Keep reading it while
// tracking: the daemon drops a client whose event queue overflows.
func (c *Client) Events() <-chan Event { return c.events.C() }

// Close disconnects. Like quorum_finalize it sends nothing: the daemon forgets the
// client's tracking when the connection goes. Close is idempotent.
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

// decodeEvent decodes any of the three notifications; a V0 one becomes a Quorum.
func decodeEvent(msg []byte) (Event, error) {
	if len(msg) < 4 {
		return nil, fmt.Errorf("%w: %d-byte event", ErrMalformed, len(msg))
	}
	switch id := int32(binary.LittleEndian.Uint32(msg)); id {
	case ResNotification:
		n, err := DecodeNotificationV0(msg)
		return Quorum{Quorate: n.Quorate, RingID: RingID{Seq: n.RingSeq}, Members: n.Members}, err
	case ResV1QuorumNotification:
		return DecodeQuorum(msg)
	case ResV1NodelistNotification:
		return DecodeNodelist(msg)
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

// Getquorate reports whether this node is quorate (quorum_getquorate).
func (c *Client) Getquorate(ctx context.Context) (bool, error) {
	res, err := c.call(ctx, EncodeHeaderRequest(ReqGetQuorate))
	if err != nil {
		return false, err
	}
	r, err := DecodeGetQuorateResponse(res)
	return r.Quorate, err
}

// GetType asks the daemon for the quorum type again (a GETTYPE request; libquorum sends
// it only when connecting with model V0). It does not change the connection's model.
func (c *Client) GetType(ctx context.Context) (Type, error) {
	res, err := c.call(ctx, EncodeHeaderRequest(ReqGetType))
	if err != nil {
		return 0, err
	}
	r, err := DecodeGetTypeResponse(res)
	return r.Type, err
}

// TrackStart subscribes to notifications (quorum_trackstart). TrackCurrent or
// TrackChanges make the daemon send the current state at once (for a V1 client a
// Nodelist with no joined or left nodes, then a Quorum); TrackChanges or
// TrackChangesOnly subscribe to changes. A client already tracking gets
// ipc.CSErrExist, after the current state if it asked for it.
func (c *Client) TrackStart(ctx context.Context, flags TrackFlags) error {
	res, err := c.call(ctx, TrackStartRequest{Flags: flags}.Encode())
	if err != nil {
		return err
	}
	_, err = DecodeStatusResponse(res, ResTrackStart)
	return err
}

// TrackStop ends the subscription (quorum_trackstop). 3.1.7 answers CS_OK even when the
// client was not tracking.
func (c *Client) TrackStop(ctx context.Context) error {
	res, err := c.call(ctx, EncodeHeaderRequest(ReqTrackStop))
	if err != nil {
		return err
	}
	_, err = DecodeStatusResponse(res, ResTrackStop)
	return err
}
