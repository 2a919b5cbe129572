package ipc

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

// burstService answers every request and, for request id 5, first queues the number of
// 60 KiB events the request's body asks for.
type burstService struct {
	name  string
	conns chan *Conn
}

func (s burstService) Name() string       { return s.name }
func (s burstService) Connected(c *Conn)  { s.conns <- c }
func (s burstService) Disconnected(*Conn) {}
func (s burstService) Request(c *Conn, h RequestHeader, msg []byte) {
	if h.ID == 5 && len(msg) >= 20 {
		for range binary.LittleEndian.Uint32(msg[16:]) {
			ev := make([]byte, 60<<10)
			PutResponseHeader(ev, 9, CSOk)
			c.Event(ev)
		}
	}
	b := make([]byte, ResponseHeaderBytes)
	PutResponseHeader(b, h.ID, CSOk)
	c.Respond(b)
}

func serveBurst(t *testing.T, transport string) (burstService, *Server) {
	t.Helper()
	svc := burstService{fmt.Sprintf("cgtest-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-")), make(chan *Conn, 4)}
	srv := NewServer(Config{Transport: transport, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SendTimeout: 10 * time.Second})
	ln, err := srv.Listen(svc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeOn(ctx, ln, svc) }()
	t.Cleanup(func() {
		cancel()
		<-done
		waitShmClean(t)
	})
	return svc, srv
}

func burstRequest(id int32, events uint32) []byte {
	b := make([]byte, 24)
	PutRequestHeader(b, id)
	binary.LittleEndian.PutUint32(b[16:], events)
	return b
}

// waitConns polls Connections until ok accepts them (bounded).
func waitConns(t *testing.T, srv *Server, ok func([]ConnStats) bool) []ConnStats {
	t.Helper()
	var cs []ConnStats
	for range 500 {
		if cs = srv.Connections(); ok(cs) {
			return cs
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("connections never as expected: %+v", cs)
	return nil
}

// TestConnectionStats: a connection appears with the client's pid and command name and
// corosync's service number, counts requests, responses, events and flow-control changes,
// and disappears when the client goes.
func TestConnectionStats(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			svc, srv := serveBurst(t, tr)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := Dial(ctx, svc.name)
			if err != nil {
				t.Fatal(err)
			}
			conn := <-svc.conns
			for range 7 {
				if _, err := c.Request(ctx, burstRequest(1, 0)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.Request(ctx, burstRequest(5, 3)); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := c.Event(ctx); err != nil {
					t.Fatal(err)
				}
			}
			conn.SetFlowControl(1)
			conn.SetFlowControl(1) // no change: not counted
			conn.SetFlowControl(2)
			conn.NoteInvalidRequest()
			conn.NoteOverload()
			conn.NoteOverload()
			// The counts move just after the client has what they count: wait for them.
			cs := waitConns(t, srv, func(cs []ConnStats) bool {
				return len(cs) == 1 && cs[0].Dispatched == 3 && cs[0].Responses == 8
			})
			st := cs[0]
			self, err := os.ReadFile("/proc/self/stat")
			if err != nil {
				t.Fatal(err)
			}
			comm, _ := parseProcStatName(self)
			want := ConnStats{
				Service: svc.name, ServiceNumber: -1, ID: st.ID, PID: int32(os.Getpid()), ProcName: comm,
				Requests: 8, Responses: 8, Dispatched: 3, FlowControl: 2, FlowControlCount: 2,
				Sent: 3, InvalidRequests: 1, Overloads: 2,
			}
			if st != want {
				t.Errorf("stats\n got %+v\nwant %+v", st, want)
			}
			if st.ID == 0 || comm == "" {
				t.Errorf("id %d, command name %q", st.ID, comm)
			}

			// A second connection gets a new id; clearing zeroes the counters, not the level.
			c2, err := Dial(ctx, svc.name)
			if err != nil {
				t.Fatal(err)
			}
			<-svc.conns
			cs = waitConns(t, srv, func(cs []ConnStats) bool { return len(cs) == 2 })
			if cs[1].ID <= cs[0].ID {
				t.Errorf("ids %d then %d", cs[0].ID, cs[1].ID)
			}
			srv.ClearConnectionStats()
			cs = srv.Connections()
			if cs[0].Requests != 0 || cs[0].Responses != 0 || cs[0].Dispatched != 0 || cs[0].FlowControl != 0 || cs[0].FlowControlCount != 0 || cs[0].Sent != 0 || cs[0].Overloads != 0 {
				t.Errorf("after clear: %+v", cs[0])
			}
			conn.SetFlowControl(0)
			if got := srv.Connections()[0]; got.FlowControl != 0 || got.FlowControlCount != 1 {
				t.Errorf("a change after the clear: %+v", got)
			}

			c.Close()
			c2.Close()
			waitConns(t, srv, func(cs []ConnStats) bool { return len(cs) == 0 })
		})
	}
}

// TestEventQueueing: events for a client that does not read them queue (corosync's outq:
// queueing, queued, send_retries); once it reads them all, the episode ends and sent
// starts again from zero.
func TestEventQueueing(t *testing.T) {
	svc, srv := serveBurst(t, "shm")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, svc.name)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-svc.conns
	// 40 events of 60 KiB do not fit the 1 MiB event ring.
	const events = 40
	if _, err := c.Request(ctx, burstRequest(5, events)); err != nil {
		t.Fatal(err)
	}
	st := waitConns(t, srv, func(cs []ConnStats) bool { return len(cs) == 1 && cs[0].Queueing && cs[0].SendRetries > 0 })[0]
	if st.Queued == 0 || st.Queued > events || st.Dispatched+uint64(st.Queued) != events {
		t.Errorf("queueing with %d queued and %d delivered of %d", st.Queued, st.Dispatched, events)
	}
	if st.Sent != 0 {
		t.Errorf("sent %d: it starts again from zero when queueing begins", st.Sent)
	}
	for range events {
		if _, err := c.Event(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st = waitConns(t, srv, func(cs []ConnStats) bool { return len(cs) == 1 && cs[0].Dispatched == events })[0]
	if st.Queueing || st.Queued != 0 || st.Sent != 0 {
		t.Errorf("after the queue drained: %+v", st)
	}
	if _, err := c.Request(ctx, burstRequest(5, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Event(ctx); err != nil {
		t.Fatal(err)
	}
	st = waitConns(t, srv, func(cs []ConnStats) bool { return len(cs) == 1 && cs[0].Dispatched == events+1 })[0]
	if st.Queueing || st.Sent != 1 {
		t.Errorf("an event sent at once: %+v", st)
	}
}

func TestServiceNumber(t *testing.T) {
	for name, want := range map[string]int{"cmap": 0, "cfg": 1, "cpg": 2, "quorum": 3, "votequorum": 5} {
		if got, ok := ServiceNumber(name); !ok || got != want {
			t.Errorf("%s: %d %v, want %d", name, got, ok, want)
		}
	}
	if _, ok := ServiceNumber("pload"); ok {
		t.Error("pload has no IPC name")
	}
}

func TestParseProcStatName(t *testing.T) {
	long := strings.Repeat("x", 40)
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"702 (corosync-cmapct) S 1 702 702 0 -1 4194560\n", "corosync-cmapct", true},
		{"9 (a b) S 1\n", "a b", true},
		{"9 (a) b) S 1\n", "a) b", true}, // the last ')' ends the name
		{"9 ((x)) R 0\n", "x)", true},    // the last '(' starts it, as strrchr does
		{"9 (" + long + ") R 0\n", long[:31], true},
		{"9 () R 0\n", "", true},
		{"9 x) R 0\n", "", false},
		{"9 (x R 0\n", "", false},
		{"9 (x)R 0\n", "", false},
		{"9 (x)", "", false},
		{"9 (x) R\x00 (y) S\n", "x", true}, // a C string ends at its NUL
		{"9 (x) R\n(y) S\n", "x", true},    // one line only
		{strings.Repeat("1", 250) + " (abc) R\n", "", false},
		{"", "", false},
	} {
		got, err := parseProcStatName([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseProcStatName(f *testing.F) {
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("702 (corosync-cmapct) S 1 702 702 0 -1 4194560 137 0 0 0 0 0 0 0 20 0 1 0\n"))
	f.Add([]byte("1 ((sd-pam)) S 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, err := parseProcStatName(b)
		if err != nil {
			return
		}
		if len(name) > procNameBytes-1 || strings.ContainsRune(name, 0) {
			t.Fatalf("%q gave %q", b, name)
		}
	})
}

// TestConnectionsChangedHook: the hook runs once a connection is visible to Connections
// and again once it has left, so a stats reader called from it sees the change.
func TestConnectionsChangedHook(t *testing.T) {
	svc := burstService{fmt.Sprintf("cghook-%d", os.Getpid()), make(chan *Conn, 4)}
	seen := make(chan int, 4)
	var srv *Server
	srv = NewServer(Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ConnectionsChanged: func() { seen <- len(srv.Connections()) }})
	ln, err := srv.Listen(svc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.ServeOn(ctx, ln, svc) }()
	defer func() { cancel(); <-done; waitShmClean(t) }()
	next := func() int {
		select {
		case n := <-seen:
			return n
		case <-time.After(5 * time.Second):
			t.Fatal("ConnectionsChanged was not called")
			return -1
		}
	}
	c, err := Dial(ctx, svc.name)
	if err != nil {
		t.Fatal(err)
	}
	if n := next(); n != 1 {
		t.Fatalf("after connecting, the hook saw %d connections", n)
	}
	c.Close()
	if n := next(); n != 0 {
		t.Fatalf("after closing, the hook saw %d connections", n)
	}
}
