package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/corosync-go/corosync/ipc/cfg"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/ipc/quorum"
	"github.com/corosync-go/corosync/ipc/votequorum"
)

// cmapAPI is what the tool asks of the cmap service (*cmap.Client), an interface so tests
// can stand in for the daemon.
type cmapAPI interface {
	Get(ctx context.Context, key string) (cmap.Value, error)
	Iter(ctx context.Context, prefix string) ([]cmap.Entry, error)
	Close() error
}

// quorumAPI is what it asks of the quorum service (*quorum.Client, model V0 as
// quorum_initialize).
type quorumAPI interface {
	Type() quorum.Type
	Getquorate(ctx context.Context) (bool, error)
	TrackStart(ctx context.Context, flags quorum.TrackFlags) error
	TrackStop(ctx context.Context) error
	Events() <-chan quorum.Event
	Close() error
}

// votequorumAPI is what it asks of the votequorum service (*votequorum.Client).
type votequorumAPI interface {
	Info(ctx context.Context, nodeID uint32) (votequorum.Info, error)
	SetExpected(ctx context.Context, expected uint32) error
	SetVotes(ctx context.Context, nodeID, votes uint32) error
	TrackStart(ctx context.Context, flags votequorum.TrackFlags, userContext uint64) error
	QdeviceUnregister(ctx context.Context, name string) error
	Events() <-chan votequorum.Event
	Close() error
}

// cfgAPI is what it asks of the cfg service (*cfg.Client).
type cfgAPI interface {
	NodeAddrs(ctx context.Context, nodeID uint32) ([]netip.Addr, error)
	Close() error
}

// deps are the tool's ways to reach the daemon and the world, replaceable in tests.
type deps struct {
	dialCmap       func(ctx context.Context) (cmapAPI, error)
	dialQuorum     func(ctx context.Context) (quorumAPI, error)
	dialCfg        func(ctx context.Context) (cfgAPI, error)
	dialVotequorum func(ctx context.Context) (votequorumAPI, error)
	// lookupAddr is getnameinfo without NI_NUMERICHOST: the address's host name, the
	// address itself when no name is known, ok false when the lookup failed otherwise
	// (a name server that does not answer).
	lookupAddr func(ctx context.Context, a netip.Addr) (host string, ok bool)
	// now is the clock of the Date: line.
	now func() time.Time
}

// daemonDeps reaches the local corosync and the system's resolver.
func daemonDeps() deps {
	return deps{
		dialCmap: func(ctx context.Context) (cmapAPI, error) {
			c, err := cmap.Dial(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		dialQuorum: func(ctx context.Context) (quorumAPI, error) {
			c, err := quorum.DialModel(ctx, quorum.ModelV0)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		dialCfg: func(ctx context.Context) (cfgAPI, error) {
			c, err := cfg.Dial(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		dialVotequorum: func(ctx context.Context) (votequorumAPI, error) {
			c, err := votequorum.Dial(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		lookupAddr: resolveAddr,
		now:        time.Now,
	}
}

// resolveAddr is the reverse lookup of glibc's getnameinfo: /etc/hosts, then DNS; the
// first name, without the root's trailing dot. An address without a name is returned
// as it is; any other failure (TRY_AGAIN, as when no name server answers) is one,
// which getnameinfo reports as EAI_AGAIN.
func resolveAddr(ctx context.Context, a netip.Addr) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	names, err := net.DefaultResolver.LookupAddr(ctx, a.String())
	var de *net.DNSError
	switch {
	case err == nil && len(names) > 0 && strings.TrimSuffix(names[0], ".") != "":
		return strings.TrimSuffix(names[0], "."), true
	case err == nil, errors.As(err, &de) && de.IsNotFound:
		return a.String(), true
	}
	return "", false
}
