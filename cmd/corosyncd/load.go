package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
	totem "github.com/corosync-go/corosync/l2_totem"
	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/config"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

//go:embed default.conf
var defaultConf []byte

// defaultConfPath is corosync's configuration file.
const defaultConfPath = "/etc/corosync/corosync.conf"

// loaded is a configuration read, checked and derived as corosync does at start.
type loaded struct {
	path     string // "" for the embedded default
	conf     *config.Config
	derived  []config.Entry
	nodeID   uint32
	stateDir string
}

// load reads path (or the embedded default when path is "" and the default file does not
// exist), validates it on this host and returns it with the keys corosync derives.
func load(ctx context.Context, path string, explicit bool) (*loaded, error) {
	l := &loaded{path: path}
	var err error
	if !explicit {
		if _, statErr := os.Stat(path); errors.Is(statErr, fs.ErrNotExist) {
			l.path = ""
		}
	}
	if l.path == "" {
		l.conf, err = config.ParseBytes("(embedded default)", defaultConf)
	} else {
		l.conf, err = config.Parse(l.path)
	}
	if err != nil {
		return nil, err
	}
	host := config.SystemHost()
	if l.path == "" {
		// The embedded default must run for a newcomer without Debian's state directory.
		if err := setEmbeddedStateDir(l.conf); err != nil {
			return nil, err
		}
	}
	l.derived, err = config.Derive(ctx, l.conf, host)
	if err != nil {
		return nil, err
	}
	values := l.values()
	pos, ok := values["nodelist.local_node_pos"]
	if !ok {
		return nil, errors.New("this node is not in the nodelist")
	}
	id, ok := values[fmt.Sprintf("nodelist.node.%d.nodeid", pos.Uint32())]
	if !ok {
		return nil, errors.New("the local node has no nodeid")
	}
	l.nodeID = id.Uint32()
	l.stateDir = "/var/lib/corosync"
	if v, ok := values["system.state_dir"]; ok {
		l.stateDir = v.String()
	}
	return l, nil
}

// setEmbeddedStateDir points system.state_dir at /var/lib/corosync when it is usable, else
// at a private directory under the temporary directory.
func setEmbeddedStateDir(c *config.Config) error {
	dir := "/var/lib/corosync"
	if f, err := os.CreateTemp(dir, ".probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
	} else {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("corosyncd-%d", os.Getuid()))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	extra := []byte(fmt.Sprintf("system {\n\tstate_dir: %s\n}\n", dir))
	nc, err := config.ParseBytes("(embedded default)", append(append([]byte(nil), defaultConf...), extra...))
	if err != nil {
		return err
	}
	*c = *nc
	return nil
}

// values returns every key the configuration and the derivation set.
func (l *loaded) values() map[string]icmap.Value {
	m := make(map[string]icmap.Value, len(l.conf.Entries)+len(l.derived))
	for _, e := range l.conf.Entries {
		m[e.Key] = e.Value.ICMAP()
	}
	for _, e := range l.derived {
		m[e.Key] = e.Value.ICMAP()
	}
	return m
}

// fill stores the configuration in the map.
func (l *loaded) fill(m *icmap.Map) error {
	for k, v := range l.values() {
		if err := m.Set(k, v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// text returns the map as key → value text, what transport.FromKeys reads.
func text(m *icmap.Map) map[string]string {
	out := map[string]string{}
	for _, k := range m.Keys("") {
		if v, err := m.Get(k.Key); err == nil {
			out[k.Key] = v.String()
		}
	}
	return out
}

// frameBytes is the largest totem frame payload. corosync 3.1.7 sizes frames by net_mtu:
// totem.netmtu when set, else KNET_MAX_PACKET_SIZE (65536) on knet, whose links fragment,
// and 1500 on udp and udpu; its headers take the rest. l2's default takes 100 bytes from
// 1500 for them, and l2 bounds a frame at MaxFrameBytes. Packing small messages into
// 64 KiB frames, as corosync does on knet, is most of cpg's throughput under load.
func frameBytes(m *icmap.Map) int {
	mtu := 65536
	if v, err := m.Get("totem.transport"); err == nil && (v.String() == "udp" || v.String() == "udpu") {
		mtu = 1500
	}
	if v, err := m.Get("totem.netmtu"); err == nil {
		if u, err := strconv.ParseUint(v.String(), 10, 32); err == nil && u > 0 {
			mtu = int(u)
		}
	}
	return min(max(mtu-(1500-totem.DefaultFrameBytesMax), 64), totem.MaxFrameBytes)
}

// totemConfig builds the Totem parameters from runtime.config.totem.*, the values in force
// (the token there already includes token_coefficient).
func totemConfig(m *icmap.Map, nodeID uint32) evs.TotemConfig {
	ms := func(key string, def time.Duration) time.Duration {
		if v, err := m.Get("runtime.config.totem." + key); err == nil && v.Type() == cmap.TypeUint32 {
			return time.Duration(v.Uint32()) * time.Millisecond
		}
		return def
	}
	n := func(key string, def int) int {
		if v, err := m.Get("runtime.config.totem." + key); err == nil && v.Type() == cmap.TypeUint32 {
			return int(v.Uint32())
		}
		return def
	}
	c := evs.DefaultTotemConfig(evs.NodeID(nodeID), ms("token", 3000*time.Millisecond))
	c.TokenCoefficient = 0 // already applied in runtime.config.totem.token
	c.NodelistSize = 0
	c.TokenRetransmit = ms("token_retransmit", c.TokenRetransmit)
	c.Hold = ms("hold", c.Hold)
	c.Join = ms("join", c.Join)
	c.Consensus = ms("consensus", c.Consensus)
	c.Merge = ms("merge", c.Merge)
	c.Downcheck = ms("downcheck", c.Downcheck)
	c.FailRecvConst = n("fail_recv_const", c.FailRecvConst)
	c.SeqnoUnchangedConst = n("seqno_unchanged_const", c.SeqnoUnchangedConst)
	c.MissCountConst = n("miss_count_const", c.MissCountConst)
	c.WindowSize = n("window_size", c.WindowSize)
	c.MaxMessages = n("max_messages", c.MaxMessages)
	c.TokenRetransmitsBeforeLoss = n("token_retransmits_before_loss_const", c.TokenRetransmitsBeforeLoss)
	c.FrameBytesMax = frameBytes(m) // Validate derives the pending queue's bound from it
	c.Incarnation = uint32(time.Now().UnixNano())
	return c
}
