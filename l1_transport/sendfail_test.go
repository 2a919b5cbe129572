package transport

import (
	"errors"
	"sync/atomic"
	"testing"

	link "github.com/corosync-go/corosync/l0_link"
)

// refusingLink refuses every send while refuse is set, as a link behind a firewall rule
// or on an interface that went down does.
type refusingLink struct {
	link.Link
	refuse atomic.Bool
}

var errRefused = errors.New("operation not permitted")

func (l *refusingLink) Send(msgs []link.Message) (int, error) {
	if l.refuse.Load() {
		return 0, errRefused
	}
	return l.Link.Send(msgs)
}

// TestContinuousSendFailures: refused packets add up while the link refuses, and the run
// ends with the first batch that goes out whole (corosync's continuous_sendmsg_failures).
func TestContinuousSendFailures(t *testing.T) {
	var refusing *refusingLink
	c := newCluster(t, 2, 1, func(node int, cfg *Config) {
		if node == 1 {
			refusing = &refusingLink{Link: cfg.Links[0].Link}
			cfg.Links[0].Link = refusing
		}
	})
	tr := c.nodes[0]
	refusing.refuse.Store(true)
	for range 40 {
		tr.Send([]Packet{{To: 2, Data: []byte("refused")}})
	}
	if got := tr.ContinuousSendFailures(); got < 40 {
		t.Fatalf("after 40 refused sends: %d continuous failures", got)
	}
	refusing.refuse.Store(false)
	tr.Send([]Packet{{To: 2, Data: []byte("accepted")}})
	if got := tr.ContinuousSendFailures(); got != 0 {
		t.Fatalf("after a send went out: %d continuous failures, want 0", got)
	}
}
