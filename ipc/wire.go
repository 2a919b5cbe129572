package ipc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes and ids of libqb's IPC framing (libqb 2.0.6, amd64; ../shared/specs/libqb-ipc.md).
const (
	// ConnectRequestBytes is the handshake a client sends on the setup socket.
	ConnectRequestBytes = 24
	// ConnectResponseBytes is the handshake answer: header, type, size, cookie and three
	// PATH_MAX names. It must go out in one write.
	ConnectResponseBytes = 12328
	// RequestHeaderBytes is qb_ipc_request_header: id, size.
	RequestHeaderBytes = 16
	// ResponseHeaderBytes is qb_ipc_response_header: id, size, error.
	ResponseHeaderBytes = 24
	// DefaultMaxMessageBytes is what every corosync library asks for (8192×128).
	DefaultMaxMessageBytes = 1 << 20
	// pathMax is PATH_MAX, the size of each name field in the handshake answer.
	pathMax = 4096

	msgAuthenticate = -1
	msgDisconnect   = -3

	// Connection types a server may answer with.
	typeSocket = 0
	typeShm    = 1
)

// CS is corosync's cs_error_t, carried in every response header.
type CS int32

// The cs_error_t values (corotypes.h).
const (
	CSOk              CS = 1
	CSErrLibrary      CS = 2
	CSErrTimeout      CS = 5
	CSErrTryAgain     CS = 6
	CSErrInvalid      CS = 7
	CSErrNoMemory     CS = 8
	CSErrBadHandle    CS = 9
	CSErrBusy         CS = 10
	CSErrAccess       CS = 11
	CSErrNotExist     CS = 12
	CSErrNameTooLong  CS = 13
	CSErrExist        CS = 14
	CSErrNoSpace      CS = 15
	CSErrInterrupt    CS = 16
	CSErrNameNotFound CS = 17
	CSErrNoResources  CS = 18
	CSErrNotSupport   CS = 19
	CSErrFailedOp     CS = 21
	CSErrMessage      CS = 22
	CSErrTooBig       CS = 26
	CSErrNoSections   CS = 27
)

// connectRequest is the decoded handshake request.
type connectRequest struct {
	maxMessageBytes uint32
}

var (
	errHandshakeSize = errors.New("ipc: handshake is not 24 bytes")
	errHandshakeID   = errors.New("ipc: handshake id is not QB_IPC_MSG_AUTHENTICATE")
)

// decodeConnectRequest checks a handshake request. Bytes the C side leaves uninitialised
// (pad) are never read.
func decodeConnectRequest(b []byte) (connectRequest, error) {
	if len(b) != ConnectRequestBytes {
		return connectRequest{}, errHandshakeSize
	}
	if int32(binary.LittleEndian.Uint32(b)) != msgAuthenticate {
		return connectRequest{}, errHandshakeID
	}
	if int32(binary.LittleEndian.Uint32(b[8:])) != ConnectRequestBytes {
		return connectRequest{}, errHandshakeSize
	}
	return connectRequest{maxMessageBytes: binary.LittleEndian.Uint32(b[16:])}, nil
}

// connectResponse is what the server answers to a handshake.
type connectResponse struct {
	errno           int32 // 0, or a negative errno refusing the connection
	connType        int32
	maxMessageBytes uint32
	request         string
	response        string
	event           string
}

// encodeConnectResponse lays the answer out in exactly ConnectResponseBytes.
func encodeConnectResponse(r connectResponse) ([]byte, error) {
	for _, s := range []string{r.request, r.response, r.event} {
		if len(s) >= pathMax {
			return nil, fmt.Errorf("ipc: name %q longer than PATH_MAX", s)
		}
	}
	b := make([]byte, ConnectResponseBytes)
	binary.LittleEndian.PutUint32(b[0:], uint32(msgAuthenticate&0xffffffff))
	binary.LittleEndian.PutUint32(b[8:], ConnectResponseBytes)
	binary.LittleEndian.PutUint32(b[16:], uint32(r.errno))
	binary.LittleEndian.PutUint32(b[24:], uint32(r.connType))
	binary.LittleEndian.PutUint32(b[28:], r.maxMessageBytes)
	// b[32:40] is the server's opaque cookie; clients ignore it.
	copy(b[40:], r.request)
	copy(b[40+pathMax:], r.response)
	copy(b[40+2*pathMax:], r.event)
	return b, nil
}

// RequestHeader is the start of every client request.
type RequestHeader struct {
	ID   int32
	Size int32
}

var (
	errShortRequest = errors.New("ipc: request shorter than its header")
	errRequestSize  = errors.New("ipc: request header size does not match the message")
)

// DecodeRequestHeader reads and validates a request header against the received length.
func DecodeRequestHeader(b []byte) (RequestHeader, error) {
	if len(b) < RequestHeaderBytes {
		return RequestHeader{}, errShortRequest
	}
	h := RequestHeader{ID: int32(binary.LittleEndian.Uint32(b)), Size: int32(binary.LittleEndian.Uint32(b[8:]))}
	if int(h.Size) != len(b) {
		return h, errRequestSize
	}
	return h, nil
}

// PutResponseHeader writes a response (or event) header at the start of b, whose length
// is the message size.
func PutResponseHeader(b []byte, id int32, err CS) {
	binary.LittleEndian.PutUint32(b[0:], uint32(id))
	clear(b[4:8])
	binary.LittleEndian.PutUint32(b[8:], uint32(len(b)))
	clear(b[12:16])
	binary.LittleEndian.PutUint32(b[16:], uint32(err))
	clear(b[20:24])
}

// ErrorResponse is corosync's generic reply to a request it cannot handle: a bare header
// with id 0.
func ErrorResponse(err CS) []byte {
	b := make([]byte, ResponseHeaderBytes)
	PutResponseHeader(b, 0, err)
	return b
}

// PutRequestHeader writes a request header at the start of b, whose length is the
// message size (libqb's qb_ipc_request_header: id and size, each 8-byte aligned).
func PutRequestHeader(b []byte, id int32) {
	binary.LittleEndian.PutUint32(b[0:], uint32(id))
	clear(b[4:8])
	binary.LittleEndian.PutUint32(b[8:], uint32(len(b)))
	clear(b[12:16])
}
