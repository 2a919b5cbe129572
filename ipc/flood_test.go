package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// TestFloodingClients: a client that sends requests without reading the responses, and a
// client that tracks keys without reading the events, are disconnected, while a
// well-behaved client is served throughout.
func TestFloodingClients(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { testFloodingClients(t, tr) })
	}
}

func testFloodingClients(t *testing.T, transport string) {
	stub, srv := inProcessCmap(t, transport)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func() *Client {
		c, err := Dial(ctx, stub.name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	good := dial()
	longest := time.Duration(0)
	check := func() {
		t.Helper()
		start := time.Now()
		resp, err := good.Request(ctx, cmapGet("totem.token", 4))
		if err != nil {
			t.Fatalf("the good client failed: %v", err)
		}
		if ResponseError(resp) != CSOk && ResponseError(resp) != CSErrNotExist {
			t.Fatalf("the good client got %v", ResponseError(resp))
		}
		longest = max(longest, time.Since(start))
	}
	good.Request(ctx, cmapSetU32("totem.token", 1))

	// Requests whose responses are never read: a legitimate client has one outstanding.
	flooder := dial()
	var floodErr error
	sent := 0
	for ; sent < 200000; sent++ {
		if floodErr = flooder.Send(cmapGet("totem.token", 4)); floodErr != nil && !errors.Is(floodErr, ErrTryAgain) {
			break
		}
		if sent%1000 == 0 {
			check()
		}
	}
	t.Logf("flooder stopped after %d requests: %v", sent, floodErr)
	if !errors.Is(floodErr, ErrDisconnected) && !errors.Is(floodErr, ErrTryAgain) {
		t.Fatalf("flooder: %v after %d requests, want a disconnection", floodErr, sent)
	}

	// Events never read.
	deaf := dial()
	track := make([]byte, 304)
	binary.LittleEndian.PutUint32(track, 7) // TRACK_ADD
	putCmapName(track, 16, "flood.")
	binary.LittleEndian.PutUint32(track[280:], 4|2|8) // ADD|MODIFY|PREFIX
	if resp, err := deaf.Request(ctx, track); err != nil || ResponseError(resp) != CSOk {
		t.Fatalf("track: %v %v", err, ResponseError(resp))
	}
	for i := 0; i < 3*DefaultEventQueueMessages && srv.Stats().Active > 1; i++ {
		if resp, err := good.Request(ctx, cmapSetU32("flood.key", uint32(i))); err != nil || ResponseError(resp) != CSOk {
			t.Fatalf("the good client's set %d failed: %v", i, err)
		}
	}
	for i := 0; i < 100 && srv.Stats().Active > 1; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if a := srv.Stats().Active; a != 1 {
		t.Fatalf("%d connections active, want only the good one", a)
	}
	check()
	t.Logf("longest good request during the floods: %v", longest)
}
