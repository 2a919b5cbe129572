// Package icmap is the daemon's configuration and runtime key-value map, with corosync
// 3.1.7's icmap rules: typed values, key names of 3 to 255 characters from
// [A-Za-z0-9._/:-], values up to 16 KiB, setting an equal value is not a change, integer
// adjustment, sorted prefix iteration, read-only keys and prefixes (for IPC clients), and
// tracking of additions, changes and deletions of a key or a prefix.
//
// Errors are corosync's codes (ipc.CS), so the cmap engine can put them in its answers.
package icmap

import (
	"bytes"
	"encoding/binary"
	"sort"
	"strings"
	"sync"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
)

// Key name limits (ICMAP_KEYNAME_MINLEN/MAXLEN).
const (
	MinKeyBytes = 3
	MaxKeyBytes = 255
)

// Event is what happened to a tracked key.
type Event int32

// Track events and flags, numbered as on the wire (CMAP_TRACK_*).
const (
	Delete Event = 1
	Modify Event = 2
	Add    Event = 4
	// Prefix makes a tracker match every key starting with its name.
	Prefix Event = 8
)

// Notify is called after a change to a tracked key. new is empty after a deletion and
// old is empty after an addition. It runs on the goroutine that made the change, after the
// map's lock is released, in change order; it may read the map but must not change it
// synchronously (hand such work to another goroutine).
type Notify func(ev Event, key string, new, old Value)

// TrackHandle identifies a tracker.
type TrackHandle uint64

type tracker struct {
	key   string
	flags Event
	fn    Notify
}

type roRule struct {
	key    string
	prefix bool
}

// Map is a concurrent-safe icmap. The zero value is not usable; call New.
type Map struct {
	mu       sync.RWMutex
	values   map[string]Value
	trackers map[TrackHandle]*tracker
	nextID   TrackHandle
	ro       []roRule
	// Notifications are numbered under mu and delivered in that order, waiting on turn
	// without holding mu, so that callbacks may read the map.
	issued    uint64 // under mu
	turnMu    sync.Mutex
	turn      *sync.Cond
	delivered uint64 // under turnMu
}

// New returns an empty map.
func New() *Map {
	m := &Map{values: map[string]Value{}, trackers: map[TrackHandle]*tracker{}}
	m.turn = sync.NewCond(&m.turnMu)
	return m
}

// ValidKey reports whether name is a key icmap accepts for a new entry.
func ValidKey(name string) bool {
	if len(name) < MinKeyBytes || len(name) > MaxKeyBytes {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-' || c == '/' || c == ':') {
			return false
		}
	}
	return true
}

// normalize checks a value as icmap_check_value_len does and returns what would be
// stored: strings end at their first NUL and keep one NUL.
func normalize(v Value) (Value, error) {
	data := v.Bytes()
	if len(data) > MaxValueBytes {
		return Value{}, ipc.CSErrInvalid
	}
	if v.Type() == cmap.TypeString {
		if i := bytes.IndexByte(data, 0); i >= 0 {
			data = data[:i+1]
		}
	}
	n, err := cmap.NewValue(v.Type(), data)
	if err != nil {
		return Value{}, ipc.CSErrInvalid
	}
	return n, nil
}

// widen reads an integer value as uint64 (two's complement for signed types).
func widen(v Value) (uint64, bool) {
	t, b := v.Type(), v.Bytes()
	if t < cmap.TypeInt8 || t > cmap.TypeUint64 || len(b) != t.Size() {
		return 0, false
	}
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	return u, true
}

type note struct {
	fn       Notify
	ev       Event
	key      string
	new, old Value
}

// notesFor lists the trackers interested in a change of key. Called with mu held.
func (m *Map) notesFor(ev Event, key string, nv, ov Value) []note {
	var notes []note
	for _, t := range m.trackers {
		if t.flags&ev == 0 {
			continue
		}
		if t.key == key || t.flags&Prefix != 0 && strings.HasPrefix(key, t.key) {
			notes = append(notes, note{t.fn, ev, key, nv, ov})
		}
	}
	return notes
}

// unlockAndNotify releases mu and runs notes in order.
func (m *Map) unlockAndNotify(notes []note) {
	if len(notes) == 0 {
		m.mu.Unlock()
		return
	}
	m.issued++
	mine := m.issued
	m.mu.Unlock()
	m.turnMu.Lock()
	for m.delivered != mine-1 {
		m.turn.Wait()
	}
	m.turnMu.Unlock()
	for _, n := range notes {
		n.fn(n.ev, n.key, n.new, n.old)
	}
	m.turnMu.Lock()
	m.delivered = mine
	m.turn.Broadcast()
	m.turnMu.Unlock()
}

// Get returns the value of key (Values are immutable, so it shares nothing writable).
func (m *Map) Get(key string) (Value, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.values[key]
	if !ok {
		return Value{}, ipc.CSErrNotExist
	}
	return v, nil
}

// Set stores v under key. Setting the value a key already has changes nothing and
// notifies nobody. A new key must satisfy ValidKey (CS_ERR_NAME_TOO_LONG otherwise, as in
// corosync); a malformed value is CS_ERR_INVALID_PARAM.
func (m *Map) Set(key string, v Value) error {
	v, err := normalize(v)
	if err != nil {
		return err
	}
	m.mu.Lock()
	old, existed := m.values[key]
	switch {
	case existed && old.Equal(v):
		m.mu.Unlock()
		return nil
	case !existed && !ValidKey(key):
		m.mu.Unlock()
		return ipc.CSErrNameTooLong
	}
	m.values[key] = v
	ev := Add
	if existed {
		ev = Modify
	}
	m.unlockAndNotify(m.notesFor(ev, key, v, old))
	return nil
}

// Delete removes key (CS_ERR_NOT_EXIST if absent).
func (m *Map) Delete(key string) error {
	m.mu.Lock()
	old, ok := m.values[key]
	if !ok {
		m.mu.Unlock()
		return ipc.CSErrNotExist
	}
	delete(m.values, key)
	m.unlockAndNotify(m.notesFor(Delete, key, Value{}, old))
	return nil
}

// Adjust adds step to an integer value, wrapping around in its width as C does
// (cmap_inc, cmap_dec); other types are CS_ERR_INVALID_PARAM.
func (m *Map) Adjust(key string, step int32) error {
	m.mu.Lock()
	old, ok := m.values[key]
	if !ok {
		m.mu.Unlock()
		return ipc.CSErrNotExist
	}
	u, isInt := widen(old)
	if !isInt {
		m.mu.Unlock()
		return ipc.CSErrInvalid
	}
	u += uint64(int64(step))
	le := make([]byte, 8)
	binary.LittleEndian.PutUint64(le, u)
	nv, _ := cmap.NewValue(old.Type(), le[:old.Type().Size()]) // the low bytes: C's wrap-around
	if nv.Equal(old) {
		m.mu.Unlock()
		return nil
	}
	m.values[key] = nv
	m.unlockAndNotify(m.notesFor(Modify, key, nv, old))
	return nil
}

// KeyInfo describes a key found by iteration.
type KeyInfo struct {
	Key   string
	Type  Type
	Bytes int
}

// Keys returns the keys starting with prefix, sorted, with their types and sizes: a
// snapshot, as a cmap iteration sees it.
func (m *Map) Keys(prefix string) []KeyInfo {
	m.mu.RLock()
	out := make([]KeyInfo, 0, 16)
	for k, v := range m.values {
		if strings.HasPrefix(k, prefix) {
			out = append(out, KeyInfo{k, v.Type(), v.Len()})
		}
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Track calls fn for the events in flags (Add, Modify, Delete, optionally Prefix) on key,
// or on every key starting with key when flags has Prefix.
func (m *Map) Track(key string, flags Event, fn Notify) (TrackHandle, error) {
	if fn == nil || flags&^(Add|Modify|Delete|Prefix) != 0 {
		return 0, ipc.CSErrInvalid
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	m.trackers[m.nextID] = &tracker{key, flags, fn}
	return m.nextID, nil
}

// Untrack removes a tracker (CS_ERR_NOT_EXIST if unknown). Once it returns, fn is not
// called again for changes made afterwards.
func (m *Map) Untrack(h TrackHandle) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.trackers[h]; !ok {
		return ipc.CSErrNotExist
	}
	delete(m.trackers, h)
	return nil
}

// SetReadOnly marks key (or, with prefix, every key starting with it) read-only for IPC
// clients, or removes such a mark. The daemon itself may still change those keys.
func (m *Map) SetReadOnly(key string, prefix, readOnly bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, r := range m.ro {
		if r.key == key && r.prefix == prefix {
			if !readOnly {
				m.ro = append(m.ro[:i], m.ro[i+1:]...)
			}
			return
		}
	}
	if readOnly {
		m.ro = append(m.ro, roRule{key, prefix})
	}
}

// ReadOnly reports whether IPC clients may not change key.
func (m *Map) ReadOnly(key string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, r := range m.ro {
		if r.key == key || r.prefix && strings.HasPrefix(key, r.key) {
			return true
		}
	}
	return false
}
