package main

import (
	"context"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// fakeStore is an in-memory cmap with the daemon's answers for missing and read-only keys.
type fakeStore struct {
	mu       sync.Mutex
	vals     map[string]cmap.Value
	readOnly map[string]bool
	getErrs  map[string][]error // returned, in turn, before the value
	iterType map[string]cmap.Type
	events   chan cmap.Notification
	tracked  []string
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		vals: map[string]cmap.Value{
			"totem.token":        cmap.Uint32(1000),
			"totem.cluster_name": cmap.String("refcluster"),
			"test.bin":           cmap.Binary([]byte("a\x80")),
			"test.flt":           cmap.Float(1.5),
		},
		readOnly: map[string]bool{"totem.cluster_name": true},
		getErrs:  map[string][]error{},
		iterType: map[string]cmap.Type{},
		events:   make(chan cmap.Notification, 16),
	}
}

func (s *fakeStore) Get(_ context.Context, key string) (cmap.Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errs := s.getErrs[key]; len(errs) > 0 {
		s.getErrs[key] = errs[1:]
		return cmap.Value{}, errs[0]
	}
	v, ok := s.vals[key]
	if !ok {
		return cmap.Value{}, ipc.CSErrNotExist
	}
	return v, nil
}

func (s *fakeStore) Set(_ context.Context, key string, v cmap.Value) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readOnly[key] {
		return ipc.CSErrAccess
	}
	if len(key) < 3 {
		return ipc.CSErrNameTooLong
	}
	s.vals[key] = v
	return nil
}

func (s *fakeStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readOnly[key] {
		return ipc.CSErrAccess
	}
	if _, ok := s.vals[key]; !ok {
		return ipc.CSErrNotExist
	}
	delete(s.vals, key)
	return nil
}

func (s *fakeStore) Iter(_ context.Context, prefix string) ([]cmap.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var es []cmap.Entry
	for k, v := range s.vals {
		if strings.HasPrefix(k, prefix) {
			t := v.Type()
			if it, ok := s.iterType[k]; ok {
				t = it
			}
			es = append(es, cmap.Entry{Key: k, Len: uint64(v.Len()), Type: t})
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Key < es[j].Key })
	return es, nil
}

func (s *fakeStore) TrackAdd(_ context.Context, key string, flags cmap.TrackType) (cmap.TrackHandle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == "bad" {
		return 0, ipc.CSErrInvalid
	}
	s.tracked = append(s.tracked, key+" "+flags.String())
	return cmap.TrackHandle(len(s.tracked)), nil
}

func (s *fakeStore) Events() <-chan cmap.Notification { return s.events }
func (s *fakeStore) Close() error                     { return nil }

func (s *fakeStore) trackedKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tracked...)
}

// harness runs the tool against a fake store and fake files.
type harness struct {
	store          *fakeStore
	files          map[string]string
	stdin          io.Reader
	stdout, stderr *refcorosync.Output
	dialErrs       []error
	waits          int
}

func newHarness() *harness {
	return &harness{store: newFakeStore(), files: map[string]string{}, stdin: strings.NewReader(""),
		stdout: &refcorosync.Output{}, stderr: &refcorosync.Output{}}
}

func (h *harness) system() system {
	return system{
		stdin: h.stdin, stdout: h.stdout, stderr: h.stderr,
		dial: func(context.Context, cmap.Map) (store, error) {
			if len(h.dialErrs) > 0 {
				err := h.dialErrs[0]
				h.dialErrs = h.dialErrs[1:]
				return nil, err
			}
			return h.store, nil
		},
		open: func(name string) (io.ReadCloser, error) {
			data, ok := h.files[name]
			if !ok {
				return nil, &os.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
			}
			return io.NopCloser(strings.NewReader(data)), nil
		},
		wait: func(context.Context, time.Duration) error { h.waits++; return nil },
	}
}

func (h *harness) run(args ...string) int {
	return run(context.Background(), append([]string{"corosync-cmapctl"}, args...), h.system())
}

func TestToolCommands(t *testing.T) {
	cases := []struct {
		name           string
		args           []string
		setup          func(h *harness)
		stdout, stderr string
		code           int
	}{
		{name: "list", args: nil, stdout: "test.bin (bin)\ntest.flt (flt) = 1.500000\ntotem.cluster_name (str) = refcluster\ntotem.token (u32) = 1000\n"},
		{name: "list binary", args: []string{"-b", "test."}, stdout: "test.bin (bin) = a\\xFFFFFF80\ntest.flt (flt) = 1.500000\n"},
		{name: "list quiet", args: []string{"-q", "totem."}, stdout: "refcluster\n1000\n"},
		{name: "list nothing", args: []string{"nope."}, code: 1},
		{name: "list one empty prefix", args: []string{"nope.", "totem.t"}, stdout: "totem.token (u32) = 1000\n"},
		{name: "list all empty", args: []string{"nope.", "nix."}, code: 1},
		{name: "list long prefix", args: []string{strings.Repeat("p", 256)}, stderr: "Failed to initialize iteration. Error CS_ERR_NAME_TOO_LONG\n", code: 1},
		{name: "list type changed", args: []string{"totem.t"}, setup: func(h *harness) { h.store.iterType["totem.token"] = cmap.TypeUint16 },
			stderr: "Can't get value of totem.token. Error CS_ERR_INVALID_PARAM\n"},
		{name: "list try again", args: []string{"totem.t"}, setup: func(h *harness) {
			h.store.getErrs["totem.token"] = []error{ipc.CSErrTryAgain, ipc.CSErrTryAgain}
		}, stdout: "totem.token (u32) = 1000\n"},
		{name: "list try again too often", args: []string{"totem.t"}, setup: func(h *harness) {
			for range maxTryAgain + 1 {
				h.store.getErrs["totem.token"] = append(h.store.getErrs["totem.token"], ipc.CSErrTryAgain)
			}
		}, stderr: "Can't get value of totem.token. Error CS_ERR_TRY_AGAIN\n"},
		{name: "get", args: []string{"-g", "totem.token", "test.bin"}, stdout: "totem.token (u32) = 1000\ntest.bin (bin)\n"},
		{name: "get missing stops", args: []string{"-g", "totem.token", "nope", "test.bin"},
			stdout: "totem.token (u32) = 1000\n", stderr: "Can't get key nope. Error CS_ERR_NOT_EXIST\n", code: 1},
		{name: "get try again is not retried", args: []string{"-g", "totem.token"},
			setup:  func(h *harness) { h.store.getErrs["totem.token"] = []error{ipc.CSErrTryAgain} },
			stderr: "Can't get key totem.token. Error CS_ERR_TRY_AGAIN\n", code: 1},
		{name: "set negative without --", args: []string{"-s", "new.key", "i16", "-7", "-g"}, code: 1,
			stderr: "corosync-cmapctl: invalid option -- '7'\n"},
		{name: "set negative", args: []string{"-s", "--", "new.key", "i16", "-7", "x"}},
		{name: "set too few", args: []string{"-s", "new.key", "u8"}, stderr: "At least 3 parameters are expected for set\n", code: 1},
		{name: "set unknown type", args: []string{"-s", "new.key", "u9", "1"}, stderr: "Unknown type u9\n", code: 1},
		{name: "set range", args: []string{"-s", "new.key", "u8", "256"}, stderr: "256 is not valid u8 integer\n", code: 1},
		{name: "set read-only", args: []string{"-s", "totem.cluster_name", "str", "x"},
			stderr: "Failed to set key totem.cluster_name. Error CS_ERR_ACCESS\n", code: 1},
		{name: "set long name", args: []string{"-s", strings.Repeat("k", 256), "u8", "1"},
			stderr: "Failed to set key " + strings.Repeat("k", 256) + ". Error CS_ERR_NAME_TOO_LONG\n", code: 1},
		{name: "set bin from file", args: []string{"-s", "new.bin", "bin", "f"}, setup: func(h *harness) { h.files["f"] = "\x01z" }},
		{name: "set bin from stdin", args: []string{"-s", "new.bin", "bin", "-"}, setup: func(h *harness) { h.stdin = strings.NewReader("zz") }},
		{name: "set bin empty", args: []string{"-s", "new.bin", "bin", "f"}, setup: func(h *harness) { h.files["f"] = "" },
			stderr: "Failed to set key new.bin. Error CS_ERR_INVALID_PARAM\n", code: 1},
		{name: "set bin too big", args: []string{"-s", "new.bin", "bin", "f"},
			setup: func(h *harness) {
				h.files["f"] = strings.Repeat("x", ipc.DefaultMaxMessageBytes-cmap.SetRequestBytes+1)
			},
			stderr: "Failed to set key new.bin. Error CS_ERR_TOO_BIG\n", code: 1},
		{name: "set bin no file", args: []string{"-s", "new.bin", "bin", "f"},
			stderr: "Can't open input file: No such file or directory\n", code: 1},
		{name: "delete", args: []string{"-d", "totem.token", "nope", "test.bin"},
			stderr: "Can't delete key nope. Error CS_ERR_NOT_EXIST\n", code: 1},
		{name: "delete prefix", args: []string{"-D", "totem.", "nope."},
			stderr: "Can't delete key totem.cluster_name. Error CS_ERR_ACCESS\n"},
		{name: "load", args: []string{"-p", "f"}, setup: func(h *harness) {
			h.files["f"] = "# c\n\n p.a u8 5 x\n^p.none\n^^totem.\np.b str hi\n"
		}, stderr: "Can't delete key p.none. Error CS_ERR_NOT_EXIST\nCan't delete key totem.cluster_name. Error CS_ERR_ACCESS\n"},
		{name: "load incomplete", args: []string{"-p", "f"}, setup: func(h *harness) { h.files["f"] = "p.a u8 5\np.b\np.c u8 1\n" },
			stderr: "Both type and value for key p.b are required\n", code: 1},
		{name: "load blank end", args: []string{"-p", "f"}, setup: func(h *harness) { h.files["f"] = "p.a u8 5\n  " },
			stderr: "Both type and value for key (null) are required\n", code: 1},
		{name: "load bad value", args: []string{"-p", "f"}, setup: func(h *harness) { h.files["f"] = "p.a u8 300\n" },
			stderr: "300 is not valid u8 integer\n", code: 1},
		{name: "load no file", args: []string{"-p", "f"}, stderr: "Couldn't open file.: No such file or directory\n"},
		{name: "clear stats", args: []string{"-C", "all"}},
		{name: "help", args: []string{"-h"}, stdout: helpText},
		{name: "no daemon", args: []string{"-g", "x"}, setup: func(h *harness) { h.dialErrs = []error{syscall.ECONNREFUSED} },
			stderr: "Failed to initialize the cmap API. Error CS_ERR_LIBRARY\n", code: 1},
		{name: "daemon busy", args: []string{"totem.token"}, setup: func(h *harness) { h.dialErrs = []error{ipc.CSErrTryAgain, ipc.CSErrTryAgain} },
			stdout: "totem.token (u32) = 1000\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness()
			if c.setup != nil {
				c.setup(h)
			}
			code := h.run(c.args...)
			if code != c.code || h.stdout.String() != c.stdout || h.stderr.String() != c.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant %d, %q, %q", code, h.stdout, h.stderr, c.code, c.stdout, c.stderr)
			}
		})
	}
}

func TestToolEffects(t *testing.T) {
	h := newHarness()
	h.files["f"] = "p.a u8 5\np.b flt 0x1p-2\n^test.flt\np.c bin f2\n"
	h.files["f2"] = "\x00\xff"
	if code := h.run("-p", "f"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.stderr)
	}
	want := map[string]cmap.Value{"p.a": cmap.Uint8(5), "p.b": cmap.Float(0.25), "p.c": cmap.Binary([]byte{0, 0xff})}
	for k, v := range want {
		if !h.store.vals[k].Equal(v) {
			t.Errorf("%s = %v, want %v", k, h.store.vals[k], v)
		}
	}
	if _, ok := h.store.vals["test.flt"]; ok {
		t.Error("test.flt was not deleted")
	}
	if code := h.run("-C", "ipc", "-m", "icmap"); code != 0 || !h.store.vals["stats.clear.ipc"].Equal(cmap.Uint32(1)) {
		t.Errorf("clear stats: exit %d, value %v", code, h.store.vals["stats.clear.ipc"])
	}
}

func TestToolTrack(t *testing.T) {
	h := newHarness()
	pr, pw := io.Pipe()
	defer pw.Close()
	h.stdin = pr
	done := make(chan int, 1)
	go func() { done <- h.run("-b", "-T", "tr.", "other") }()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.store.trackedKeys()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := h.store.trackedKeys(); len(got) != 2 || got[0] != "tr. add|delete|modify|prefix" {
		t.Fatalf("trackers %q", got)
	}
	h.store.events <- cmap.Notification{Event: cmap.TrackAdd, Key: "tr.a", New: cmap.Uint8(1)}
	h.store.events <- cmap.Notification{Event: cmap.TrackModify, Key: "tr.a", New: cmap.String("x"), Old: cmap.Uint8(1)}
	h.store.events <- cmap.Notification{Event: cmap.TrackDelete, Key: "tr.b", Old: cmap.Binary([]byte{0x90, 'x'})}
	want := "Type \"q\" to finish\ncreate> tr.a (u8) = 1\nmodify> tr.a (str) = x\ndelete> tr.b (bin) = \\xFFFFFF90x\n"
	for h.stdout.String() != want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := h.stdout.String(); got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	io.WriteString(pw, "a\nquit\n")
	select {
	case code := <-done:
		if code != 0 || h.stderr.String() != "" {
			t.Errorf("exit %d, stderr %q", code, h.stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tracking did not end on \"quit\"")
	}
}

func TestToolTrackEnds(t *testing.T) {
	// End of stdin ends tracking.
	h := newHarness()
	if code := h.run("-t", "k1"); code != 0 || h.stdout.String() != "Type \"q\" to finish\n" {
		t.Errorf("exit %d, stdout %q", code, h.stdout)
	}
	if got := h.store.trackedKeys(); len(got) != 1 || got[0] != "k1 add|delete|modify" {
		t.Errorf("trackers %q", got)
	}
	// A daemon that goes away ends it with a dispatch error.
	h = newHarness()
	pr, pw := io.Pipe()
	defer pw.Close()
	h.stdin = pr
	close(h.store.events)
	if code := h.run("-T", "k"); code != 0 || h.stderr.String() != "Dispatch error CS_ERR_LIBRARY\n" {
		t.Errorf("exit %d, stderr %q", code, h.stderr)
	}
	// A refused tracker ends the tool before it prints anything.
	h = newHarness()
	if code := h.run("-T", "ok", "bad"); code != 1 || h.stdout.String() != "" ||
		h.stderr.String() != "Failed to add tracking function. Error CS_ERR_INVALID_PARAM\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, h.stdout, h.stderr)
	}
}

func TestWatchStdin(t *testing.T) {
	cases := []struct {
		in   string
		quit bool
	}{
		{"q\n", true}, {"quit\n", true}, {"a\nq\n", true}, {"a\nq", false}, {"abq\n", true}, {"aq\n", false}, {"", true}, {"x", true},
	}
	for _, c := range cases {
		// A reader that blocks after its text tells "quit by text" from "quit by EOF".
		pr, pw := io.Pipe()
		go func() { io.WriteString(pw, c.in) }()
		quit := make(chan struct{})
		go watchStdin(pr, true, quit)
		if c.in == "" || c.in == "x" {
			pw.Close()
		}
		select {
		case <-quit:
			if !c.quit {
				t.Errorf("%q quit", c.in)
			}
		case <-time.After(100 * time.Millisecond):
			if c.quit {
				t.Errorf("%q did not quit", c.in)
			}
		}
		pw.Close()
	}
	// Without quitOnEnd, the end of stdin is not a reason to stop.
	quit := make(chan struct{})
	watchStdin(strings.NewReader("a\n"), false, quit)
	select {
	case <-quit:
		t.Error("the end of a pipe quit")
	default:
	}
}
