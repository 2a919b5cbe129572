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
	events chan Notification
	stop   context.CancelFunc
	done   chan struct{} // closed when the event reader has exited

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
	ctx, stop := context.WithCancel(context.Background())
	c := &Client{conn: conn, mapID: m, events: make(chan Notification, eventQueue), stop: stop,
		done: make(chan struct{}), tracks: map[uint64]*track{}}
	go c.readEvents(ctx)
	return c
}

// Map is the map the client works on.
func (c *Client) Map() Map { return c.mapID }

// Events returns the channel of tracker notifications. It is closed when the client is
// closed or the daemon goes away. Keep reading it while trackers exist: the daemon drops
// a client whose event queue overflows.
func (c *Client) Events() <-chan Notification { return c.events }

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
	c.stop()
	<-c.done // the reader must leave the event ring before it is unmapped
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

// readEvents turns the daemon's events into Notifications until the client is closed or
// the daemon goes away.
func (c *Client) readEvents(ctx context.Context) {
	defer close(c.done)
	defer close(c.events)
	for {
		msg, err := c.conn.Event(ctx)
		if err != nil {
			return
		}
		n, err := DecodeNotifyCallback(msg)
		if err != nil {
			continue // libcmap fails the dispatch on an unknown event; skipping is kinder
		}
		h, ok := c.trackHandle(ctx, n.TrackInstHandle)
		if !ok {
			continue // a deleted tracker's late event, as libcmap ignores it
		}
		select {
		case c.events <- Notification{TrackHandle: h, Event: n.Event, Key: n.Key, New: n.New, Old: n.Old}:
		case <-ctx.Done():
			return
		}
	}
}
