package cmapsvc

import (
	"log/slog"
	"strings"
	"sync"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// Key prefixes of exec/stats.c.
const (
	statsClearPrefix = "stats.clear."
	// schedmissPrefix keys give no create or delete notifications (stats_map_notify_fn).
	schedmissPrefix = "stats.schedmiss"
)

// clearTargets are the stats.clear.<what> keys stats_map_set knows, matched as prefixes
// (strncmp), as corosync matches them.
var clearTargets = [...]string{"knet", "ipc", "totem", "schedmiss", "all"}

// emptyStats is the stats map of a service configured without one.
type emptyStats struct{}

func (emptyStats) Keys(string) []icmap.KeyInfo     { return nil }
func (emptyStats) Get(string) (icmap.Value, error) { return icmap.Value{}, ipc.CSErrNotExist }

// statsBackend is the stats map: values come from the source when read; trackers are
// polled.
type statsBackend struct {
	src StatsSource
	log *slog.Logger

	mu     sync.Mutex // the trackers and their statsTrack state
	tracks map[*tracker]struct{}
	kick   chan struct{} // an additions-and-deletions pass is wanted
}

// statsTrack is a stats tracker's memory of what it has seen.
type statsTrack struct {
	// Key trackers: old is 3.1.7's old_value (nil: never read, compared as zeros);
	// present and last say whether the key existed at the last poll and with what value.
	old     []byte
	present bool
	last    cmap.Value
	// Prefix trackers: the keys seen at the last poll with their values.
	known map[string]cmap.Value
}

func newStatsBackend(src StatsSource, log *slog.Logger) *statsBackend {
	return &statsBackend{src: src, log: log, tracks: map[*tracker]struct{}{}, kick: make(chan struct{}, 1)}
}

func (b *statsBackend) get(key string) (cmap.Value, error) { return b.src.Get(key) }

// set clears counters for the stats.clear.* keys (stats_map_set); the value is ignored.
func (b *statsBackend) set(key string, _ cmap.Value) error {
	for _, what := range clearTargets {
		if strings.HasPrefix(key, statsClearPrefix+what) {
			c, ok := b.src.(StatsClearer)
			if !ok {
				return ipc.CSErrNotSupport
			}
			return c.ClearStats(what)
		}
	}
	return ipc.CSErrNotSupport
}

func (b *statsBackend) adjust(string, int32) error { return ipc.CSErrNotSupport }
func (b *statsBackend) delete(string) error        { return ipc.CSErrNotSupport }

// readOnly: everything but the clear destinations (stats_map_is_key_ro).
func (b *statsBackend) readOnly(key string) bool { return !strings.HasPrefix(key, statsClearPrefix) }

func (b *statsBackend) keys(prefix string) []icmap.KeyInfo { return b.src.Keys(prefix) }

// current keeps the snapshot: 3.1.7 reports a stats key's type length without reading it.
func (b *statsBackend) current(k icmap.KeyInfo) (icmap.KeyInfo, bool) { return k, true }

// trackAdd is stats_map_track_add: a prefix tracker must follow both additions and
// deletions; a key tracker starts from the key's current value.
func (b *statsBackend) trackAdd(t *tracker) error {
	prefix := t.flags&cmap.TrackPrefix != 0
	if prefix && (t.flags&cmap.TrackAdd == 0 || t.flags&cmap.TrackDelete == 0) {
		return ipc.CSErrNotSupport
	}
	st := &statsTrack{}
	switch {
	case prefix:
		st.known = b.snapshot(t.key)
	case t.key != "":
		if v, err := b.src.Get(t.key); err == nil {
			st.old, st.present, st.last = v.Bytes(), true, v
		}
	}
	b.mu.Lock()
	t.stats = st
	b.tracks[t] = struct{}{}
	b.mu.Unlock()
	return nil
}

func (b *statsBackend) trackDelete(t *tracker) {
	b.mu.Lock()
	delete(b.tracks, t)
	b.mu.Unlock()
}

// snapshot reads the keys under prefix that give create and delete notifications.
func (b *statsBackend) snapshot(prefix string) map[string]cmap.Value {
	known := map[string]cmap.Value{}
	for _, k := range b.src.Keys(prefix) {
		if strings.HasPrefix(k.Key, schedmissPrefix) {
			continue
		}
		if v, err := b.src.Get(k.Key); err == nil {
			known[k.Key] = v
		}
	}
	return known
}
