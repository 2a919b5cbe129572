package sam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc"
)

// helperEnv makes the test binary one of the children below instead of running tests.
const helperEnv = "SAM_TEST_HELPER"

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(helper(h))
	}
	os.Exit(m.Run())
}

// helper is a child of the in-process servers below: it initializes and registers (a
// child's Register reads the server's handshake) and plays one part.
func helper(name string) int {
	ctx := context.Background()
	s, err := Initialize(ctx, 300*time.Millisecond, Restart)
	if err != nil {
		fmt.Println("FAIL initialize", err)
		return 2
	}
	// Before Register a child works on a scratch copy, as the server's own run did.
	s.DataStore([]byte("before register"))
	iid, err := s.Register(ctx)
	if err != nil {
		fmt.Println("FAIL register", err)
		return 2
	}
	data := func() string {
		n, _ := s.DataGetSize()
		b := make([]byte, n)
		s.DataRestore(b)
		return string(b)
	}
	fmt.Printf("iid %d data %q\n", iid, data())
	if iid >= 2 {
		return 7
	}
	switch name {
	case "crash":
		s.DataStore([]byte("from 1"))
		s.Start()
		return 1
	case "hang":
		s.DataStore([]byte("hung"))
		s.Start()
		time.Sleep(time.Minute)
	case "garbage":
		s.Start()
		// A data store announcing more than MaxDataSize.
		s.toServer.Write([]byte{cmdDataStore, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
		time.Sleep(time.Minute)
	case "stopped":
		return 5
	case "hccb":
		calls := 0
		s.HCCallbackRegister(func() error {
			calls++
			s.DataStore([]byte(fmt.Sprint(calls)))
			if calls == 3 {
				return errors.New("unhealthy")
			}
			return nil
		})
		s.Start()
		time.Sleep(time.Minute)
	}
	return 2
}

// serveHelper runs Register as a server whose children are this test binary playing
// name; it returns the status the server quit with and the children's output.
func serveHelper(t *testing.T, name string) (int, string, *SAM) {
	t.Helper()
	var out bytes.Buffer
	code := -1
	s, err := Initialize(context.Background(), 300*time.Millisecond, Restart,
		WithExit(func(c int) { code = c }),
		WithCommand(func() *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+name)
			cmd.Stdout = &out
			cmd.Stderr = &out
			return cmd
		}))
	if err != nil {
		t.Fatal(err)
	}
	if s.IsChild() {
		t.Fatal("the test process must not look like a SAM child")
	}
	if err := s.DataStore([]byte("server")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.Register(ctx); !errors.Is(err, ErrServerExited) {
		t.Fatalf("Register: %v\n%s", err, out.String())
	}
	return code, out.String(), s
}

// TestRestartKeepsData: a started child that exits is a failure: the next instance
// gets the data the first stored (not the scratch data it stored before Register), and
// the server quits with the status of the instance that ends while stopped.
func TestRestartKeepsData(t *testing.T) {
	code, out, _ := serveHelper(t, "crash")
	want := "iid 1 data \"server\"\niid 2 data \"from 1\"\n"
	if out != want || code != 7 {
		t.Errorf("status %d, output:\n%s\nwant status 7 and:\n%s", code, out, want)
	}
}

// TestHealthCheckTimeout: a child that stops sending health checks is warned (SIGTERM
// ends it) and replaced.
func TestHealthCheckTimeout(t *testing.T) {
	code, out, _ := serveHelper(t, "hang")
	if want := "iid 1 data \"server\"\niid 2 data \"hung\"\n"; out != want || code != 7 {
		t.Errorf("status %d, output:\n%s\nwant status 7 and:\n%s", code, out, want)
	}
}

// TestHealthCheckCallback: event-driven checks keep the child alive until the callback
// fails (its third call), then the server's timer kills it.
func TestHealthCheckCallback(t *testing.T) {
	code, out, _ := serveHelper(t, "hccb")
	if want := "iid 1 data \"server\"\niid 2 data \"3\"\n"; out != want || code != 7 {
		t.Errorf("status %d, output:\n%s\nwant status 7 and:\n%s", code, out, want)
	}
}

// TestStoppedChildQuits: a child that ends before Start is not a failure: the server
// quits with its status.
func TestStoppedChildQuits(t *testing.T) {
	code, out, _ := serveHelper(t, "stopped")
	if want := "iid 1 data \"server\"\n"; out != want || code != 5 {
		t.Errorf("status %d, output:\n%s\nwant status 5 and:\n%s", code, out, want)
	}
}

// TestMalformedCommandKillsChild: a child whose command stream is malformed is killed,
// counted and replaced.
func TestMalformedCommandKillsChild(t *testing.T) {
	code, out, s := serveHelper(t, "garbage")
	if want := "iid 1 data \"server\"\niid 2 data \"server\"\n"; out != want || code != 7 {
		t.Errorf("status %d, output:\n%s\nwant status 7 and:\n%s", code, out, want)
	}
	if n := s.Malformed(); n != 1 {
		t.Errorf("Malformed() = %d, want 1", n)
	}
}

// TestCallsByState checks libsam's status rules (testsam's test1 and test4 outside a
// server): what each call answers before Register and after Finalize.
func TestCallsByState(t *testing.T) {
	ctx := context.Background()
	if _, err := Initialize(ctx, time.Second, 0); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("policy 0: %v", err)
	}
	if _, err := Initialize(ctx, time.Second, Quit|Restart); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("policy quit|restart: %v", err)
	}
	if _, err := Initialize(ctx, time.Second, 0x20|Quit); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("unknown flag: %v", err)
	}
	s, err := Initialize(ctx, time.Second, Restart|Cmap)
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Start": s.Start(), "Stop": s.Stop(), "HCSend": s.HCSend(), "MarkFailed": s.MarkFailed(),
		"HCCallbackRegister": s.HCCallbackRegister(func() error { return nil }),
	} {
		if !errors.Is(err, ipc.CSErrBadHandle) {
			t.Errorf("%s before Register: %v, want CS_ERR_BAD_HANDLE", name, err)
		}
	}
	// Data before Register stays in this process (test4).
	if n, err := s.DataGetSize(); n != 0 || err != nil {
		t.Errorf("DataGetSize = %d, %v", n, err)
	}
	if _, err := s.DataRestore(nil); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("DataRestore(nil): %v", err)
	}
	if n, err := s.DataRestore(make([]byte, 4)); n != 0 || err != nil {
		t.Errorf("DataRestore with nothing stored = %d, %v", n, err)
	}
	if err := s.DataStore([]byte("abcdef")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DataRestore(make([]byte, 5)); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("DataRestore into 5 bytes: %v", err)
	}
	buf := make([]byte, 10)
	if n, err := s.DataRestore(buf); n != 6 || err != nil || string(buf[:n]) != "abcdef" {
		t.Errorf("DataRestore = %d %q, %v", n, buf[:n], err)
	}
	if err := s.DataStore(nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.DataGetSize(); n != 0 {
		t.Errorf("size after storing nil = %d", n)
	}
	if err := s.DataStore(make([]byte, MaxDataSize+1)); !errors.Is(err, ipc.CSErrNoMemory) {
		t.Errorf("too large a store: %v", err)
	}
	if err := s.WarnSignalSet(syscall.SIGUSR1); err != nil {
		t.Error(err)
	}
	if err := s.Finalize(); err != nil {
		t.Fatal(err)
	}
	if err := s.Finalize(); !errors.Is(err, ipc.CSErrBadHandle) {
		t.Errorf("second Finalize: %v", err)
	}
	if _, err := s.Register(ctx); !errors.Is(err, ipc.CSErrBadHandle) {
		t.Errorf("Register after Finalize: %v", err)
	}
	if _, err := s.DataGetSize(); !errors.Is(err, ipc.CSErrBadHandle) {
		t.Errorf("DataGetSize after Finalize: %v", err)
	}
	if err := s.WarnSignalSet(syscall.SIGTERM); !errors.Is(err, ipc.CSErrBadHandle) {
		t.Errorf("WarnSignalSet after Finalize: %v", err)
	}
}

// TestBadChildEnvironment: a process that looks like a child but has no usable
// descriptors fails in Register instead of serving.
func TestBadChildEnvironment(t *testing.T) {
	for _, v := range []string{"", "3", "x,4", "3,3", "1,2", "900,901"} {
		t.Setenv(childEnv, v)
		s, err := Initialize(context.Background(), 0, Quit)
		if err != nil {
			t.Fatal(err)
		}
		if !s.IsChild() {
			t.Errorf("%q: not a child", v)
		}
		if _, ok := os.LookupEnv(childEnv); ok {
			t.Errorf("%q: %s left in the environment", v, childEnv)
		}
		if _, err := s.Register(context.Background()); !errors.Is(err, ipc.CSErrLibrary) {
			t.Errorf("%q: Register: %v, want CS_ERR_LIBRARY", v, err)
		}
	}
}

func TestPolicyValues(t *testing.T) {
	// sam.h's values.
	if Quit != 1 || Restart != 2 || Quorum != 8 || Cmap != 0x10 || QuorumQuit != 9 || QuorumRestart != 10 {
		t.Error("policy values differ from sam.h")
	}
}
