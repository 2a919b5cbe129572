package cmap

import (
	"context"
	"fmt"

	"github.com/corosync-go/corosync/ipc"
)

// TrackHandle is the daemon's handle of a tracker (cmap_track_handle_t).
type TrackHandle uint64

// Notification is a tracked change delivered on Events: what happened (TrackAdd,
// TrackModify or TrackDelete), to which key, with the new and old values (the zero Value
// for a side that does not exist), and which tracker asked for it.
type Notification struct {
	TrackHandle TrackHandle
	Event       TrackType
	Key         string
	New, Old    Value
}

// track is one tracker of this client, keyed by the cookie sent as track_inst_handle.
// ready is closed once TRACK_ADD has been answered, so that an event overtaking the
// answer waits for the handle instead of being lost.
type track struct {
	handle TrackHandle
	ok     bool
	ready  chan struct{}
}

// TrackAdd starts tracking keyOrPrefix for the changes flags selects (TrackAdd,
// TrackModify, TrackDelete, with TrackPrefix to follow every key starting with it; an
// empty prefix follows all keys). Notifications arrive on Events.
func (c *Client) TrackAdd(ctx context.Context, keyOrPrefix string, flags TrackType) (TrackHandle, error) {
	c.mu.Lock()
	c.nextCookie++
	cookie := c.nextCookie
	t := &track{ready: make(chan struct{})}
	c.tracks[cookie] = t
	c.mu.Unlock()

	h, err := c.trackAdd(ctx, keyOrPrefix, flags, cookie)
	c.mu.Lock()
	if err != nil {
		delete(c.tracks, cookie)
	} else {
		t.handle, t.ok = h, true
	}
	c.mu.Unlock()
	close(t.ready)
	return h, err
}

func (c *Client) trackAdd(ctx context.Context, key string, flags TrackType, cookie uint64) (TrackHandle, error) {
	req, err := TrackAddRequest{Key: key, TrackType: flags, TrackInstHandle: cookie}.Encode()
	if err != nil {
		return 0, err
	}
	res, err := c.call(ctx, req)
	if err != nil {
		return 0, err
	}
	if cs := ipc.ResponseError(res); cs != ipc.CSOk {
		return 0, cs
	}
	r, err := DecodeTrackAddResponse(res)
	if err != nil {
		return 0, err
	}
	return TrackHandle(r.TrackHandle), nil
}

// TrackDelete stops a tracker. Notifications of it still queued are dropped, as libcmap
// drops them.
func (c *Client) TrackDelete(ctx context.Context, h TrackHandle) error {
	res, err := c.call(ctx, TrackDeleteRequest{TrackHandle: uint64(h)}.Encode())
	if err != nil {
		return err
	}
	if cs := ipc.ResponseError(res); cs != ipc.CSOk {
		return cs
	}
	r, err := DecodeTrackDeleteResponse(res)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tracks[r.TrackInstHandle]
	if t == nil || t.handle != h {
		return fmt.Errorf("%w: track delete answered for cookie %d, not handle %d", ErrMalformed, r.TrackInstHandle, h)
	}
	delete(c.tracks, r.TrackInstHandle)
	return nil
}

// trackHandle maps an event's cookie to its tracker's handle, waiting for a TRACK_ADD
// answer still in flight. It reports false for unknown or failed trackers.
func (c *Client) trackHandle(ctx context.Context, cookie uint64) (TrackHandle, bool) {
	c.mu.Lock()
	t := c.tracks[cookie]
	c.mu.Unlock()
	if t == nil {
		return 0, false
	}
	select {
	case <-t.ready:
	case <-ctx.Done():
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tracks[cookie] != t {
		return 0, false
	}
	return t.handle, t.ok
}
