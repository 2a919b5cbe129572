package executive

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

// syncState is corosync's sync.c: every service initialised at once, then processed and
// activated one at a time, in id order.
type syncState struct {
	running    bool
	ring       evs.RingID
	members    []evs.NodeID
	trans      []evs.NodeID
	haveTrans  bool
	index      int  // service being synchronised
	processing bool // SyncProcess has not said done yet
	// barriers[i] holds the members whose barrier for service i was delivered; barriers
	// of faster members can arrive before this node reaches i.
	barriers map[int]map[evs.NodeID]bool
}

// barrierBytes: ring rep u32, ring seq u64, ring epoch u32, service index u16.
const barrierBytes = 4 + 8 + 4 + 2

func (x *Executive) syncStart(c *evs.Configuration) {
	s := &x.sync
	if s.running && s.index < len(x.syncers) {
		x.syncLog.Debug(fmt.Sprintf("Aborting synchronization for %s", x.names[s.index]))
		x.syncers[s.index].SyncAbort()
	}
	if !s.haveTrans {
		s.trans = s.trans[:0]
	}
	s.haveTrans = false
	s.running = true
	s.ring = c.Ring
	s.members = append(s.members[:0], c.Members...)
	s.index = 0
	s.barriers = map[int]map[evs.NodeID]bool{}
	// As corosync's sync_process_call_init: every service's init at once, then each
	// service's process and barrier in turn.
	x.syncLog.Debug("call init for locally known services")
	for _, e := range x.syncers {
		e.SyncInit(slices.Clone(s.trans), slices.Clone(s.members), s.ring)
	}
	x.syncEnter()
}

// syncEnter starts the service at s.index, or completes.
func (x *Executive) syncEnter() {
	s := &x.sync
	if s.index >= len(x.syncers) {
		s.running = false
		x.log.Log(context.Background(), logsys.LevelNotice, "Completed service synchronization, ready to provide service.")
		// corosync's totempg_trans_ack: the messages held since the ring formed may go.
		x.node.ReleaseSync(s.ring)
		x.readyOnce.Do(func() { close(x.ready) })
		return
	}
	s.processing = true
	x.syncProcess()
}

// syncProcess lets the current service work; once it is done, its barrier goes out.
func (x *Executive) syncProcess() {
	s := &x.sync
	if !s.running || !s.processing || s.index >= len(x.syncers) {
		return
	}
	if !x.syncers[s.index].SyncProcess() {
		return
	}
	s.processing = false
	b := make([]byte, barrierBytes)
	binary.LittleEndian.PutUint32(b[0:], uint32(s.ring.Rep))
	binary.LittleEndian.PutUint64(b[4:], s.ring.Seq)
	binary.LittleEndian.PutUint32(b[12:], s.ring.Epoch)
	binary.LittleEndian.PutUint16(b[16:], uint16(s.index))
	// The barrier bypasses the submit queue's limit: synchronisation must not stall
	// behind application traffic.
	x.mu.Lock()
	x.syncQueue = append(x.syncQueue, queued{service: syncService, g: evs.Agreed, msg: b})
	x.queueBytes += len(b)
	x.mu.Unlock()
	x.syncBarrierReached()
}

// barrier records a member's barrier.
func (x *Executive) barrier(sender evs.NodeID, b []byte) {
	s := &x.sync
	if len(b) != barrierBytes || !s.running {
		return
	}
	ring := evs.RingID{
		Rep:   evs.NodeID(binary.LittleEndian.Uint32(b[0:])),
		Seq:   binary.LittleEndian.Uint64(b[4:]),
		Epoch: binary.LittleEndian.Uint32(b[12:]),
	}
	if ring != s.ring {
		return // from a configuration that has ended
	}
	i := int(binary.LittleEndian.Uint16(b[16:]))
	if s.barriers[i] == nil {
		s.barriers[i] = map[evs.NodeID]bool{}
	}
	s.barriers[i][sender] = true
	x.syncBarrierReached()
}

// syncBarrierReached activates the current service once every member's barrier for it
// has been delivered, and moves on.
func (x *Executive) syncBarrierReached() {
	s := &x.sync
	for s.running && !s.processing && s.index < len(x.syncers) {
		got := s.barriers[s.index]
		for _, m := range s.members {
			if !got[m] {
				return
			}
		}
		x.syncLog.Debug(fmt.Sprintf("Committing synchronization for %s", x.names[s.index]))
		x.syncers[s.index].SyncActivate()
		s.index++
		x.syncEnter()
	}
}
