package cmap

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/corosync-go/corosync/ipc/refcorosync"
)

// testCtx bounds each integration step.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial connects to the reference daemon from inside its namespace; the client is closed
// at the end of the test.
func dial(t *testing.T, ref *refcorosync.Instance, m *Map) *Client {
	t.Helper()
	ctx := testCtx(t)
	var c *Client
	err := ref.Do(func() (err error) {
		if m == nil {
			c, err = Dial(ctx)
		} else {
			c, err = DialMap(ctx, *m)
		}
		return err
	})
	if err != nil {
		t.Fatalf("dial cmap: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// cmapctl runs Debian's corosync-cmapctl inside the reference's namespace.
func cmapctl(t *testing.T, ref *refcorosync.Instance, args ...string) string {
	t.Helper()
	out, err := ref.Command("corosync-cmapctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("corosync-cmapctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// listing prints keys with their values the way corosync-cmapctl does.
func listing(t *testing.T, ctx context.Context, c *Client, prefix string) string {
	t.Helper()
	entries, err := c.Iter(ctx, prefix)
	if err != nil {
		t.Fatalf("iter %q: %v", prefix, err)
	}
	var b strings.Builder
	for _, e := range entries {
		v, err := c.Get(ctx, e.Key)
		if err != nil {
			t.Fatalf("get %q: %v", e.Key, err)
		}
		if v.Type() != e.Type || uint64(v.Len()) != e.Len {
			t.Errorf("%s: iteration says %s of %d bytes, get returns %s of %d", e.Key, e.Type, e.Len, v.Type(), v.Len())
		}
		if v.Type() == TypeBinary {
			fmt.Fprintf(&b, "%s (%s)\n", e.Key, v.Type())
			continue
		}
		fmt.Fprintf(&b, "%s (%s) = %s\n", e.Key, v.Type(), v)
	}
	return b.String()
}

// keyTypes keeps the "key (type)" part of corosync-cmapctl's lines.
func keyTypes(listing string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(listing), "\n") {
		if i := strings.Index(line, ")"); i >= 0 {
			line = line[:i+1]
		}
		out = append(out, line)
	}
	return out
}

// collect waits for n notifications, failing the test after a few seconds.
func collect(t *testing.T, c *Client, n int) []Notification {
	t.Helper()
	var got []Notification
	timeout := time.After(5 * time.Second)
	for len(got) < n {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("events closed after %d of %d notifications", len(got), n)
			}
			got = append(got, ev)
		case <-timeout:
			t.Fatalf("got %d of %d notifications: %+v", len(got), n, got)
		}
	}
	return got
}

// quiet checks that no notification arrives for a while.
func quiet(t *testing.T, c *Client, d time.Duration) {
	t.Helper()
	select {
	case ev := <-c.Events():
		t.Fatalf("unexpected notification %+v", ev)
	case <-time.After(d):
	}
}
