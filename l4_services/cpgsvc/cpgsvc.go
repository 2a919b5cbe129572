package cpgsvc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cpg"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/executive"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

// ServiceID is corosync's CPG_SERVICE.
const ServiceID = 2

// Name is the engine's name as corosync logs it.
const Name = "corosync cluster closed process group service v1.01"

// Subsys is the engine's log subsystem.
const Subsys = "CPG"

// Sender multicasts the engine's messages in the cluster's total order (executive.Endpoint).
// SendSync is for the downlist and joinlist, which go out while the others wait for the
// synchronisation to end.
type Sender interface {
	Send(msgID uint16, msg []byte, g evs.Guarantee) error
	SendSync(msgID uint16, msg []byte, g evs.Guarantee) error
}

// Config configures the engine.
type Config struct {
	NodeID uint32
	Log    *slog.Logger
	// ShmDir is where libcpg's zero-copy files must be (/dev/shm).
	ShmDir string
}

// cpdState is corosync's enum cpd_state, one per connection.
type cpdState int

const (
	stateUnjoined cpdState = iota
	stateLeaveStarted
	stateJoinStarted
	stateJoinCompleted
)

// sink is where a connection's answers and events go (*ipc.Conn, or a test's recorder).
type sink interface {
	Respond(msg []byte) error
	Event(msg []byte) error
}

// client is corosync's struct cpg_pd: one IPC connection.
type client struct {
	out   sink
	id    uint64
	uid   uint32
	done  <-chan struct{}
	state cpdState
	group string
	pid   uint32
	flags cpg.ModelFlags
	// listed: still on the list that gets events (FINALIZE takes it off).
	listed             bool
	initialTotemSent   bool
	transition, initTr uint64
	iters              []uint64
	zc                 map[uint64]*zcMap
	// mcastBuf holds the encoding of the connection's last multicast; only its request
	// goroutine touches it, so it needs no lock.
	mcastBuf []byte
}

// proc is corosync's struct process_info: a member of a group, on any node.
type proc struct {
	node  uint32
	pid   uint32
	group string
}

// iteration is a snapshot of the process list handed out step by step.
type iteration struct {
	owner *client
	items []proc
	next  int
}

// held is a group message delivered while synchronisation runs, applied after it (only a
// peer that does not hold its messages during synchronisation can send one; see doc.go).
type held struct {
	sender uint32
	id     uint16
	msg    []byte
}

type syncPhase int

const (
	syncDownList syncPhase = iota
	syncJoinList
	syncDone
)

// Service is the cpg engine and its IPC service.
type Service struct {
	cfg  Config
	send Sender
	log  *slog.Logger

	mu      sync.Mutex
	procs   []proc    // sorted by (node, pid); equal keys in insertion order
	clients []*client // newest first, as corosync's cpg_pd_list
	iters   map[uint64]*iteration
	nextIt  uint64
	nextID  uint64
	nextZC  uint64

	// Synchronisation (corosync's my_member_list, my_old_member_list, last_sync_ring_id,
	// g_req_exec_cpg_downlist, joinlist_messages_head).
	members, oldMembers []uint32
	ring                cpg.RingID
	downlist            []uint32
	phase               syncPhase
	joinlists           []joinMsg // in arrival order; corosync prepends them, so it reads them newest first
	window              bool      // between a regular configuration and activation
	syncRing            syncRing  // the ring of the last regular configuration
	held                []held

	// BadMessages counts exec messages that did not decode (dropped).
	badMessages atomic.Uint64
}

// joinMsg is one stored joinlist entry with its sender.
type joinMsg struct {
	node uint32
	joinEntry
}

// New creates the engine; Bind gives it its Sender before the executive runs.
func New(c Config) *Service {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.ShmDir == "" {
		c.ShmDir = "/dev/shm"
	}
	return &Service{cfg: c, log: c.Log.With(logsys.SubsysKey, Subsys), iters: map[uint64]*iteration{}}
}

// Bind sets the sender of the engine's ordered messages.
func (s *Service) Bind(send Sender) { s.send = send }

// ID is the engine's service id.
func (s *Service) ID() uint16 { return ServiceID }

// Name is the engine's long name.
func (s *Service) Name() string { return Name }

// BadMessages is the number of exec messages dropped because they did not decode.
func (s *Service) BadMessages() uint64 { return s.badMessages.Load() }

// printGroup is corosync's cpg_print_group_name: printable ASCII as is, a backslash
// doubled, other bytes as \xNN.
func printGroup(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c >= ' ' && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02X`, c)
		}
	}
	return b.String()
}

// groupKey orders groups as corosync's qb_map of C strings does: by the name up to its
// first NUL.
func groupKey(g string) string {
	if i := strings.IndexByte(g, 0); i >= 0 {
		return g[:i]
	}
	return g
}

// ---- ordered messages (executive goroutine) ----

// Deliver handles one of the engine's ordered messages.
func (s *Service) Deliver(sender evs.NodeID, id uint16, msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch id {
	case execJoinList:
		r, entries, err := decodeJoinList(msg)
		if err != nil {
			s.dropBad(sender, err)
			return
		}
		if r != s.syncRing {
			s.log.Debug(fmt.Sprintf("ignoring a joinlist of node %d from an earlier synchronisation", sender))
			return
		}
		s.log.Debug(fmt.Sprintf("got joinlist message from node %d", sender))
		for _, e := range entries {
			s.joinlists = append(s.joinlists, joinMsg{node: uint32(sender), joinEntry: e})
		}
	case execDownList:
		dl, err := decodeDownList(msg)
		if err != nil {
			s.dropBad(sender, err)
			return
		}
		s.log.Debug(fmt.Sprintf("downlist left_list: %d received", len(dl.Left)))
	case execDownListOld:
		s.log.Debug(fmt.Sprintf("downlist OLD from node %d", sender))
	case execProcJoin, execProcLeave, execMcast, execPartialMcast:
		if s.window {
			s.held = append(s.held, held{sender: uint32(sender), id: id, msg: bytes.Clone(msg)})
			return
		}
		s.apply(uint32(sender), id, msg)
	default:
		s.dropBad(sender, fmt.Errorf("%w: unknown message id %d", ErrBadMessage, id))
	}
}

// debug reports whether debug lines are logged: the per-message ones are formatted only
// then.
func (s *Service) debug() bool { return s.log.Enabled(context.Background(), slog.LevelDebug) }

func (s *Service) dropBad(sender evs.NodeID, err error) {
	s.badMessages.Add(1)
	s.log.Warn("dropping a cpg message", "sender", sender, "err", err)
}

// apply runs a group message (procjoin, procleave, mcast, partial mcast).
func (s *Service) apply(sender uint32, id uint16, msg []byte) {
	switch id {
	case execProcJoin, execProcLeave:
		m, err := decodeProc(msg)
		if err != nil {
			s.dropBad(evs.NodeID(sender), err)
			return
		}
		if id == execProcJoin {
			s.log.Debug(fmt.Sprintf("got procjoin message from cluster node %d for pid %d", sender, m.PID))
			s.doProcJoin(m.Group, m.PID, sender, cpg.ReasonJoin, nil)
		} else {
			s.log.Debug(fmt.Sprintf("got procleave message from cluster node %d for pid %d", sender, m.PID))
			s.doProcLeave(m.Group, m.PID, sender, m.Reason)
		}
	case execMcast, execPartialMcast:
		m, err := decodeMcast(msg, id == execPartialMcast)
		if err != nil {
			s.dropBad(evs.NodeID(sender), err)
			return
		}
		if m.Partial && s.debug() {
			s.log.Debug(fmt.Sprintf("Got fragmented message from node %d, size = %d bytes", sender, len(m.Msg)))
		}
		s.deliverMcast(sender, m)
	}
}

func (s *Service) deliverMcast(sender uint32, m mcastMsg) {
	var ev []byte
	checked := false
	for _, c := range s.clients {
		if !c.listed || (c.state != stateLeaveStarted && c.state != stateJoinCompleted) || c.group != m.Group {
			continue
		}
		if !checked {
			checked = true
			if !slices.ContainsFunc(s.procs, func(p proc) bool { return p.node == sender && p.group == m.Group }) {
				s.log.Warn("Unknown node -> we will not deliver message")
				return
			}
			var err error
			if m.Partial {
				ev, err = cpg.PartialDeliver{Group: m.Group, MsgLen: m.MsgLen, NodeID: sender, PID: m.PID, Type: m.Type, Frag: m.Msg}.Encode()
			} else {
				ev, err = cpg.Deliver{Group: m.Group, NodeID: sender, PID: m.PID, Msg: m.Msg}.Encode()
			}
			if err != nil {
				s.log.Error("cannot encode a delivery", "err", err)
				return
			}
		}
		c.out.Event(ev)
	}
}

// groupNotify collects joins per group for one confchg each (corosync's group_notify_map).
type groupNotify map[string][]cpg.Address

// doProcJoin is corosync's do_proc_join.
func (s *Service) doProcJoin(g string, pid, node uint32, reason cpg.Reason, notify groupNotify) {
	if slices.ContainsFunc(s.procs, func(p proc) bool { return p.pid == pid && p.node == node && p.group == g }) {
		return
	}
	// Sorted insertion after every entry that is not greater, so every node holds the same
	// order.
	i := 0
	for i < len(s.procs) && !(s.procs[i].node > node || (s.procs[i].node == node && s.procs[i].pid > pid)) {
		i++
	}
	s.procs = slices.Insert(s.procs, i, proc{node: node, pid: pid, group: g})
	a := cpg.Address{NodeID: node, PID: pid, Reason: reason}
	if notify == nil {
		s.notifyJoinList(g, []cpg.Address{a}, nil)
		return
	}
	notify[g] = append(notify[g], a)
}

// doProcLeave is corosync's do_proc_leave.
func (s *Service) doProcLeave(g string, pid, node uint32, reason cpg.Reason) {
	s.notifyJoinList(g, nil, []cpg.Address{{NodeID: node, PID: pid, Reason: reason}})
	s.procs = slices.DeleteFunc(s.procs, func(p proc) bool { return p.pid == pid && p.node == node && p.group == g })
}

// notifyJoinList is corosync's notify_lib_joinlist: a confchg to the group's local
// members, the members being the process list without the left ones.
func (s *Service) notifyJoinList(g string, joined, left []cpg.Address) {
	var members []cpg.Address
	for _, p := range s.procs {
		if p.group != g || slices.ContainsFunc(left, func(a cpg.Address) bool { return a.NodeID == p.node && a.PID == p.pid }) {
			continue
		}
		members = append(members, cpg.Address{NodeID: p.node, PID: p.pid})
	}
	ev, err := cpg.ConfChg{Group: g, Members: members, Left: left, Joined: joined}.Encode()
	if err != nil {
		s.log.Error("cannot encode a confchg", "err", err)
		return
	}
	for _, a := range joined {
		if a.NodeID != s.cfg.NodeID {
			continue
		}
		for _, c := range s.clients {
			if c.listed && c.pid == a.PID && c.group == g {
				c.state = stateJoinCompleted
			}
		}
	}
	for _, c := range s.clients {
		if c.listed && c.group == g && (c.state == stateJoinCompleted || c.state == stateLeaveStarted) {
			c.out.Event(ev)
			c.transition++
		}
	}
	// corosync 3.1.7 means to reset a local process that left to UNJOINED here, but its loop
	// runs over the joined list's length, which is 0 whenever the left list is not empty:
	// a connection that left stays LEAVE_STARTED (it keeps receiving the group's events, and
	// a new join on it is refused). Kept, as libcpg programs see it.
	for _, c := range s.clients {
		if c.listed && c.flags&cpg.DeliverInitialTotemConf != 0 && !c.initialTotemSent {
			c.initialTotemSent = true
			c.out.Event(s.totemEvent(s.oldMembers))
		}
	}
}

func (s *Service) totemEvent(members []uint32) []byte {
	return cpg.TotemConfChg{RingID: s.ring, Members: slices.Clone(members)}.Encode()
}

// ---- configuration changes and synchronisation (executive goroutine) ----

// ConfChg opens the synchronisation window at every regular configuration. A window still
// open (its synchronisation was cut short) first applies what it held.
func (s *Service) ConfChg(c *evs.Configuration) {
	if c.Transitional {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushHeld()
	s.window = true
	s.joinlists = nil
	s.syncRing = syncRing{Rep: uint32(c.Ring.Rep), Seq: c.Ring.Seq, Epoch: c.Ring.Epoch}
}

func (s *Service) flushHeld() {
	h := s.held
	s.held = nil
	s.window = false
	for _, m := range h {
		s.apply(m.sender, m.id, m.msg)
	}
}

// SyncInit is corosync's cpg_sync_init: the downlist is the members of the last activated
// ring that did not come with this node into the new one.
func (s *Service) SyncInit(trans, members []evs.NodeID, ring evs.RingID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phase = syncDownList
	s.members = s.members[:0]
	for _, m := range members {
		s.members = append(s.members, uint32(m))
	}
	s.ring = cpg.RingID{NodeID: uint32(ring.Rep), Seq: ring.Seq}
	s.downlist = nil
	for _, o := range s.oldMembers {
		if !slices.Contains(trans, evs.NodeID(o)) {
			s.downlist = append(s.downlist, o)
		}
	}
}

// SyncProcess sends the downlist, then the joinlist of this node's processes.
func (s *Service) SyncProcess() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase == syncDownList {
		dl := downList{Ring: s.syncRing, OldMembers: uint32(len(s.oldMembers)), Left: s.downlist}
		if s.send.SendSync(execDownList, dl.encode(), evs.Agreed) != nil {
			return false
		}
		s.phase = syncJoinList
	}
	if s.phase == syncJoinList {
		var local []joinEntry
		for _, p := range s.procs {
			if p.node == s.cfg.NodeID {
				local = append(local, joinEntry{PID: p.pid, Group: p.group})
			}
		}
		if len(local) > 0 && s.send.SendSync(execJoinList, encodeJoinList(s.syncRing, local), evs.Agreed) != nil {
			return false
		}
		s.phase = syncDone
	}
	return true
}

// SyncActivate is corosync's cpg_sync_activate, then applies the messages held since the
// regular configuration.
func (s *Service) SyncActivate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oldMembers = slices.Clone(s.members)
	s.downlistInform()
	s.joinlistInform()
	s.joinlists = nil
	ev := s.totemEvent(s.members)
	for _, c := range s.clients {
		if c.listed {
			c.out.Event(ev)
		}
	}
	s.flushHeld()
}

// SyncAbort forgets the joinlists of a synchronisation cut short.
func (s *Service) SyncAbort() {
	s.mu.Lock()
	s.joinlists = nil
	s.mu.Unlock()
}

// downlistInform is corosync's downlist_inform_clients: one NODEDOWN confchg per group
// that had processes on the nodes that left.
func (s *Service) downlistInform() {
	s.log.Debug(fmt.Sprintf("my downlist: members(old:%d left:%d)", len(s.oldMembers), len(s.downlist)))
	left := map[string][]cpg.Address{}
	names := map[string]string{} // each key's full group name, the first process's
	var kept []proc
	for _, p := range s.procs {
		if slices.Contains(s.downlist, p.node) {
			k := groupKey(p.group)
			left[k] = append(left[k], cpg.Address{NodeID: p.node, PID: p.pid, Reason: cpg.ReasonNodeDown})
			if _, ok := names[k]; !ok {
				names[k] = p.group
			}
			continue
		}
		kept = append(kept, p)
	}
	s.procs = kept
	for _, k := range sortedKeys(names) {
		g := names[k]
		s.log.Debug(fmt.Sprintf("left_list_entries:%d", len(left[k])))
		for i, a := range left[k] {
			s.log.Debug(fmt.Sprintf("left_list[%d] group:%s, ip:%d, pid:%d", i, printGroup(g), a.NodeID, a.PID))
		}
		s.notifyJoinList(g, nil, left[k])
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// joinlistInform is corosync's joinlist_inform_clients: NODEUP confchgs for the processes
// other nodes listed, one per group, then PROCDOWN for remote processes no joinlist names.
func (s *Service) joinlistInform() {
	notify := groupNotify{}
	names := map[string]string{}
	for i := range s.joinlists {
		j := s.joinlists[len(s.joinlists)-1-i] // newest first, as corosync's list
		s.log.Debug(fmt.Sprintf("joinlist_messages[%d] group:%s, ip:%d, pid:%d", i, printGroup(j.Group), j.node, j.PID))
		if j.node == s.cfg.NodeID {
			continue
		}
		before := len(notify[j.Group])
		s.doProcJoin(j.Group, j.PID, j.node, cpg.ReasonNodeUp, notify)
		if len(notify[j.Group]) > before {
			if _, ok := names[groupKey(j.Group)]; !ok {
				names[groupKey(j.Group)] = j.Group
			}
		}
	}
	for _, k := range sortedKeys(names) {
		g := names[k]
		s.notifyJoinList(g, notify[g], nil)
	}
	// Remove remote processes no joinlist names (they left while this node was away).
	for _, p := range slices.Clone(s.procs) {
		if p.node == s.cfg.NodeID {
			continue
		}
		found := slices.ContainsFunc(s.joinlists, func(j joinMsg) bool {
			return j.node != s.cfg.NodeID && j.node == p.node && j.PID == p.pid && j.Group == p.group
		})
		if !found {
			s.doProcLeave(p.group, p.pid, p.node, cpg.ReasonProcDown)
		}
	}
}

// ---- IPC (connection goroutines) ----

// IPCName is the service's IPC name.
const IPCName = "cpg"

type ipcService struct{ *Service }

// IPC returns the engine's IPC service ("cpg").
func (s *Service) IPC() ipc.Service { return ipcService{s} }

func (ipcService) Name() string { return IPCName }

func (p ipcService) Connected(c *ipc.Conn) { c.State = p.Service.connect(c, c.Done(), c.Creds().UID) }

func (p ipcService) Disconnected(c *ipc.Conn) {
	if cl, ok := c.State.(*client); ok {
		p.Service.disconnect(cl)
	}
}

func (p ipcService) Request(c *ipc.Conn, h ipc.RequestHeader, msg []byte) {
	cl, ok := c.State.(*client)
	if !ok {
		return
	}
	if !p.Service.request(cl, h.ID, msg) {
		c.NoteInvalidRequest()
	}
}

// connect is corosync's cpg_lib_init_fn.
func (s *Service) connect(out sink, done <-chan struct{}, uid uint32) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	c := &client{out: out, id: s.nextID, done: done, uid: uid, listed: true}
	s.clients = append([]*client{c}, s.clients...)
	s.log.Debug(fmt.Sprintf("lib_init_fn: conn=%d", c.id))
	return c
}

// disconnect is corosync's cpg_lib_exit_fn: a joined process that goes away without a
// leave is announced with PROCDOWN.
func (s *Service) disconnect(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.Debug(fmt.Sprintf("exit_fn for conn=%d", c.id))
	if c.state == stateJoinStarted || c.state == stateJoinCompleted {
		s.sendLocked(execProcLeave, procMsg{Group: c.group, PID: c.pid, Reason: cpg.ReasonProcDown}.encode(), evs.Agreed)
	}
	c.listed = false
	s.clients = slices.DeleteFunc(s.clients, func(x *client) bool { return x == c })
	for _, h := range c.iters {
		delete(s.iters, h)
	}
	c.iters = nil
	s.zcFreeAll(c)
}

// sendLocked multicasts a message the engine must not lose (procjoin, procleave).
func (s *Service) sendLocked(id uint16, msg []byte, g evs.Guarantee) error {
	err := s.send.Send(id, msg, g)
	switch {
	case errors.Is(err, executive.ErrStopped):
		// The node is leaving: its processes go with it (NODEDOWN on the others).
		s.log.Debug("cpg message not sent: the ring has stopped", "id", id)
	case err != nil:
		s.log.Error("cannot send a cpg message", "id", id, "err", err)
	}
	return err
}

// request handles one libcpg request; false means the id is unknown or the message
// malformed (counted as an invalid request).
func (s *Service) request(c *client, id int32, msg []byte) bool {
	switch id {
	case cpg.ReqJoin:
		req, err := cpg.DecodeJoinRequest(msg)
		if err != nil {
			cs := ipc.CSErrInvalid
			if errors.Is(err, ipc.CSErrNameTooLong) {
				cs = ipc.CSErrNameTooLong
			}
			c.out.Respond(cpg.EncodeStatusResponse(cpg.ResJoin, cs))
			return cs == ipc.CSErrNameTooLong
		}
		c.out.Respond(cpg.EncodeStatusResponse(cpg.ResJoin, s.join(c, req)))
	case cpg.ReqLeave:
		req, err := cpg.DecodeLeaveRequest(msg)
		if err != nil {
			c.out.Respond(cpg.EncodeStatusResponse(cpg.ResLeave, ipc.CSErrInvalid))
			return false
		}
		c.out.Respond(cpg.EncodeStatusResponse(cpg.ResLeave, s.leave(c, req)))
	case cpg.ReqFinalize:
		s.mu.Lock()
		s.log.Debug(fmt.Sprintf("cpg finalize for conn=%d", c.id))
		c.listed = false
		s.mu.Unlock()
		c.out.Respond(cpg.EncodeStatusResponse(cpg.ResFinalize, ipc.CSOk))
	case cpg.ReqMcast:
		req, err := cpg.DecodeMcastRequest(msg)
		if err != nil {
			s.log.Info("invalid cpg mcast request", "conn", c.id, "err", err)
			return false
		}
		s.mcast(c, req.Guarantee, mcastMsg{Msg: req.Msg})
	case cpg.ReqPartialMcast:
		req, err := cpg.DecodePartialMcastRequest(msg)
		if err != nil {
			c.out.Respond(cpg.EncodeStatusResponse(cpg.ResPartialSend, ipc.CSErrInvalid))
			return false
		}
		c.out.Respond(cpg.EncodeStatusResponse(cpg.ResPartialSend, s.partialMcast(c, req)))
	case cpg.ReqMembership:
		req, err := cpg.DecodeMembershipRequest(msg)
		if err != nil {
			c.out.Respond(cpg.EncodeStatusResponse(0, ipc.CSErrInvalid))
			return false
		}
		s.mu.Lock()
		var members []cpg.Address
		for _, p := range s.procs {
			if p.group == req.Group && len(members) < cpg.MembershipMax {
				members = append(members, cpg.Address{NodeID: p.node, PID: p.pid})
			}
		}
		s.mu.Unlock()
		b, _ := cpg.MembershipResponse{Error: ipc.CSOk, Members: members}.Encode()
		c.out.Respond(b)
	case cpg.ReqLocalGet:
		c.out.Respond(cpg.LocalGetResponse{Error: ipc.CSOk, NodeID: s.cfg.NodeID}.Encode())
	case cpg.ReqIterationInitialize:
		req, err := cpg.DecodeIterationInitializeRequest(msg)
		if err != nil {
			c.out.Respond(cpg.EncodeStatusResponse(0, ipc.CSErrInvalid))
			return false
		}
		c.out.Respond(s.iterationInit(c, req))
	case cpg.ReqIterationNext:
		req, err := cpg.DecodeIterationNextRequest(msg)
		if err != nil {
			c.out.Respond(cpg.EncodeStatusResponse(0, ipc.CSErrInvalid))
			return false
		}
		c.out.Respond(s.iterationNext(req.Handle))
	case cpg.ReqIterationFinalize:
		req, err := cpg.DecodeIterationFinalizeRequest(msg)
		if err != nil {
			c.out.Respond(cpg.EncodeStatusResponse(0, ipc.CSErrInvalid))
			return false
		}
		c.out.Respond(cpg.EncodeStatusResponse(cpg.ResIterationFinalize, s.iterationFinalize(req.Handle)))
	case cpg.ReqZCAlloc:
		req, err := cpg.DecodeZCAllocRequest(msg)
		if err != nil {
			c.out.Respond(cpg.EncodeStatusResponse(0, ipc.CSErrInvalid))
			return false
		}
		c.out.Respond(cpg.EncodeStatusResponse(0, s.zcAlloc(c, req)))
	case cpg.ReqZCFree:
		req, err := cpg.DecodeZCFreeRequest(msg)
		if err != nil {
			c.out.Respond(cpg.EncodeStatusResponse(0, ipc.CSErrInvalid))
			return false
		}
		s.zcFree(c, req.ServerAddress)
		c.out.Respond(cpg.EncodeStatusResponse(0, ipc.CSOk))
	case cpg.ReqZCExecute:
		req, err := cpg.DecodeZCExecuteRequest(msg)
		if err != nil {
			c.out.Respond(cpg.EncodeStatusResponse(0, ipc.CSErrInvalid))
			return false
		}
		c.out.Respond(cpg.EncodeStatusResponse(cpg.ResMcast, s.zcExecute(c, req.ServerAddress)))
	default:
		// corosync's ipc_glue answers an id beyond the handlers with CS_ERR_INVALID_PARAM.
		c.out.Respond(cpg.EncodeStatusResponse(0, ipc.CSErrInvalid))
		return false
	}
	return true
}

// join is corosync's message_handler_req_lib_cpg_join.
func (s *Service) join(c *client, req cpg.JoinRequest) ipc.CS {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.clients {
		if x.pid == req.PID && x.group == req.Group {
			return ipc.CSErrExist
		}
	}
	// A leave of the same process may not be delivered yet.
	if slices.ContainsFunc(s.procs, func(p proc) bool { return p.node == s.cfg.NodeID && p.pid == req.PID && p.group == req.Group }) {
		return ipc.CSErrTryAgain
	}
	switch c.state {
	case stateLeaveStarted:
		return ipc.CSErrBusy
	case stateJoinStarted, stateJoinCompleted:
		return ipc.CSErrExist
	}
	if s.sendLocked(execProcJoin, procMsg{Group: req.Group, PID: req.PID, Reason: cpg.ReasonJoin}.encode(), evs.Agreed) != nil {
		return ipc.CSErrTryAgain
	}
	c.state = stateJoinStarted
	c.pid = req.PID
	c.flags = req.Flags
	c.group = req.Group
	return ipc.CSOk
}

// leave is corosync's message_handler_req_lib_cpg_leave: the procleave names the group
// and pid of the request.
func (s *Service) leave(c *client, req cpg.LeaveRequest) ipc.CS {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.Debug(fmt.Sprintf("got leave request on conn=%d", c.id))
	switch c.state {
	case stateUnjoined, stateLeaveStarted:
		return ipc.CSErrNotExist
	case stateJoinStarted:
		return ipc.CSErrBusy
	}
	if s.sendLocked(execProcLeave, procMsg{Group: req.Group, PID: req.PID, Reason: cpg.ReasonLeave}.encode(), evs.Agreed) != nil {
		return ipc.CSErrTryAgain
	}
	c.state = stateLeaveStarted
	return ipc.CSOk
}

// canSend is the mcast state table: joined or joining.
func canSend(st cpdState) bool { return st == stateJoinStarted || st == stateJoinCompleted }

// guarantee maps libcpg's guarantee onto the ring's: SAFE is delivered safe, everything
// else agreed (corosync 3.1.7 delivers everything agreed).
func guarantee(g cpg.Guarantee) evs.Guarantee {
	if g == cpg.TypeSafe {
		return evs.Safe
	}
	return evs.Agreed
}

// mcast is corosync's message_handler_req_lib_cpg_mcast: no answer. When the ring's queue
// is full the connection waits for room (the client's requests back up, and libcpg sees
// CS_ERR_TRY_AGAIN) instead of losing the message.
func (s *Service) mcast(c *client, g cpg.Guarantee, m mcastMsg) ipc.CS {
	s.mu.Lock()
	if !canSend(c.state) {
		s.log.Error(fmt.Sprintf("*** conn=%d can't mcast to group %s state:%d, error:%d", c.id, printGroup(c.group), c.state, ipc.CSErrNotExist))
		s.mu.Unlock()
		return ipc.CSErrNotExist
	}
	m.Group, m.PID, m.Source = c.group, c.pid, source{NodeID: s.cfg.NodeID, Conn: c.id}
	s.mu.Unlock()
	id := uint16(execMcast)
	if m.Partial {
		id = execPartialMcast
	}
	c.mcastBuf = m.appendTo(c.mcastBuf[:0])
	return s.sendWaiting(c, id, c.mcastBuf, guarantee(g))
}

// partialMcast is corosync's message_handler_req_lib_cpg_partial_mcast: a fragment whose
// message saw a confchg since its first fragment is refused with CS_ERR_INTERRUPT.
func (s *Service) partialMcast(c *client, req cpg.PartialMcastRequest) ipc.CS {
	if s.debug() {
		s.log.Debug(fmt.Sprintf("Sending fragmented message size = %d bytes", len(req.Frag)))
	}
	s.mu.Lock()
	cs := ipc.CSOk
	if !canSend(c.state) {
		cs = ipc.CSErrNotExist
	}
	if req.Type == cpg.PartialFirst {
		c.initTr = c.transition
	}
	if c.transition != c.initTr {
		cs = ipc.CSErrInterrupt
	}
	if cs != ipc.CSOk {
		s.log.Error(fmt.Sprintf("*** conn=%d can't mcast to group %s state:%d, error:%d", c.id, printGroup(c.group), c.state, cs))
	}
	s.mu.Unlock()
	if cs != ipc.CSOk {
		return cs
	}
	return s.mcast(c, req.Guarantee, mcastMsg{Partial: true, MsgLen: req.MsgLen, Type: req.Type, Msg: req.Frag})
}

// sendWaitPoll is how often a multicast waiting for room in the ring's queue tries again,
// and sendWaitWarn how long it waits before saying so.
const (
	sendWaitPoll = time.Millisecond
	sendWaitWarn = 10 * time.Second
)

// sendWaiting sends msg, waiting while the ring's queue is full: the message was taken off
// the client's request ring, so it is never dropped. The connection's requests back up
// meanwhile and the client sees CS_ERR_TRY_AGAIN, as with corosync's flow control. It
// gives up only when the client goes or the ring stops.
func (s *Service) sendWaiting(c *client, id uint16, msg []byte, g evs.Guarantee) ipc.CS {
	var poll *time.Timer
	start := time.Time{}
	for {
		err := s.send.Send(id, msg, g)
		switch {
		case err == nil:
			return ipc.CSOk
		case errors.Is(err, executive.ErrMessageTooLarge):
			return ipc.CSErrTooBig
		case !isTryAgain(err):
			s.log.Error("cannot multicast a cpg message", "conn", c.id, "err", err)
			return ipc.CSErrLibrary
		}
		if poll == nil {
			poll, start = time.NewTimer(sendWaitPoll), time.Now()
			defer poll.Stop()
		} else {
			if !start.IsZero() && time.Since(start) > sendWaitWarn {
				s.log.Warn("a cpg multicast has waited 10 s for room in the ring's queue", "conn", c.id)
				start = time.Time{}
			}
			poll.Reset(sendWaitPoll)
		}
		select {
		case <-c.done:
			return ipc.CSErrLibrary
		case <-poll.C:
		}
	}
}

func isTryAgain(err error) bool { return errors.Is(err, executive.ErrTryAgain) }
