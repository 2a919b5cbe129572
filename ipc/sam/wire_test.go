package sam

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/corosync-go/corosync/ipc"
)

func TestCommandRoundTrip(t *testing.T) {
	for _, c := range []command{
		{op: cmdStart}, {op: cmdStop}, {op: cmdHB}, {op: cmdMarkFailed},
		{op: cmdDataStore}, {op: cmdDataStore, data: []byte("abc")},
		{op: cmdWarnSignalSet, signal: 10}, {op: cmdWarnSignalSet, signal: -1},
		{op: 77}, // unknown: passed on, libsam's server ignores it
	} {
		b := encodeCommand(c)
		got, err := readCommand(bytes.NewReader(b), MaxDataSize)
		if err != nil || got.op != c.op || !bytes.Equal(got.data, c.data) || got.signal != c.signal {
			t.Errorf("%+v: got %+v, %v", c, got, err)
		}
	}
	// libsam's layout: command byte, then size_t / int in the machine's order.
	if b := encodeCommand(command{op: cmdDataStore, data: []byte{9}}); !bytes.Equal(b, []byte{3, 1, 0, 0, 0, 0, 0, 0, 0, 9}) {
		t.Errorf("data store bytes % x", b)
	}
	if b := encodeCommand(command{op: cmdWarnSignalSet, signal: 10}); !bytes.Equal(b, []byte{4, 10, 0, 0, 0}) {
		t.Errorf("warn signal bytes % x", b)
	}
}

func TestReadCommandErrors(t *testing.T) {
	if _, err := readCommand(bytes.NewReader(nil), MaxDataSize); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
	for _, b := range [][]byte{
		{cmdDataStore, 1, 0},                                           // size cut
		{cmdDataStore, 4, 0, 0, 0, 0, 0, 0, 0, 'a'},                    // data cut
		{cmdDataStore, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // too large
		{cmdWarnSignalSet, 1},
	} {
		if _, err := readCommand(bytes.NewReader(b), MaxDataSize); !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: %v, want ErrMalformed", b, err)
		}
	}
}

func TestReplies(t *testing.T) {
	if err := readReply(bytes.NewReader(encodeReply(ipc.CSOk))); err != nil {
		t.Errorf("OK: %v", err)
	}
	if err := readReply(bytes.NewReader(encodeReply(ipc.CSErrTryAgain))); err != ipc.CSErrTryAgain {
		t.Errorf("error reply: %v", err)
	}
	for _, b := range [][]byte{{2}, {replyError, 1, 0}, {replyError, byte(ipc.CSOk), 0, 0, 0}} {
		if err := readReply(bytes.NewReader(b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: %v, want ErrMalformed", b, err)
		}
	}
	if err := readReply(bytes.NewReader(nil)); !errors.Is(err, io.EOF) {
		t.Errorf("nothing: %v", err)
	}
}

func TestHandshakeRoundTrip(t *testing.T) {
	for _, h := range []handshake{
		{instance: 1, policy: Restart, intervalMs: 2000, warnSignal: 15},
		{instance: 7, policy: Quit | Quorum | Cmap, intervalMs: 0, warnSignal: 9, data: []byte("kept")},
	} {
		got, err := readHandshake(bytes.NewReader(encodeHandshake(h)), MaxDataSize)
		if err != nil || got.instance != h.instance || got.policy != h.policy || got.intervalMs != h.intervalMs ||
			got.warnSignal != h.warnSignal || !bytes.Equal(got.data, h.data) {
			t.Errorf("%+v: got %+v, %v", h, got, err)
		}
	}
	good := encodeHandshake(handshake{instance: 1, policy: Quit, data: []byte("xy")})
	bad := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for name, b := range map[string][]byte{
		"magic":    bad(func(b []byte) []byte { b[0] = 'X'; return b }),
		"policy":   bad(func(b []byte) []byte { b[8] = 3; return b }),
		"interval": bad(func(b []byte) []byte { b[15] = 0x80; return b }),
		"size":     bad(func(b []byte) []byte { b[27] = 1; return b }),
		"cut":      good[:len(good)-1],
		"short":    good[:10],
	} {
		if _, err := readHandshake(bytes.NewReader(b), MaxDataSize); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestParseChildEnv(t *testing.T) {
	if out, in, err := parseChildEnv("3,4"); out != 3 || in != 4 || err != nil {
		t.Errorf("3,4: %d %d %v", out, in, err)
	}
	for _, v := range []string{"", "3", "3,", ",4", "3,3", "2,4", "3,-4", "a,b", "3,4,5", "99999999999999999999,4"} {
		if _, _, err := parseChildEnv(v); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", v, err)
		}
	}
}
