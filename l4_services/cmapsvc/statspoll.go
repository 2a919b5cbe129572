package cmapsvc

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"time"

	"github.com/corosync-go/corosync/ipc/cmap"
)

// run polls the stats trackers every period until ctx ends, then closes done. Between
// polls, a kick (keys were added or removed: Service.StatsKeysChanged) sends the
// additions and deletions at once; values changes wait for the period, as in corosync.
func (b *statsBackend) run(ctx context.Context, period time.Duration, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			b.poll(true)
		case <-b.kick:
			b.poll(false)
		}
	}
}

// keysChanged asks the poller for an additions-and-deletions pass; it never blocks.
func (b *statsBackend) keysChanged() {
	select {
	case b.kick <- struct{}{}:
	default: // a pass is already due
	}
}

// poll compares every tracker's keys with what it saw last and notifies the changes;
// without values, only additions and deletions. The lock is held throughout, so a tracker
// deleted by its client gets nothing after TRACK_DELETE has been answered.
func (b *statsBackend) poll(values bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for t := range b.tracks {
		switch {
		case t.flags&cmap.TrackPrefix != 0:
			b.pollPrefix(t)
		case t.key != "":
			b.pollKey(t, values)
		}
	}
}

// pollKey is stats_trigger_trackers for one key tracker: a modify notification, with the
// current value as both new and old, when the value differs from the last one sent,
// whatever the tracker's flags (3.1.7 does not check them). A tracker that asked for
// additions or deletions of its key gets those too, as the trie's notifier gives them.
func (b *statsBackend) pollKey(t *tracker, values bool) {
	st := t.stats
	if !values && strings.HasPrefix(t.key, schedmissPrefix) {
		return
	}
	v, err := b.src.Get(t.key)
	if err != nil {
		if st.present && t.flags&cmap.TrackDelete != 0 && !strings.HasPrefix(t.key, schedmissPrefix) {
			t.notify(cmap.TrackDelete, t.key, st.last, st.last)
		}
		st.present = false
		return
	}
	if !st.present && t.flags&cmap.TrackAdd != 0 && !strings.HasPrefix(t.key, schedmissPrefix) {
		t.notify(cmap.TrackAdd, t.key, v, v)
	}
	st.present, st.last = true, v
	if !values {
		return
	}
	if cur := v.Bytes(); changed(st.old, cur) {
		t.notify(cmap.TrackModify, t.key, v, v)
		st.old = cur
	}
}

// changed compares as 3.1.7's memcmp against old_value, which starts as zeros.
func changed(old, cur []byte) bool {
	if old == nil {
		for _, c := range cur {
			if c != 0 {
				return true
			}
		}
		return false
	}
	return !bytes.Equal(old, cur)
}

// pollPrefix gives a prefix tracker create and delete notifications (stats_map_notify_fn
// sends the key's value as both new and old); 3.1.7 sends prefix trackers no modify
// notifications.
func (b *statsBackend) pollPrefix(t *tracker) {
	st := t.stats
	now := b.snapshot(t.key)
	var gone, added []string
	for k := range st.known {
		if _, ok := now[k]; !ok {
			gone = append(gone, k)
		}
	}
	for k := range now {
		if _, ok := st.known[k]; !ok {
			added = append(added, k)
		}
	}
	sort.Strings(gone)
	sort.Strings(added)
	for _, k := range gone {
		t.notify(cmap.TrackDelete, k, st.known[k], st.known[k])
	}
	for _, k := range added {
		t.notify(cmap.TrackAdd, k, now[k], now[k])
	}
	st.known = now
}
