package ipc

import (
	"encoding/binary"
	"sort"
	"strings"
	"sync"
)

// cmapStub is a minimal in-process cmap service, enough for corosync-cmapctl's list, get,
// set, delete and track. The real cmap engine is l4's (issue #5); this one exists so the
// IPC layer can be tested against Debian's unmodified tools.
type cmapStub struct {
	name     string
	mu       sync.Mutex
	values   map[string]cmapValue
	trackers map[uint64]*cmapTracker
	nextID   uint64
}

type cmapValue struct {
	typ  uint8
	data []byte
}

type cmapTracker struct {
	conn   *Conn
	prefix string
	flags  int32
	cookie uint64
}

type cmapConnState struct {
	iters map[uint64][]string
}

func newCmapStub() *cmapStub {
	return &cmapStub{name: "cmap", values: map[string]cmapValue{}, trackers: map[uint64]*cmapTracker{}, nextID: 1}
}

func (m *cmapStub) Name() string { return m.name }

// uint8Value is the lookup UIDGIDRule needs.
func (m *cmapStub) uint8Value(key string) (uint8, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[key]
	if !ok || v.typ != 2 || len(v.data) != 1 {
		return 0, false
	}
	return v.data[0], true
}

func (m *cmapStub) Connected(c *Conn) { c.State = &cmapConnState{iters: map[uint64][]string{}} }

func (m *cmapStub) Disconnected(c *Conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, t := range m.trackers {
		if t.conn == c {
			delete(m.trackers, id)
		}
	}
}

// name reads a mar_name_t (u16 length, pad, 256 bytes) at off.
func cmapName(msg []byte, off int) (string, bool) {
	if len(msg) < off+264 {
		return "", false
	}
	n := int(binary.LittleEndian.Uint16(msg[off:]))
	if n > 255 {
		return "", false
	}
	return string(msg[off+8 : off+8+n]), true
}

func putCmapName(b []byte, off int, name string) {
	binary.LittleEndian.PutUint16(b[off:], uint16(len(name)))
	copy(b[off+8:off+8+256], name)
}

func (m *cmapStub) Request(c *Conn, h RequestHeader, msg []byte) {
	st := c.State.(*cmapConnState)
	reply := func(size int, id int32, err CS) []byte {
		b := make([]byte, size)
		PutResponseHeader(b, id, err)
		return b
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch h.ID {
	case 9: // SET_CURRENT_MAP
		c.Respond(reply(24, 10, CSOk))
	case 0: // SET
		key, ok := cmapName(msg, 16)
		if !ok || len(msg) < 296 {
			c.Respond(ErrorResponse(CSErrInvalid))
			return
		}
		n := binary.LittleEndian.Uint64(msg[280:])
		typ := msg[288]
		if uint64(len(msg)) < 296+n {
			c.Respond(reply(24, 0, CSErrInvalid))
			return
		}
		data := append([]byte(nil), msg[296:296+n]...)
		if typ == 11 { // strings are stored with their NUL
			if i := strings.IndexByte(string(data), 0); i >= 0 {
				data = data[:i]
			}
			data = append(data, 0)
		}
		old, existed := m.values[key]
		m.values[key] = cmapValue{typ, data}
		ev := int32(4)
		if existed {
			ev = 2
		}
		m.notify(key, ev, m.values[key], old)
		c.Respond(reply(24, 0, CSOk))
	case 1: // DELETE
		key, ok := cmapName(msg, 16)
		old, existed := m.values[key]
		if !ok || !existed {
			c.Respond(reply(24, 1, CSErrNotExist))
			return
		}
		delete(m.values, key)
		m.notify(key, 1, cmapValue{}, old)
		c.Respond(reply(24, 1, CSOk))
	case 2: // GET
		key, ok := cmapName(msg, 16)
		if !ok || len(msg) < 288 {
			c.Respond(ErrorResponse(CSErrInvalid))
			return
		}
		want := binary.LittleEndian.Uint64(msg[280:])
		if want > uint64(c.MaxMessageBytes()) {
			c.Respond(ErrorResponse(CSErrInvalid))
			return
		}
		v, found := m.values[key]
		switch {
		case !found:
			c.Respond(reply(40, 2, CSErrNotExist))
		case want > 0 && want < uint64(len(v.data)):
			c.Respond(reply(40+int(want), 2, CSErrInvalid))
		default:
			b := reply(40+int(want), 2, CSOk)
			binary.LittleEndian.PutUint64(b[24:], uint64(len(v.data)))
			b[32] = v.typ
			if want > 0 {
				copy(b[40:], v.data)
			}
			c.Respond(b)
		}
	case 4: // ITER_INIT
		prefix, ok := cmapName(msg, 16)
		if !ok {
			c.Respond(ErrorResponse(CSErrInvalid))
			return
		}
		var keys []string
		for k := range m.values {
			if strings.HasPrefix(k, prefix) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		m.nextID++
		st.iters[m.nextID] = keys
		b := reply(32, 4, CSOk)
		binary.LittleEndian.PutUint64(b[24:], m.nextID)
		c.Respond(b)
	case 5: // ITER_NEXT
		if len(msg) < 24 {
			c.Respond(ErrorResponse(CSErrInvalid))
			return
		}
		id := binary.LittleEndian.Uint64(msg[16:])
		keys, ok := st.iters[id]
		if !ok {
			c.Respond(reply(304, 5, CSErrBadHandle))
			return
		}
		if len(keys) == 0 {
			c.Respond(reply(304, 5, CSErrNoSections))
			return
		}
		st.iters[id] = keys[1:]
		v := m.values[keys[0]]
		b := reply(304, 5, CSOk)
		putCmapName(b, 24, keys[0])
		binary.LittleEndian.PutUint64(b[288:], uint64(len(v.data)))
		b[296] = v.typ
		c.Respond(b)
	case 6: // ITER_FINALIZE
		if len(msg) >= 24 {
			delete(st.iters, binary.LittleEndian.Uint64(msg[16:]))
		}
		c.Respond(reply(24, 6, CSOk))
	case 7: // TRACK_ADD
		key, ok := cmapName(msg, 16)
		if !ok || len(msg) < 296 {
			c.Respond(ErrorResponse(CSErrInvalid))
			return
		}
		m.nextID++
		m.trackers[m.nextID] = &cmapTracker{conn: c, prefix: key,
			flags: int32(binary.LittleEndian.Uint32(msg[280:])), cookie: binary.LittleEndian.Uint64(msg[288:])}
		b := reply(32, 7, CSOk)
		binary.LittleEndian.PutUint64(b[24:], m.nextID)
		c.Respond(b)
	case 8: // TRACK_DELETE
		var cookie uint64
		if len(msg) >= 24 {
			id := binary.LittleEndian.Uint64(msg[16:])
			if t := m.trackers[id]; t != nil && t.conn == c {
				cookie = t.cookie
				delete(m.trackers, id)
			}
		}
		b := reply(32, 8, CSOk)
		binary.LittleEndian.PutUint64(b[24:], cookie)
		c.Respond(b)
	default:
		c.Respond(ErrorResponse(CSErrInvalid))
	}
}

// notify sends NOTIFY_CALLBACK events to matching trackers. Called with m.mu held.
func (m *cmapStub) notify(key string, event int32, nv, ov cmapValue) {
	for _, t := range m.trackers {
		match := t.prefix == key || (t.flags&8 != 0 && strings.HasPrefix(key, t.prefix))
		if !match || t.flags&event == 0 {
			continue
		}
		b := make([]byte, 336+len(nv.data)+len(ov.data))
		PutResponseHeader(b, 9, CSOk)
		binary.LittleEndian.PutUint64(b[24:], t.cookie)
		putCmapName(b, 32, key)
		binary.LittleEndian.PutUint32(b[296:], uint32(event))
		b[304], b[312] = nv.typ, ov.typ
		binary.LittleEndian.PutUint64(b[320:], uint64(len(nv.data)))
		binary.LittleEndian.PutUint64(b[328:], uint64(len(ov.data)))
		copy(b[336:], nv.data)
		copy(b[336+len(nv.data):], ov.data)
		t.conn.Event(b)
	}
}
