package cfg

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/corosync-go/corosync/ipc"
	"golang.org/x/sys/unix"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("cfg: client closed")

// eventQueue is how many shutdown events wait in Events before the reader stops taking
// events from the daemon.
const eventQueue = 16

// ShutdownEvent is a shutdown request delivered to tracking clients (the
// corosync_cfg_shutdown_callback). Status is ipc.CSOk for a request to answer with
// ReplyToShutdown, ipc.CSErrTimeout when the daemon gave up waiting for answers.
type ShutdownEvent struct {
	Flags  ShutdownFlags
	Status ipc.CS
}

// Client is a connection to the cfg service, the Go counterpart of a libcfg handle. Its
// methods may be called from several goroutines; requests are serialised, so a
// TryShutdown waiting for the tracking clients' answers holds up this client's other calls.
type Client struct {
	conn   *ipc.Client
	events *ipc.EventPump[ShutdownEvent]

	mu     sync.Mutex
	closed bool
}

// Dial connects to the cfg service (corosync_cfg_initialize).
func Dial(ctx context.Context) (*Client, error) {
	conn, err := ipc.Dial(ctx, "cfg")
	if err != nil {
		return nil, err
	}
	c := &Client{conn: conn, events: ipc.StartEvents(conn, eventQueue, decodeEvent)}
	return c, nil
}

// Events returns the channel of shutdown requests, which arrive after TrackStart. It is
// closed when the client is closed or the daemon goes away. Keep reading it while
// tracking: the daemon drops a client whose event queue overflows.
func (c *Client) Events() <-chan ShutdownEvent { return c.events.C() }

// Close disconnects. Like corosync_cfg_finalize it sends nothing; a tracking client that
// leaves counts as agreeing to a pending shutdown. Close is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.events.Stop()
	return c.conn.Close()
}

// decodeEvent turns a TEST_SHUTDOWN event into a ShutdownEvent.
func decodeEvent(_ context.Context, msg []byte) (ShutdownEvent, bool) {
	ev, err := DecodeTestShutdown(msg)
	if err != nil {
		return ShutdownEvent{}, false
	}
	return ShutdownEvent{Flags: ev.Flags, Status: ev.Error}, true
}

// call sends one request and returns its response (valid until the next call) after
// checking its code: a non-OK code is returned as the error.
func (c *Client) call(ctx context.Context, req []byte) ([]byte, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	res, err := c.conn.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	if cs := ipc.ResponseError(res); cs != ipc.CSOk {
		return nil, cs
	}
	return res, nil
}

// status sends a request answered by a bare header.
func (c *Client) status(ctx context.Context, req []byte, resID int32) error {
	res, err := c.call(ctx, req)
	if err != nil {
		return err
	}
	_, err = DecodeStatusResponse(res, resID)
	return err
}

// LocalNodeID returns the local node's id (corosync_cfg_local_get).
func (c *Client) LocalNodeID(ctx context.Context) (uint32, error) {
	res, err := c.call(ctx, EncodeHeaderRequest(ReqLocalGet))
	if err != nil {
		return 0, err
	}
	r, err := DecodeLocalGetResponse(res)
	return r.NodeID, err
}

// NodeStatus returns knet's view of a node (corosync_cfg_node_status_get with
// CFG_NODE_STATUS_V1). The daemon answers CS_ERR_FAILED_OPERATION (ipc.CS(21)) for a
// node knet does not know.
func (c *Client) NodeStatus(ctx context.Context, nodeID uint32) (NodeStatus, error) {
	res, err := c.call(ctx, NodeStatusGetRequest{NodeID: nodeID, Version: NodeStatusV1}.Encode())
	if err != nil {
		return NodeStatus{}, err
	}
	r, err := DecodeNodeStatusResponse(res)
	if err != nil {
		return NodeStatus{}, err
	}
	if r.Version != NodeStatusV1 || r.Status == nil {
		return NodeStatus{}, fmt.Errorf("cfg: node status of version %d: %w", r.Version, ipc.CSErrNotSupport)
	}
	return *r.Status, nil
}

// RingStatus returns the local node's links as corosync-cfgtool -s reads them
// (corosync_cfg_ring_status_get).
func (c *Client) RingStatus(ctx context.Context) ([]Interface, error) {
	res, err := c.call(ctx, EncodeHeaderRequest(ReqRingStatusGet))
	if err != nil {
		return nil, err
	}
	r, err := DecodeRingStatusResponse(res)
	return r.Interfaces, err
}

// NodeAddrs returns a node's addresses, one per link (corosync_cfg_get_node_addrs;
// nodeID 0 is the local node). An all-zero slot, which libcfg marks unused, is returned
// as the zero netip.Addr. An unknown node gives ipc.CSErrNotExist.
func (c *Client) NodeAddrs(ctx context.Context, nodeID uint32) ([]netip.Addr, error) {
	res, err := c.call(ctx, GetNodeAddrsRequest{NodeID: nodeID}.Encode())
	if err != nil {
		return nil, err
	}
	r, err := DecodeNodeAddrsResponse(res)
	if err != nil {
		return nil, err
	}
	addrs := make([]netip.Addr, len(r.Addrs))
	for i, a := range r.Addrs {
		if a == ([AddrBytes]byte{}) {
			continue
		}
		switch r.Family {
		case unix.AF_INET:
			addrs[i] = netip.AddrFrom4([4]byte(a[:4]))
		case unix.AF_INET6:
			addrs[i] = netip.AddrFrom16(a)
		default:
			return nil, fmt.Errorf("%w: address family %d", ErrMalformed, r.Family)
		}
	}
	return addrs, nil
}

// KillNode asks a cluster member to leave, logging reason there (corosync_cfg_kill_node).
// A node that is not a joined member gives ipc.CSErrNotExist. Killing the local node makes
// the daemon exit.
func (c *Client) KillNode(ctx context.Context, nodeID uint32, reason string) error {
	req, err := KillNodeRequest{NodeID: nodeID, Reason: reason}.Encode()
	if err != nil {
		return err
	}
	return c.status(ctx, req, ResKillNode)
}

// TryShutdown asks the daemon to shut down (corosync_cfg_try_shutdown). With
// ShutdownRequest or ShutdownRegardless the daemon first asks the tracking clients and
// answers once they have (or after cfg.shutdown_timeout, 5 s by default): ipc.CSErrBusy
// when a ShutdownRequest was refused, ipc.CSErrExist when another shutdown is pending. On
// success the daemon exits shortly after answering.
func (c *Client) TryShutdown(ctx context.Context, flags ShutdownFlags) error {
	return c.status(ctx, TryShutdownRequest{Flags: flags}.Encode(), ResTryShutdown)
}

// ReplyToShutdown answers a ShutdownEvent (corosync_cfg_replyto_shutdown). Unlike libcfg,
// which drops it, the daemon's code is returned: ipc.CSErrAccess when no shutdown is
// pending.
func (c *Client) ReplyToShutdown(ctx context.Context, agree bool) error {
	return c.status(ctx, ReplyToShutdownRequest{Response: uint32(boolByte(agree))}.Encode(), ResReplyToShutdown)
}

// ReloadConfig makes every node re-read its corosync.conf
// (corosync_cfg_reload_config); ipc.CSErrInvalid when the new file is not valid.
func (c *Client) ReloadConfig(ctx context.Context) error {
	return c.status(ctx, EncodeHeaderRequest(ReqReloadConfig), ResReloadConfig)
}

// ReopenLogFiles makes the daemon reopen its log files (corosync_cfg_reopen_log_files).
func (c *Client) ReopenLogFiles(ctx context.Context) error {
	return c.status(ctx, EncodeHeaderRequest(ReqReopenLogFiles), ResReopenLogFiles)
}

// TrackStart subscribes to shutdown requests, delivered on Events
// (corosync_cfg_trackstart; the daemon ignores flags).
func (c *Client) TrackStart(ctx context.Context, flags uint8) error {
	return c.status(ctx, TrackStartRequest{Flags: flags}.Encode(), ResStateTrackStart)
}

// TrackStop ends the subscription (corosync_cfg_trackstop); a pending shutdown counts
// this client as agreeing.
func (c *Client) TrackStop(ctx context.Context) error {
	return c.status(ctx, EncodeHeaderRequest(ReqTrackStop), ResStateTrackStop)
}
