package sam

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/corosync-go/corosync/ipc"
)

// fuzzMaxData keeps the fuzzers' allocations small; the limit's check is the same code.
const fuzzMaxData = 1 << 16

// FuzzReadCommand: any byte stream decodes into commands until io.EOF or an error
// wrapping ErrMalformed, never panics, and what decodes encodes back to the same bytes.
func FuzzReadCommand(f *testing.F) {
	f.Add([]byte{cmdStart, cmdHB, cmdStop})
	f.Add(encodeCommand(command{op: cmdDataStore, data: []byte("data")}))
	f.Add(encodeCommand(command{op: cmdWarnSignalSet, signal: 10}))
	f.Add([]byte{cmdDataStore, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{cmdWarnSignalSet, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		var back []byte
		for range len(b) + 1 {
			c, err := readCommand(r, fuzzMaxData)
			if err == io.EOF {
				if !bytes.Equal(back, b) {
					t.Fatalf("re-encoded % x, read % x", back, b)
				}
				return
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error %v does not wrap ErrMalformed", err)
				}
				return
			}
			back = append(back, encodeCommand(c)...)
		}
		t.Fatal("more commands than bytes")
	})
}

// FuzzReadReply: a reply is OK, a non-OK ipc.CS, or a clear error.
func FuzzReadReply(f *testing.F) {
	f.Add(encodeReply(ipc.CSOk))
	f.Add(encodeReply(ipc.CSErrLibrary))
	f.Add([]byte{replyError, byte(ipc.CSOk), 0, 0, 0})
	f.Add([]byte{9})
	f.Fuzz(func(t *testing.T, b []byte) {
		err := readReply(bytes.NewReader(b))
		var cs ipc.CS
		switch {
		case err == nil:
			if b[0] != replyOK {
				t.Fatalf("OK from % x", b)
			}
		case errors.As(err, &cs):
			if cs == ipc.CSOk || !bytes.Equal(encodeReply(cs), b[:5]) {
				t.Fatalf("code %v from % x", cs, b)
			}
		case errors.Is(err, ErrMalformed), errors.Is(err, io.EOF):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// FuzzReadHandshake: a handshake decodes with a valid policy and bounded data, or fails
// with ErrMalformed; a decoded one encodes back to its bytes.
func FuzzReadHandshake(f *testing.F) {
	f.Add(encodeHandshake(handshake{instance: 1, policy: Restart, intervalMs: 1000, warnSignal: 15}))
	f.Add(encodeHandshake(handshake{instance: 3, policy: QuorumQuit | Cmap, data: []byte("stored")}))
	f.Add([]byte("SAM1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := readHandshake(bytes.NewReader(b), fuzzMaxData)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !h.policy.valid() || len(h.data) > fuzzMaxData {
			t.Fatalf("accepted %+v", h)
		}
		enc := encodeHandshake(h)
		if !bytes.Equal(enc, b[:len(enc)]) {
			t.Fatalf("re-encoded % x, read % x", enc, b)
		}
	})
}

// FuzzParseChildEnv: the descriptors are distinct and above the standard streams, or the
// value is refused with ErrMalformed.
func FuzzParseChildEnv(f *testing.F) {
	for _, s := range []string{"3,4", "", "3", "4,3", "-1,5", "3,3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		out, in, err := parseChildEnv(v)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if out < 3 || in < 3 || out == in {
			t.Fatalf("%q gave %d, %d", v, out, in)
		}
	})
}
