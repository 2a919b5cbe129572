// Package frame builds and checks the libqb headers around the service messages of
// ipc/cmap, ipc/cfg, ipc/cpg, ipc/quorum and ipc/votequorum, so each of those packages
// encodes and decodes only its own fields.
package frame

import (
	"fmt"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/mar"
)

// Request returns an encoder for a request of about size bytes, with room for a header of
// hdr bytes (ipc.RequestHeaderBytes, or more for a service with a wider header).
func Request(size, hdr int) *mar.Encoder {
	e := mar.NewEncoder(size)
	e.Zero(hdr)
	return e
}

// FinishRequest writes the request header and returns the message.
func FinishRequest(e *mar.Encoder, id int32) []byte {
	ipc.PutRequestHeader(e.B, id)
	return e.B
}

// Response returns an encoder for a response or event of about size bytes, with room for
// its header.
func Response(size int) *mar.Encoder {
	e := mar.NewEncoder(size)
	e.Zero(ipc.ResponseHeaderBytes)
	return e
}

// FinishResponse writes the response header and returns the message.
func FinishResponse(e *mar.Encoder, id int32, cs ipc.CS) []byte {
	ipc.PutResponseHeader(e.B, id, cs)
	return e.B
}

// RequestBody checks a request's header (its id and its size against the message) and
// that the message has at least min bytes, and returns a decoder positioned hdr bytes in.
// Longer requests are accepted: the daemon reads only the fields it knows.
func RequestBody(msg []byte, id int32, hdr, min int) (*mar.Decoder, error) {
	h, err := ipc.DecodeRequestHeader(msg)
	if err != nil {
		return nil, err
	}
	if h.ID != id {
		return nil, fmt.Errorf("id %d, want %d", h.ID, id)
	}
	if len(msg) < min {
		return nil, fmt.Errorf("%w: %d bytes, want %d", mar.ErrShort, len(msg), min)
	}
	d := mar.NewDecoder(msg)
	d.Skip(hdr)
	return d, nil
}

// ResponseBody checks a response's or event's header (id, size) and minimum length, and
// returns a decoder positioned after the header and the header's code.
func ResponseBody(msg []byte, id int32, min int) (*mar.Decoder, ipc.CS, error) {
	if len(msg) < ipc.ResponseHeaderBytes {
		return nil, 0, fmt.Errorf("%w: %d bytes", mar.ErrShort, len(msg))
	}
	d := mar.NewDecoder(msg)
	gotID := d.I32()
	d.Skip(4)
	size := d.I32()
	d.Skip(4)
	cs := ipc.CS(d.I32())
	d.Skip(4)
	if gotID != id {
		return nil, 0, fmt.Errorf("id %d, want %d", gotID, id)
	}
	if int(size) != len(msg) {
		return nil, 0, fmt.Errorf("header size %d, message %d bytes", size, len(msg))
	}
	if len(msg) < min {
		return nil, 0, fmt.Errorf("%w: %d bytes, want %d", mar.ErrShort, len(msg), min)
	}
	return d, cs, nil
}
