package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/corosync-go/corosync/ipc/cmap"
)

// Sizes of node_name's buffers: its result ((INET6_ADDRSTRLEN + 1) * KNET_MAX_LINK) and
// the nodelist name (_POSIX_HOST_NAME_MAX, NUL included).
const (
	nameBufSize     = (46 + 1) * 8
	nodelistNameMax = 255 - 1
)

// nodelistName is node_name_by_nodelist: the name of the first nodelist entry whose
// nodeid is id, "" if none (or cmap fails).
func (t *tool) nodelistName(id uint32) string {
	entries, err := t.cm.Iter(t.ctx, "nodelist.node.")
	if err != nil {
		return ""
	}
	for _, e := range entries {
		pos, ok := nodeIDKeyPos(e.Key)
		if !ok {
			continue
		}
		v, err := t.cm.Get(t.ctx, fmt.Sprintf("nodelist.node.%d.nodeid", pos))
		if err != nil || v.Type() != cmap.TypeUint32 || v.Uint32() != id {
			continue
		}
		v, err = t.cm.Get(t.ctx, fmt.Sprintf("nodelist.node.%d.name", pos))
		if err != nil || v.Type() != cmap.TypeString {
			continue
		}
		name := v.String()
		if len(name) > nodelistNameMax {
			name = name[:nodelistNameMax]
		}
		return name
	}
	return ""
}

// nodeIDKeyPos reads "nodelist.node.<pos>.nodeid" as the C tool's sscanf
// "nodelist.node.%u.%s" followed by a comparison with "nodeid" does.
func nodeIDKeyPos(key string) (uint32, bool) {
	rest, ok := strings.CutPrefix(key, "nodelist.node.")
	if !ok {
		return 0, false
	}
	digits, tail, ok := strings.Cut(rest, ".")
	if !ok || digits == "" || tail != "nodeid" {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// nodeName is node_name: the nodelist name (unless -i), then the node's first address,
// or with -a all its addresses after the first when there is a name, each resolved to a
// host name unless -i; "" when cfg cannot list the addresses.
func (t *tool) nodeName(id uint32) string {
	var buf string
	start := 0
	if !t.o.numeric {
		if n := t.nodelistName(id); n != "" {
			buf, start = n, 1
		}
	}
	addrs, err := t.cf.NodeAddrs(t.ctx, id)
	if err != nil {
		fmt.Fprintf(t.stderr, "Unable to get node address for nodeid %d: %s\n", id, t.csText(err))
		return ""
	}
	n := len(addrs)
	if !t.o.allAddrs {
		n = 1
	}
	for i := start; i < n; i++ {
		if i >= len(addrs) || !addrs[i].IsValid() {
			// The C tool reads a zeroed slot past the daemon's answer: no family.
			continue
		}
		if i > 0 {
			buf += ", "
		}
		host, ok := addrs[i].String(), true
		if !t.o.numeric {
			host, ok = t.d.lookupAddr(t.ctx, addrs[i])
		}
		// Nothing is added when getnameinfo fails, or when its room cannot hold the
		// name.
		if ok && len(host)+1 <= nameBufSize-len(buf) {
			buf += host
		}
	}
	return buf
}
