package cmap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/corosync-go/corosync/ipc"
)

const (
	// getRoom is the value room of a first GET on the icmap: most values fit, and a larger
	// one costs a length query and a second GET (the daemon refuses a small room with
	// CS_ERR_INVALID_PARAM and never overruns it).
	getRoom = 256
	// schedmissPrefix keys must be read with room: 3.1.7's stats map copies their value
	// without checking for a length query's NULL buffer (and would crash). 16 bytes is
	// what libcmap's cmap_get_uint64/cmap_get_float offer.
	schedmissPrefix = "stats.schedmiss."
	schedmissRoom   = 16
	// getAttempts bounds the retries of a value that grows between the length query and
	// the read.
	getAttempts = 3
	// maxIterKeys bounds an iteration (the daemon's maps hold a few thousand keys).
	maxIterKeys = 1 << 20
)

// Get returns the value of key. A key that does not exist gives ipc.CSErrNotExist.
//
// On the statistics map Get asks for the value's length before reading it, as libcmap's
// cmap_get_string does: 3.1.7's stats map copies its values without checking the room
// offered.
func (c *Client) Get(ctx context.Context, key string) (Value, error) {
	if err := checkKey(key); err != nil {
		return Value{}, err
	}
	switch {
	case c.mapID == MapICMAP:
		r, err := c.get(ctx, key, getRoom)
		if !errors.Is(err, ipc.CSErrInvalid) {
			return r.Value(), err
		}
	case strings.HasPrefix(key, schedmissPrefix):
		r, err := c.get(ctx, key, schedmissRoom)
		return r.Value(), err
	}
	for range getAttempts {
		q, err := c.get(ctx, key, 0)
		if err != nil {
			return Value{}, err
		}
		if q.ValueLen == 0 {
			return rawValue(q.Type, nil), nil
		}
		if q.ValueLen > ipc.DefaultMaxMessageBytes {
			return Value{}, fmt.Errorf("%w: %q has a value of %d bytes", ErrMalformed, key, q.ValueLen)
		}
		r, err := c.get(ctx, key, q.ValueLen)
		if errors.Is(err, ipc.CSErrInvalid) {
			continue // it grew since the query
		}
		return r.Value(), err
	}
	return Value{}, fmt.Errorf("cmap: get %q: the value kept growing: %w", key, ipc.CSErrTryAgain)
}

// get sends one GET offering room bytes; a non-OK code is returned as the error.
func (c *Client) get(ctx context.Context, key string, room uint64) (GetResponse, error) {
	req, err := GetRequest{Key: key, ValueLen: room}.Encode()
	if err != nil {
		return GetResponse{}, err
	}
	res, err := c.call(ctx, req)
	if err != nil {
		return GetResponse{}, err
	}
	if cs := ipc.ResponseError(res); cs != ipc.CSOk {
		return GetResponse{}, cs
	}
	r, err := DecodeGetResponse(res)
	if err != nil {
		return GetResponse{}, err
	}
	if room > 0 && uint64(len(r.Data)) != r.ValueLen {
		return GetResponse{}, fmt.Errorf("%w: get response without its value", ErrMalformed)
	}
	return r, nil
}

// Set stores v under key. The daemon refuses read-only keys (ipc.CSErrAccess), new keys
// with invalid names (ipc.CSErrNameTooLong: 3 to 255 characters of [A-Za-z0-9._/:-]) and
// values of another length than their type's (ipc.CSErrInvalid). Set checks the limits
// libcmap and the daemon impose on the value before sending.
func (c *Client) Set(ctx context.Context, key string, v Value) error {
	if err := v.check(); err != nil {
		return fmt.Errorf("cmap: set %q: %w", key, err)
	}
	req, err := SetRequest{Key: key, Value: v}.Encode()
	if err != nil {
		return err
	}
	return c.status(ctx, req, ResSet)
}

// Delete removes key (ipc.CSErrNotExist if it does not exist).
func (c *Client) Delete(ctx context.Context, key string) error {
	req, err := DeleteRequest{Key: key}.Encode()
	if err != nil {
		return err
	}
	return c.status(ctx, req, ResDelete)
}

// Inc adds one to an integer key, wrapping as C does (cmap_inc).
func (c *Client) Inc(ctx context.Context, key string) error { return c.adjust(ctx, key, 1) }

// Dec subtracts one from an integer key (cmap_dec).
func (c *Client) Dec(ctx context.Context, key string) error { return c.adjust(ctx, key, -1) }

func (c *Client) adjust(ctx context.Context, key string, step int32) error {
	req, err := AdjustIntRequest{Key: key, Step: step}.Encode()
	if err != nil {
		return err
	}
	return c.status(ctx, req, ResAdjustInt)
}

// Entry is a key an iteration found, with its value's length and type.
type Entry struct {
	Key  string
	Len  uint64
	Type Type
}

// Iter lists the keys starting with prefix (every key for ""), in the daemon's order
// (sorted), as cmap_iter_init, cmap_iter_next until CS_ERR_NO_SECTIONS, and
// cmap_iter_finalize do.
func (c *Client) Iter(ctx context.Context, prefix string) ([]Entry, error) {
	req, err := IterInitRequest{Prefix: prefix}.Encode()
	if err != nil {
		return nil, err
	}
	res, err := c.call(ctx, req)
	if err != nil {
		return nil, err
	}
	if cs := ipc.ResponseError(res); cs != ipc.CSOk {
		return nil, cs
	}
	init, err := DecodeIterInitResponse(res)
	if err != nil {
		return nil, err
	}
	entries, err := c.iterate(ctx, init.IterHandle)
	ferr := c.status(ctx, IterFinalizeRequest{IterHandle: init.IterHandle}.Encode(), ResIterFinalize)
	if err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, fmt.Errorf("cmap: iter finalize: %w", ferr)
	}
	return entries, nil
}

func (c *Client) iterate(ctx context.Context, h uint64) ([]Entry, error) {
	var entries []Entry
	req := IterNextRequest{IterHandle: h}.Encode()
	for range maxIterKeys {
		res, err := c.call(ctx, req)
		if err != nil {
			return nil, err
		}
		switch cs := ipc.ResponseError(res); cs {
		case ipc.CSOk:
		case ipc.CSErrNoSections:
			return entries, nil
		default:
			return nil, cs
		}
		r, err := DecodeIterNextResponse(res)
		if err != nil {
			return nil, err
		}
		entries = append(entries, Entry{Key: r.Key, Len: r.ValueLen, Type: r.Type})
	}
	return nil, fmt.Errorf("cmap: iteration did not end after %d keys", maxIterKeys)
}
