package executive

import (
	"sort"
	"sync"
)

// ServiceCounter is the number of messages of one id an engine sent and received
// (corosync's runtime.services.<name>.<id>.tx/rx).
type ServiceCounter struct {
	Service, MsgID uint16
	TX, RX         uint64
}

type counters struct {
	mu sync.Mutex
	m  map[uint32]*ServiceCounter
}

func (c *counters) init() { c.m = map[uint32]*ServiceCounter{} }

func (c *counters) add(service, id uint16, tx bool) {
	if service == syncService {
		return
	}
	c.mu.Lock()
	k := uint32(service)<<16 | uint32(id)
	sc := c.m[k]
	if sc == nil {
		sc = &ServiceCounter{Service: service, MsgID: id}
		c.m[k] = sc
	}
	if tx {
		sc.TX++
	} else {
		sc.RX++
	}
	c.mu.Unlock()
}

// Counters returns the per-message-id counters, sorted by service and id.
func (x *Executive) Counters() []ServiceCounter {
	x.counters.mu.Lock()
	out := make([]ServiceCounter, 0, len(x.counters.m))
	for _, sc := range x.counters.m {
		out = append(out, *sc)
	}
	x.counters.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].MsgID < out[j].MsgID
	})
	return out
}
