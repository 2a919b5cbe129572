package sam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/corosync-go/corosync/ipc"
)

// The child talks to its server over two pipes with libsam's framing: a command byte,
// then for DATA_STORE a 64-bit size and the data, for WARN_SIGNAL_SET a 32-bit signal
// (native byte order and sizes on amd64, little-endian here on every machine). The
// server answers the commands that wait with a reply byte, followed by a 32-bit
// cs_error_t when it is an error.
const (
	cmdStart         byte = 0 // SAM_COMMAND_START
	cmdStop          byte = 1 // SAM_COMMAND_STOP
	cmdHB            byte = 2 // SAM_COMMAND_HB
	cmdDataStore     byte = 3 // SAM_COMMAND_DATA_STORE
	cmdWarnSignalSet byte = 4 // SAM_COMMAND_WARN_SIGNAL_SET
	cmdMarkFailed    byte = 5 // SAM_COMMAND_MARK_FAILED
)

const (
	replyOK    byte = 0 // SAM_REPLY_OK
	replyError byte = 1 // SAM_REPLY_ERROR
)

// MaxDataSize bounds what DataStore accepts and what a server reads for one store
// (libsam has no bound but malloc's). A larger store fails with ipc.CSErrNoMemory, as a
// failed malloc does in libsam.
const MaxDataSize = 64 << 20

// ErrMalformed is wrapped by every decoding error of the child-server framing.
var ErrMalformed = errors.New("sam: malformed message")

// command is one decoded child-to-server command.
type command struct {
	op     byte
	data   []byte // cmdDataStore: the data (nil for size 0)
	signal int32  // cmdWarnSignalSet
}

// encodeCommand is the bytes the child writes for c.
func encodeCommand(c command) []byte {
	switch c.op {
	case cmdDataStore:
		b := make([]byte, 9, 9+len(c.data))
		b[0] = c.op
		binary.LittleEndian.PutUint64(b[1:], uint64(len(c.data)))
		return append(b, c.data...)
	case cmdWarnSignalSet:
		b := make([]byte, 5)
		b[0] = c.op
		binary.LittleEndian.PutUint32(b[1:], uint32(c.signal))
		return b
	default:
		return []byte{c.op}
	}
}

// readCommand reads one command. It returns io.EOF when the stream ends at a command
// boundary (the child has gone), and an error wrapping ErrMalformed for a truncated
// command or a store larger than maxData. Unknown command bytes are returned as they
// are: libsam's server ignores them.
func readCommand(r io.Reader, maxData uint64) (command, error) {
	var op [1]byte
	if _, err := io.ReadFull(r, op[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return command{}, io.EOF
		}
		return command{}, err
	}
	c := command{op: op[0]}
	switch c.op {
	case cmdDataStore:
		var sz [8]byte
		if _, err := io.ReadFull(r, sz[:]); err != nil {
			return command{}, truncated("data store size", err)
		}
		n := binary.LittleEndian.Uint64(sz[:])
		if n > maxData {
			return command{}, fmt.Errorf("%w: data store of %d bytes (at most %d)", ErrMalformed, n, maxData)
		}
		if n > 0 {
			c.data = make([]byte, n)
			if _, err := io.ReadFull(r, c.data); err != nil {
				return command{}, truncated("data store", err)
			}
		}
	case cmdWarnSignalSet:
		var s [4]byte
		if _, err := io.ReadFull(r, s[:]); err != nil {
			return command{}, truncated("warn signal", err)
		}
		c.signal = int32(binary.LittleEndian.Uint32(s[:]))
	}
	return c, nil
}

func truncated(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s truncated", ErrMalformed, what)
	}
	return err
}

// encodeReply is the server's answer: OK, or ERROR and the code.
func encodeReply(cs ipc.CS) []byte {
	if cs == ipc.CSOk {
		return []byte{replyOK}
	}
	b := make([]byte, 5)
	b[0] = replyError
	binary.LittleEndian.PutUint32(b[1:], uint32(cs))
	return b
}

// readReply is sam_read_reply's decoding: nil for OK, the ipc.CS the server answered,
// an error wrapping ErrMalformed for anything else, or the read's error.
func readReply(r io.Reader) error {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return err
	}
	switch b[0] {
	case replyOK:
		return nil
	case replyError:
		var e [4]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return truncated("error reply", err)
		}
		cs := ipc.CS(int32(binary.LittleEndian.Uint32(e[:])))
		if cs == ipc.CSOk {
			return fmt.Errorf("%w: error reply with CS_OK", ErrMalformed)
		}
		return cs
	default:
		return fmt.Errorf("%w: reply byte %d", ErrMalformed, b[0])
	}
}

// handshake is what the server sends a new child before anything else: what fork would
// have copied into it (libsam's child inherits the parent's memory).
type handshake struct {
	instance   uint32 // the instance number sam_register returns
	policy     Policy // the server's recovery policy
	intervalMs uint32 // the health check interval, milliseconds
	warnSignal int32
	data       []byte // the instance data stored so far (nil: none)
}

// handshakeMagic starts a handshake; it changes with the layout.
var handshakeMagic = [4]byte{'S', 'A', 'M', '1'}

const handshakeFixed = 4 + 4 + 4 + 4 + 4 + 8

func encodeHandshake(h handshake) []byte {
	b := make([]byte, handshakeFixed, handshakeFixed+len(h.data))
	copy(b, handshakeMagic[:])
	binary.LittleEndian.PutUint32(b[4:], h.instance)
	binary.LittleEndian.PutUint32(b[8:], uint32(h.policy))
	binary.LittleEndian.PutUint32(b[12:], h.intervalMs)
	binary.LittleEndian.PutUint32(b[16:], uint32(h.warnSignal))
	binary.LittleEndian.PutUint64(b[20:], uint64(len(h.data)))
	return append(b, h.data...)
}

// readHandshake reads and checks a handshake: the magic, a valid policy, and at most
// maxData bytes of data.
func readHandshake(r io.Reader, maxData uint64) (handshake, error) {
	var b [handshakeFixed]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return handshake{}, truncated("handshake", err)
	}
	if [4]byte(b[:4]) != handshakeMagic {
		return handshake{}, fmt.Errorf("%w: handshake magic %q", ErrMalformed, b[:4])
	}
	h := handshake{
		instance:   binary.LittleEndian.Uint32(b[4:]),
		policy:     Policy(binary.LittleEndian.Uint32(b[8:])),
		intervalMs: binary.LittleEndian.Uint32(b[12:]),
		warnSignal: int32(binary.LittleEndian.Uint32(b[16:])),
	}
	if !h.policy.valid() {
		return handshake{}, fmt.Errorf("%w: handshake policy %#x", ErrMalformed, uint32(h.policy))
	}
	if h.intervalMs > maxIntervalMs {
		return handshake{}, fmt.Errorf("%w: handshake interval %d ms", ErrMalformed, h.intervalMs)
	}
	n := binary.LittleEndian.Uint64(b[20:])
	if n > maxData {
		return handshake{}, fmt.Errorf("%w: handshake data of %d bytes (at most %d)", ErrMalformed, n, maxData)
	}
	if n > 0 {
		h.data = make([]byte, n)
		if _, err := io.ReadFull(r, h.data); err != nil {
			return handshake{}, truncated("handshake data", err)
		}
	}
	return h, nil
}

// childEnv names the environment variable that tells a re-executed program it is a SAM
// child, and which descriptors reach its server: "<commands fd>,<replies fd>".
const childEnv = "COROSYNC_GO_SAM_CHILD"

// parseChildEnv reads childEnv's value.
func parseChildEnv(v string) (out, in int, err error) {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return 0, 0, fmt.Errorf("%w: %s=%q", ErrMalformed, childEnv, v)
	}
	out, err1 := strconv.Atoi(a)
	in, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || out < 3 || in < 3 || out == in || out > 1<<20 || in > 1<<20 {
		return 0, 0, fmt.Errorf("%w: %s=%q", ErrMalformed, childEnv, v)
	}
	return out, in, nil
}
