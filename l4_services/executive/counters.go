package executive

import (
	"context"
	"sort"
)

// ServiceCounter is the number of messages of one id an engine sent and received
// (corosync's runtime.services.<name>.<id>.tx/rx).
type ServiceCounter struct {
	Service, MsgID uint16
	TX, RX         uint64
}

// counters belong to the executive's goroutine: messages are counted where the loop
// hands them to the ring (tx) and to the engines (rx), so no lock is taken per message.
type counters map[uint32]*ServiceCounter

func (c counters) add(service, id uint16, tx bool) {
	if service == syncService {
		return
	}
	k := uint32(service)<<16 | uint32(id)
	sc := c[k]
	if sc == nil {
		sc = &ServiceCounter{Service: service, MsgID: id}
		c[k] = sc
	}
	if tx {
		sc.TX++
	} else {
		sc.RX++
	}
}

// Counters returns the per-message-id counters, sorted by service and id, read on the
// executive's goroutine.
func (x *Executive) Counters(ctx context.Context) ([]ServiceCounter, error) {
	var out []ServiceCounter
	err := x.Do(ctx, func() {
		out = make([]ServiceCounter, 0, len(x.counters))
		for _, sc := range x.counters {
			out = append(out, *sc)
		}
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].MsgID < out[j].MsgID
	})
	return out, err
}
