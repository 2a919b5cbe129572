package cmapsvc

import (
	"bytes"
	"errors"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// backend is one map's operations, exec/cmap.c's struct cmap_map.
type backend interface {
	get(key string) (cmap.Value, error)
	set(key string, v cmap.Value) error
	adjust(key string, step int32) error
	delete(key string) error
	// readOnly reports whether clients may not set, delete or adjust key.
	readOnly(key string) bool
	// keys is a sorted snapshot for an iteration.
	keys(prefix string) []icmap.KeyInfo
	// current re-reads an iterated key: false when it has gone since the snapshot.
	current(k icmap.KeyInfo) (icmap.KeyInfo, bool)
	trackAdd(t *tracker) error
	trackDelete(t *tracker)
}

// icmapBackend is the configuration and runtime map.
type icmapBackend struct {
	m *icmap.Map
}

func (b *icmapBackend) get(key string) (cmap.Value, error) { return b.m.Get(key) }

func (b *icmapBackend) set(key string, v cmap.Value) error {
	if v.Type() == cmap.TypeString {
		// icmap_check_value_len: value_len may be shorter than the C string (libcmap
		// sends no NUL) but never longer than it plus its NUL.
		data := v.Bytes()
		if i := bytes.IndexByte(data, 0); i >= 0 && len(data) > i+1 {
			return ipc.CSErrInvalid
		}
	}
	return b.m.Set(key, v)
}

func (b *icmapBackend) adjust(key string, step int32) error { return b.m.Adjust(key, step) }
func (b *icmapBackend) delete(key string) error             { return b.m.Delete(key) }
func (b *icmapBackend) readOnly(key string) bool            { return b.m.ReadOnly(key) }
func (b *icmapBackend) keys(prefix string) []icmap.KeyInfo  { return b.m.Keys(prefix) }

func (b *icmapBackend) current(k icmap.KeyInfo) (icmap.KeyInfo, bool) {
	v, err := b.m.Get(k.Key)
	if err != nil {
		return icmap.KeyInfo{}, false
	}
	return icmap.KeyInfo{Key: k.Key, Type: v.Type(), Bytes: v.Len()}, true
}

func (b *icmapBackend) trackAdd(t *tracker) error {
	h, err := b.m.Track(t.key, icmap.Event(t.flags), func(ev icmap.Event, key string, nv, ov icmap.Value) {
		t.notify(cmap.TrackType(ev), key, nv, ov)
	})
	if err != nil {
		return err
	}
	t.icmapHandle = h
	return nil
}

func (b *icmapBackend) trackDelete(t *tracker) {
	b.m.Untrack(t.icmapHandle)
}

// csError maps a map's error to the code an answer carries: icmap and well-behaved stats
// sources return ipc.CS values; anything else is CS_ERR_LIBRARY.
func csError(err error) ipc.CS {
	if err == nil {
		return ipc.CSOk
	}
	var cs ipc.CS
	if errors.As(err, &cs) && cs != ipc.CSOk {
		return cs
	}
	return ipc.CSErrLibrary
}
