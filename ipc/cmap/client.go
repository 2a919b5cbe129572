package cmap

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/corosync-go/corosync/ipc"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("cmap: client closed")

// eventQueue is how many notifications wait in Events before the reader stops taking
// events from the daemon (whose own queue then fills).
const eventQueue = 64

// Client is a connection to the cmap service, the Go counterpart of a libcmap handle. Its
// methods may be called from several goroutines; requests are serialised.
type Client struct {
	conn   *ipc.Client
	mapID  Map
	events *ipc.EventPump[Notification]

	mu         sync.Mutex
	closed     bool
	tracks     map[uint64]*track // by cookie (track_inst_handle)
	nextCookie uint64
}

// Dial connects to the cmap service's default map (cmap_initialize).
func Dial(ctx context.Context) (*Client, error) {
	conn, err := ipc.Dial(ctx, "cmap")
	if err != nil {
		return nil, err
	}
	return newClient(conn, MapICMAP), nil
}

// DialMap connects and selects a map, as cmap_initialize_map does (it sends
// SET_CURRENT_MAP even for MapICMAP).
func DialMap(ctx context.Context, m Map) (*Client, error) {
	conn, err := ipc.Dial(ctx, "cmap")
	if err != nil {
		return nil, err
	}
	c := newClient(conn, m)
	res, err := c.call(ctx, SetCurrentMapRequest{Map: m}.Encode())
	if err == nil {
		var cs ipc.CS
		if cs, err = DecodeStatusResponse(res, ResSetCurrentMap); err == nil {
			err = cs.Err()
		}
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("cmap: select map %d: %w", m, err)
	}
	return c, nil
}

func newClient(conn *ipc.Client, m Map) *Client {
	c := &Client{conn: conn, mapID: m, tracks: map[uint64]*track{}}
	c.events = ipc.StartEvents(conn, eventQueue, c.decodeEvent)
	return c
}

// Map is the map the client works on.
func (c *Client) Map() Map { return c.mapID }

// Events returns the channel of tracker notifications. It is closed when the client is
// closed or the daemon goes away. Keep reading it while trackers exist: the daemon drops
// a client whose event queue overflows.
func (c *Client) Events() <-chan Notification { return c.events.C() }

// Close disconnects. Like cmap_finalize it sends nothing: the daemon forgets the
// connection's iterators and trackers when it goes. Close is idempotent.
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

// call sends one request and returns the response, valid until the next call. A non-OK
// code is left for the caller's decoder to report.
func (c *Client) call(ctx context.Context, req []byte) ([]byte, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	return c.conn.Request(ctx, req)
}

// status sends a request whose answer is a bare header and returns its code as an error.
func (c *Client) status(ctx context.Context, req []byte, resID int32) error {
	res, err := c.call(ctx, req)
	if err != nil {
		return err
	}
	if cs := ipc.ResponseError(res); cs != ipc.CSOk {
		return cs
	}
	cs, err := DecodeStatusResponse(res, resID)
	if err != nil {
		return err
	}
	return cs.Err()
}

// decodeEvent turns a notify callback into a Notification, skipping those of trackers
// already deleted, as libcmap ignores them.
func (c *Client) decodeEvent(ctx context.Context, msg []byte) (Notification, bool) {
	n, err := DecodeNotifyCallback(msg)
	if err != nil {
		return Notification{}, false
	}
	h, ok := c.trackHandle(ctx, n.TrackInstHandle)
	if !ok {
		return Notification{}, false
	}
	return Notification{TrackHandle: h, Event: n.Event, Key: n.Key, New: n.New, Old: n.Old}, true
}
