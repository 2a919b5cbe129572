package cfgsvc

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cfg"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/icmap"
	"github.com/corosync-go/corosync/l4_services/logsys"
)

// ServiceID is corosync's CFG_SERVICE.
const ServiceID = 1

// Name is the engine's name as corosync logs it.
const Name = "corosync configuration service"

// Exec message ids (corosync's MESSAGE_REQ_EXEC_CFG_*).
const (
	execKillNode = 1
	execShutdown = 2
	execReload   = 3
	// execCryptoReconfig carries a phase of a crypto change (MESSAGE_REQ_EXEC_CFG_CRYPTO_RECONFIG).
	execCryptoReconfig = 4
)

// CryptoPhase is a step of a crypto change after a reload (corosync's
// cfg_message_crypto_reconfig_phase_t): every node first loads the new configuration
// beside the old one and accepts both, then sends with the new one, then forgets the old.
type CryptoPhase uint32

// The phases, with corosync's values.
const (
	// CryptoActivate: send with the new configuration (the old one is still accepted).
	CryptoActivate CryptoPhase = 1
	// CryptoCleanup: forget the old configuration.
	CryptoCleanup CryptoPhase = 2
)

// DefaultShutdownTimeout is corosync's DEFAULT_SHUTDOWN_TIMEOUT (cfg.shutdown_timeout in
// milliseconds overrides it).
const DefaultShutdownTimeout = 5 * time.Second

// Link is one configured local link.
type Link struct {
	Number int
	Local  netip.Addr
}

// Host is what the engine needs from the daemon.
type Host interface {
	// Links are the configured local links, by number.
	Links() []Link
	// Nodes are the node ids the transport knows (this node included).
	Nodes() []uint32
	// NodeStatus is the transport's view of node; false if it does not know the node.
	NodeStatus(node uint32) (cfg.NodeStatus, bool)
	// NodeAddrs are node's configured addresses, by link; false if unknown.
	NodeAddrs(node uint32) ([]netip.Addr, bool)
	// Reload re-reads the configuration file and applies what may change at run time.
	// cryptoLoaded reports that a changed crypto configuration was loaded beside the one
	// in use; the engine then drives it through CryptoPhase.
	Reload() (status ipc.CS, cryptoLoaded bool)
	// CryptoPhase applies a phase of the crypto change loaded by Reload.
	CryptoPhase(phase CryptoPhase)
	// ReopenLogs reopens the log files.
	ReopenLogs() error
	// Shutdown leaves the ring and exits normally (after "was shut down by sysadmin").
	Shutdown()
	// Killed exits with an error: another node asked this one to die.
	Killed()
}

// Sender multicasts the engine's messages (executive.Endpoint).
type Sender interface {
	Send(msgID uint16, msg []byte, g evs.Guarantee) error
}

// Config configures the engine.
type Config struct {
	NodeID uint32
	Map    *icmap.Map
	Host   Host
	Log    *slog.Logger
}

type shutdownReply int

const (
	replyUnknown shutdownReply = iota
	replyYes
	replyNo
)

// conn is a connection's state.
type conn struct {
	c        *ipc.Conn
	tracking bool
	reply    shutdownReply
}

// Service is the cfg engine and its IPC service.
type Service struct {
	cfg  Config
	send Sender
	log  *slog.Logger

	mu        sync.Mutex
	trackers  map[*conn]bool
	shutdown  *conn // the connection whose shutdown request is pending
	flags     cfg.ShutdownFlags
	yes, no   int
	expected  int
	timer     *time.Timer
	reloads   map[uint64]*ipc.Conn
	nextToken uint64
}

// New creates the engine; Bind must give it its Sender before the executive runs.
func New(c Config) *Service {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return &Service{cfg: c, log: c.Log.With(logsys.SubsysKey, "CFG"), trackers: map[*conn]bool{}, reloads: map[uint64]*ipc.Conn{}}
}

// Bind sets the sender of the engine's ordered messages.
func (s *Service) Bind(send Sender) { s.send = send }

// ID is the engine's service id.
func (s *Service) ID() uint16 { return ServiceID }

// Name is the engine's long name.
func (s *Service) Name() string { return Name }

// IPCName is the service's IPC name; the ipc.Service's Name.
type ipcService struct{ *Service }

// IPC returns the engine's IPC service ("cfg").
func (s *Service) IPC() ipc.Service { return ipcService{s} }

func (ipcService) Name() string { return "cfg" }

func (p ipcService) Connected(c *ipc.Conn) { c.State = &conn{c: c} }

func (p ipcService) Disconnected(c *ipc.Conn) {
	s := p.Service
	ci, _ := c.State.(*conn)
	if ci == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, rc := range s.reloads {
		if rc == c {
			delete(s.reloads, tok)
		}
	}
	s.removeFromShutdown(ci)
}

func (p ipcService) Request(c *ipc.Conn, h ipc.RequestHeader, msg []byte) {
	s := p.Service
	ci, _ := c.State.(*conn)
	switch h.ID {
	case cfg.ReqRingStatusGet:
		b, err := s.ringStatus()
		s.respond(c, b, err)
	case cfg.ReqNodeStatusGet:
		req, err := cfg.DecodeNodeStatusGetRequest(msg)
		if err != nil {
			s.respondStatus(c, cfg.ResNodeStatusGet, ipc.CSErrInvalid)
			return
		}
		b, err := s.nodeStatus(req)
		s.respond(c, b, err)
	case cfg.ReqRingReenable:
		s.respondStatus(c, cfg.ResRingReenable, ipc.CSErrNotSupport)
	case cfg.ReqLocalGet:
		c.Respond(cfg.LocalGetResponse{Error: ipc.CSOk, NodeID: s.cfg.NodeID}.Encode())
	case cfg.ReqGetNodeAddrs:
		req, err := cfg.DecodeGetNodeAddrsRequest(msg)
		if err != nil {
			s.respondStatus(c, cfg.ResGetNodeAddrs, ipc.CSErrInvalid)
			return
		}
		c.Respond(s.nodeAddrs(req.NodeID))
	case cfg.ReqKillNode:
		req, err := cfg.DecodeKillNodeRequest(msg)
		if err != nil {
			s.respondStatus(c, cfg.ResKillNode, ipc.CSErrInvalid)
			return
		}
		s.respondStatus(c, cfg.ResKillNode, s.killNode(req))
	case cfg.ReqTryShutdown:
		req, err := cfg.DecodeTryShutdownRequest(msg)
		if err != nil {
			s.respondStatus(c, cfg.ResTryShutdown, ipc.CSErrInvalid)
			return
		}
		s.tryShutdown(ci, req.Flags)
	case cfg.ReqReplyToShutdown:
		req, err := cfg.DecodeReplyToShutdownRequest(msg)
		if err != nil {
			s.respondStatus(c, cfg.ResReplyToShutdown, ipc.CSErrInvalid)
			return
		}
		s.respondStatus(c, cfg.ResReplyToShutdown, s.replyToShutdown(ci, req.Response != 0))
	case cfg.ReqTrackStart:
		s.trackStart(ci)
		s.respondStatus(c, cfg.ResStateTrackStart, ipc.CSOk)
	case cfg.ReqTrackStop:
		s.mu.Lock()
		s.removeFromShutdown(ci)
		s.mu.Unlock()
		s.respondStatus(c, cfg.ResStateTrackStop, ipc.CSOk)
	case cfg.ReqReloadConfig:
		s.requestReload(c)
	case cfg.ReqReopenLogFiles:
		s.log.Debug("Reopening logging files")
		cs := ipc.CSOk
		if err := s.cfg.Host.ReopenLogs(); err != nil {
			s.log.Error("cannot reopen the log files", "err", err)
			cs = ipc.CSErrLibrary
		}
		s.respondStatus(c, cfg.ResReopenLogFiles, cs)
	default:
		// libqb answers unknown ids with an error header; corosync's dispatch does too.
		s.respondStatus(c, h.ID, ipc.CSErrInvalid)
	}
}

func (s *Service) respond(c *ipc.Conn, b []byte, err error) {
	if err != nil {
		s.log.Error("cannot encode a cfg answer", "err", err)
		s.respondStatus(c, 0, ipc.CSErrLibrary)
		return
	}
	c.Respond(b)
}

func (s *Service) respondStatus(c *ipc.Conn, id int32, cs ipc.CS) {
	c.Respond(cfg.EncodeStatusResponse(id, cs))
}

// ringStatus is knet's ring status: per configured link "<n> <addr>" and a string with a
// character per known node in id order: 'n' for this node, else '0' + (enabled |
// connected<<1 | dynconnected<<2), 'd' when the node has no such link.
func (s *Service) ringStatus() ([]byte, error) {
	links := s.cfg.Host.Links()
	nodes := s.cfg.Host.Nodes()
	res := cfg.RingStatusResponse{Error: ipc.CSOk}
	for i, l := range links {
		if i == cfg.MaxInterfaces {
			break
		}
		status := make([]byte, len(nodes))
		for j, n := range nodes {
			status[j] = 'd'
			if n == s.cfg.NodeID {
				status[j] = 'n'
				continue
			}
			ns, ok := s.cfg.Host.NodeStatus(n)
			if !ok || l.Number >= cfg.MaxLinks {
				continue
			}
			ls := ns.Links[l.Number]
			if !ls.Enabled {
				continue
			}
			v := byte(1)
			if ls.Connected {
				v |= 2
			}
			if ls.DynConnected {
				v |= 4
			}
			status[j] = '0' + v
		}
		res.Interfaces = append(res.Interfaces, cfg.Interface{Name: fmt.Sprintf("%d %s", l.Number, l.Local), Status: string(status)})
	}
	return res.Encode()
}

func (s *Service) nodeStatus(req cfg.NodeStatusGetRequest) ([]byte, error) {
	ns, ok := s.cfg.Host.NodeStatus(req.NodeID)
	if !ok {
		return cfg.NodeStatusResponse{Error: ipc.CSErrFailedOp}.Encode()
	}
	if req.Version != cfg.NodeStatusV1 {
		return cfg.NodeStatusResponse{Error: ipc.CSErrNotSupport}.Encode()
	}
	ns.NodeID = req.NodeID
	return cfg.NodeStatusResponse{Error: ipc.CSOk, Version: cfg.NodeStatusV1, Status: &ns}.Encode()
}

// nodeAddrs answers GET_NODE_ADDRS: node 0 is this node.
func (s *Service) nodeAddrs(node uint32) []byte {
	if node == 0 {
		node = s.cfg.NodeID
	}
	addrs, ok := s.cfg.Host.NodeAddrs(node)
	if !ok || len(addrs) == 0 {
		return cfg.NodeAddrsResponse{Error: ipc.CSErrNotExist}.Encode()
	}
	res := cfg.NodeAddrsResponse{Error: ipc.CSOk, Family: 2} // AF_INET
	if addrs[0].Is6() && !addrs[0].Is4In6() {
		res.Family = 10 // AF_INET6
	}
	for _, a := range addrs {
		var slot [cfg.AddrBytes]byte
		if a.Is4() {
			b := a.As4()
			copy(slot[:], b[:])
		} else {
			b := a.As16()
			copy(slot[:], b[:])
		}
		res.Addrs = append(res.Addrs, slot)
	}
	return res.Encode()
}

// killNode checks the node is a joined member, as corosync does, then multicasts the kill.
func (s *Service) killNode(req cfg.KillNodeRequest) ipc.CS {
	v, err := s.cfg.Map.Get(fmt.Sprintf("runtime.members.%d.status", req.NodeID))
	if err != nil || v.String() != "joined" {
		return ipc.CSErrNotExist
	}
	body := make([]byte, 4, 4+len(req.Reason))
	binary.LittleEndian.PutUint32(body, req.NodeID)
	body = append(body, req.Reason...)
	if err := s.send.Send(execKillNode, body, evs.Safe); err != nil {
		return ipc.CSErrTryAgain
	}
	return ipc.CSOk
}

// Deliver handles the engine's ordered messages on the executive's goroutine.
func (s *Service) Deliver(sender evs.NodeID, id uint16, msg []byte) {
	switch id {
	case execKillNode:
		if len(msg) < 4 {
			return
		}
		target := binary.LittleEndian.Uint32(msg)
		s.log.Debug(fmt.Sprintf("request to kill node %d (us=%d)", target, s.cfg.NodeID))
		if target == s.cfg.NodeID {
			s.log.Log(context.Background(), logsys.LevelNotice, fmt.Sprintf("Killed by node %d : %s", sender, msg[4:]))
			s.cfg.Host.Killed()
		}
	case execShutdown:
		s.log.Log(context.Background(), logsys.LevelNotice, fmt.Sprintf("Node %d was shut down by sysadmin", sender))
		if uint32(sender) == s.cfg.NodeID {
			s.cfg.Host.Shutdown()
		}
	case execReload:
		s.reload(sender, msg)
	case execCryptoReconfig:
		s.cryptoPhase(sender, msg)
	}
}
