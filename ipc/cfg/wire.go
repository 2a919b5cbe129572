package cfg

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/frame"
	"github.com/corosync-go/corosync/ipc/mar"
)

// Request ids (enum req_lib_cfg_types, include/corosync/ipc_cfg.h of corosync 3.1.7).
// 3.1.7 has no crypto-set request: id 8, CRYPTO_SET in older releases, is REOPEN_LOG_FILES;
// crypto reconfiguration travels only between daemons, after a config reload.
const (
	ReqRingStatusGet   int32 = 0
	ReqRingReenable    int32 = 1
	ReqKillNode        int32 = 2
	ReqTryShutdown     int32 = 3
	ReqReplyToShutdown int32 = 4
	ReqGetNodeAddrs    int32 = 5
	ReqLocalGet        int32 = 6
	ReqReloadConfig    int32 = 7
	ReqReopenLogFiles  int32 = 8
	ReqNodeStatusGet   int32 = 9
	ReqTrackStart      int32 = 10
	ReqTrackStop       int32 = 11
)

// Response and event ids (enum res_lib_cfg_types). They differ from the request ids:
// TrackStart is answered with ResStateTrackStart, and ResTestShutdown is the event of a
// shutdown request.
const (
	ResRingStatusGet          int32 = 0
	ResRingReenable           int32 = 1
	ResStateTrackStart        int32 = 2
	ResStateTrackStop         int32 = 3
	ResAdministrativeStateSet int32 = 4
	ResAdministrativeStateGet int32 = 5
	ResServiceLoad            int32 = 6
	ResServiceUnload          int32 = 7
	ResKillNode               int32 = 8
	ResTryShutdown            int32 = 9
	ResTestShutdown           int32 = 10
	ResGetNodeAddrs           int32 = 11
	ResLocalGet               int32 = 12
	ResReplyToShutdown        int32 = 13
	ResReloadConfig           int32 = 14
	ResReopenLogFiles         int32 = 15
	ResNodeStatusGet          int32 = 16
)

// Limits and sizes of corosync 3.1.7 (ipc_cfg.h, cfg.h, corotypes.h).
const (
	// MaxInterfaces is CFG_MAX_INTERFACES, the entries of a ring status answer.
	MaxInterfaces = 16
	// InterfaceNameBytes is CFG_INTERFACE_NAME_MAX_LEN (NUL included).
	InterfaceNameBytes = 128
	// InterfaceStatusBytes is CFG_INTERFACE_STATUS_MAX_LEN (NUL included).
	InterfaceStatusBytes = 512
	// MaxLinks is CFG_MAX_LINKS, the link entries of a node status.
	MaxLinks = 8
	// HostBytes is CFG_MAX_HOST_LEN, a link address field (NUL included).
	HostBytes = 256
	// ReasonMax is the longest kill reason libcfg sends (strlen < CS_MAX_NAME_LENGTH).
	ReasonMax = 255
	// AddrBytes is TOTEMIP_ADDRLEN, an address slot of a node addresses answer.
	AddrBytes = 16
	// NodeStatusV1 is CFG_NODE_STATUS_V1, the only node status version.
	NodeStatusV1 = 1

	// HeaderRequestBytes is a request with no body (ring status, ring reenable, local
	// get, reload config, reopen log files, track stop).
	HeaderRequestBytes = 16
	// KillNodeRequestBytes is req_lib_cfg_killnode.
	KillNodeRequestBytes = 288
	// WordRequestBytes is a request with one 32-bit field after the header (try shutdown,
	// reply to shutdown, get node addrs) or one byte (track start).
	WordRequestBytes = 24
	// NodeStatusRequestBytes is req_lib_cfg_nodestatusget.
	NodeStatusRequestBytes = 32
	// StatusResponseBytes is a bare response header.
	StatusResponseBytes = 24
	// RingStatusResponseBytes is res_lib_cfg_ringstatusget.
	RingStatusResponseBytes = 10272
	// NodeStatusShortBytes is res_lib_cfg_nodestatusget_version, the answer to a failed
	// node status request.
	NodeStatusShortBytes = 32
	// NodeStatusResponseBytes is res_lib_cfg_nodestatusget_v1.
	NodeStatusResponseBytes = 4200
	// NodeAddrsResponseBytes is res_lib_cfg_get_node_addrs without its address slots.
	NodeAddrsResponseBytes = 32
	// LocalGetResponseBytes is res_lib_cfg_local_get.
	LocalGetResponseBytes = 32
	// TestShutdownBytes is res_lib_cfg_testshutdown.
	TestShutdownBytes = 32

	reqHdr      = ipc.RequestHeaderBytes
	resHdr      = ipc.ResponseHeaderBytes
	csNameValue = 256 // cs_name_t: u16 length, value[256]
)

// ShutdownFlags says how insistent a shutdown request is (corosync_cfg_shutdown_flags_t).
type ShutdownFlags uint32

// The shutdown flags.
const (
	// ShutdownRequest asks the tracking clients; any "no" cancels the shutdown.
	ShutdownRequest ShutdownFlags = 0
	// ShutdownRegardless asks the tracking clients but shuts down whatever they answer.
	ShutdownRegardless ShutdownFlags = 1
	// ShutdownImmediate shuts down at once without asking.
	ShutdownImmediate ShutdownFlags = 2
)

// String names the flag as corosync-cfgtool's documentation does.
func (f ShutdownFlags) String() string {
	switch f {
	case ShutdownRequest:
		return "request"
	case ShutdownRegardless:
		return "regardless"
	case ShutdownImmediate:
		return "immediate"
	}
	return fmt.Sprintf("ShutdownFlags(%d)", uint32(f))
}

// ErrMalformed is wrapped by the errors of messages that do not have their type's layout.
var ErrMalformed = errors.New("cfg: malformed message")

// ErrReasonTooLong is wrapped (with ipc.CSErrNameTooLong, libcfg's code) by KillNode's
// error for a reason over ReasonMax bytes.
var ErrReasonTooLong = errors.New("cfg: kill reason too long")

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
}

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

// putCString writes s NUL-padded into a field of n bytes; s must leave room for the NUL.
func putCString(e *mar.Encoder, s string, n int) {
	e.Fixed([]byte(s), n)
}

// cString reads a NUL-terminated string from a field of n bytes; a field without its NUL
// is malformed (a C reader would run past it).
func cString(d *mar.Decoder, n int) string {
	b := d.Bytes(n)
	if d.Err() != nil {
		return ""
	}
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		d.Fail(fmt.Errorf("%d-byte string field without its NUL", n))
		return ""
	}
	return string(b[:i])
}

// checkCString reports whether s fits a C string field of n bytes.
func checkCString(what, s string, n int) error {
	if len(s) >= n {
		return fmt.Errorf("cfg: %s of %d bytes does not fit its %d-byte field", what, len(s), n)
	}
	if i := bytes.IndexByte([]byte(s), 0); i >= 0 {
		return fmt.Errorf("cfg: %s holds a NUL", what)
	}
	return nil
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
