package cmap

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/frame"
	"github.com/corosync-go/corosync/ipc/mar"
)

// Request ids (enum req_cmap_types, include/corosync/ipc_cmap.h of corosync 3.1.7).
const (
	ReqSet           int32 = 0
	ReqDelete        int32 = 1
	ReqGet           int32 = 2
	ReqAdjustInt     int32 = 3
	ReqIterInit      int32 = 4
	ReqIterNext      int32 = 5
	ReqIterFinalize  int32 = 6
	ReqTrackAdd      int32 = 7
	ReqTrackDelete   int32 = 8
	ReqSetCurrentMap int32 = 9
)

// Response and event ids (enum res_cmap_types). Note SET_CURRENT_MAP's answer is 10: 9 is
// the notification.
const (
	ResSet            int32 = 0
	ResDelete         int32 = 1
	ResGet            int32 = 2
	ResAdjustInt      int32 = 3
	ResIterInit       int32 = 4
	ResIterNext       int32 = 5
	ResIterFinalize   int32 = 6
	ResTrackAdd       int32 = 7
	ResTrackDelete    int32 = 8
	ResNotifyCallback int32 = 9
	ResSetCurrentMap  int32 = 10
)

// Limits of corosync 3.1.7.
const (
	// KeyNameMax is the longest key name (CMAP_KEYNAME_MAXLEN); libcmap refuses longer
	// ones with CS_ERR_NAME_TOO_LONG before sending.
	KeyNameMax = 255
	// KeyNameMin is the shortest name the daemon accepts for a new key
	// (CMAP_KEYNAME_MINLEN); the daemon checks it, not the library.
	KeyNameMin = 3
	// MaxValueBytes is the largest value the daemon stores (ICMAP_MAX_VALUE_LEN); it
	// answers CS_ERR_INVALID_PARAM to a larger one.
	MaxValueBytes = 16 * 1024
)

// Byte sizes of the messages' fixed parts (gcc, amd64, corosync 3.1.7's structs).
const (
	// A mar_name_t is 264 bytes: u16 length aligned 8, then value[256] aligned 8.
	nameValueBytes = 256 // CS_MAX_NAME_LENGTH
	reqHdr         = ipc.RequestHeaderBytes
	resHdr         = ipc.ResponseHeaderBytes

	// SetRequestBytes is req_lib_cmap_set without its value.
	SetRequestBytes = 296
	// KeyRequestBytes is req_lib_cmap_delete and req_lib_cmap_iter_init.
	KeyRequestBytes = 280
	// GetRequestBytes is req_lib_cmap_get.
	GetRequestBytes = 288
	// AdjustRequestBytes is req_lib_cmap_adjust_int.
	AdjustRequestBytes = 288
	// HandleRequestBytes is req_lib_cmap_iter_next, iter_finalize and track_delete.
	HandleRequestBytes = 24
	// TrackAddRequestBytes is req_lib_cmap_track_add.
	TrackAddRequestBytes = 296
	// SetMapRequestBytes is req_lib_cmap_set_current_map.
	SetMapRequestBytes = 24
	// StatusResponseBytes is a bare response header (set, delete, adjust, iter finalize,
	// set current map).
	StatusResponseBytes = 24
	// GetResponseBytes is res_lib_cmap_get without its value room.
	GetResponseBytes = 40
	// HandleResponseBytes is res_lib_cmap_iter_init, track_add and track_delete.
	HandleResponseBytes = 32
	// IterNextResponseBytes is res_lib_cmap_iter_next.
	IterNextResponseBytes = 304
	// NotifyCallbackBytes is res_lib_cmap_notify_callback without its two values.
	NotifyCallbackBytes = 336
)

// Errors wrapped by this package's errors.
var (
	// ErrMalformed is wrapped by the errors about a message without its type's layout.
	ErrMalformed = errors.New("cmap: malformed message")
	// ErrKeyTooLong is wrapped by the errors about a key name (or prefix) longer than
	// KeyNameMax bytes; they also wrap ipc.CSErrNameTooLong, libcmap's code for it.
	ErrKeyTooLong = errors.New("cmap: key name too long")
	// ErrValueTooBig is wrapped by the errors about a value longer than MaxValueBytes;
	// they also wrap ipc.CSErrInvalid, what the daemon answers to such a value.
	ErrValueTooBig = errors.New("cmap: value too big")
	// ErrInvalidValue is wrapped by the errors about a value whose type or length
	// corosync would refuse; they also wrap ipc.CSErrInvalid.
	ErrInvalidValue = errors.New("cmap: invalid value")
	// ErrInvalidKey is wrapped by the errors about a key name holding a NUL, which a C
	// string cannot carry; they also wrap ipc.CSErrInvalid.
	ErrInvalidKey = errors.New("cmap: invalid key name")
)

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
}

// checkKey applies libcmap's client-side limit (strlen >= CS_MAX_NAME_LENGTH).
func checkKey(key string) error {
	if len(key) > KeyNameMax {
		return fmt.Errorf("%w: %d bytes, at most %d: %w", ErrKeyTooLong, len(key), KeyNameMax, ipc.CSErrNameTooLong)
	}
	if i := strings.IndexByte(key, 0); i >= 0 {
		return fmt.Errorf("%w: it holds a NUL at byte %d: %w", ErrInvalidKey, i, ipc.CSErrInvalid)
	}
	return nil
}

// putName appends a mar_name_t. The name must fit (callers check with checkKey).
func putName(e *mar.Encoder, s string) {
	e.U16(uint16(len(s)))
	e.Zero(6)
	e.Fixed([]byte(s), nameValueBytes)
}

// name reads a mar_name_t. The daemon uses the value as a C string, so a NUL ends the name
// even before its length.
func name(d *mar.Decoder) string {
	n := int(d.U16())
	d.Skip(6)
	v := d.Bytes(nameValueBytes)
	if d.Err() != nil {
		return ""
	}
	if n > nameValueBytes {
		d.Fail(fmt.Errorf("name length %d exceeds %d", n, nameValueBytes))
		return ""
	}
	v = v[:n]
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	if len(v) == nameValueBytes {
		d.Fail(errors.New("name fills its 256 bytes: no room for the NUL a C string needs"))
		return ""
	}
	return string(v)
}

// request starts encoding a request of the given total size: the header is written by
// finish once the size is known.
// requestDecoder checks a request's header and minimum length (frame.RequestBody).
func requestDecoder(msg []byte, id int32, min int, what string) (*mar.Decoder, error) {
	d, err := frame.RequestBody(msg, id, reqHdr, min)
	if err != nil {
		return nil, malformed(what, err)
	}
	return d, nil
}

// responseDecoder checks a response's or event's header and minimum length
// (frame.ResponseBody).
func responseDecoder(msg []byte, id int32, min int, what string) (*mar.Decoder, ipc.CS, error) {
	d, cs, err := frame.ResponseBody(msg, id, min)
	if err != nil {
		return nil, 0, malformed(what, err)
	}
	return d, cs, nil
}

func done(d *mar.Decoder, what string) error {
	if err := d.Err(); err != nil {
		return malformed(what, err)
	}
	return nil
}
