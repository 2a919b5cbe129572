package icmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
)

func TestValidKey(t *testing.T) {
	for k, want := range map[string]bool{
		"ab": false, "abc": true, "totem.token": true, "a/b:c-d_e.f": true,
		"has space": false, "bad*char": false, strings.Repeat("k", 255): true, strings.Repeat("k", 256): false,
	} {
		if ValidKey(k) != want {
			t.Errorf("ValidKey(%.20q) = %v, want %v", k, !want, want)
		}
	}
}

func TestSetGetDelete(t *testing.T) {
	m := New()
	if _, err := m.Get("totem.token"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Fatalf("get of a missing key: %v", err)
	}
	if err := m.Set("totem.token", cmap.Uint32(3000)); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Get("totem.token"); !v.Equal(cmap.Uint32(3000)) || v.String() != "3000" {
		t.Fatalf("got %+v", v)
	}
	// Strings keep one NUL and stop at the first.
	m.Set("totem.cluster_name", raw(cmap.TypeString, []byte("abc\x00def")))
	if v, _ := m.Get("totem.cluster_name"); string(v.Bytes()) != "abc\x00" || v.String() != "abc" {
		t.Fatalf("string stored as %q", v.Bytes())
	}
	for _, c := range []struct {
		key  string
		v    Value
		want error
	}{
		{"x", cmap.Uint8(1), ipc.CSErrNameTooLong},
		{"bad key", cmap.Uint8(1), ipc.CSErrNameTooLong},
		{"fine.key", raw(cmap.TypeUint32, []byte{1, 2}), ipc.CSErrInvalid},
		{"fine.key", raw(13, []byte{1}), ipc.CSErrInvalid},
		{"fine.key", cmap.Binary(make([]byte, MaxValueBytes+1)), ipc.CSErrInvalid},
		{"fine.key", cmap.Binary(make([]byte, MaxValueBytes)), nil},
	} {
		if err := m.Set(c.key, c.v); !errors.Is(err, c.want) && err != c.want {
			t.Errorf("Set(%q, %v) = %v, want %v", c.key, c.v.Type(), err, c.want)
		}
	}
	// The bytes a caller passed are copied.
	b := []byte{1, 2, 3}
	m.Set("bin.key", raw(cmap.TypeBinary, b))
	b[0] = 9
	if again, _ := m.Get("bin.key"); again.Bytes()[0] != 1 {
		t.Fatal("the map shares memory with its caller")
	}
	if err := m.Delete("bin.key"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete("bin.key"); !errors.Is(err, ipc.CSErrNotExist) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestAdjustWrapsLikeC(t *testing.T) {
	m := New()
	m.Set("u8.key", cmap.Uint8(255))
	m.Set("i16.key", cmap.Int16(-1))
	m.Set("u64.key", cmap.Uint64(0))
	m.Set("str.key", cmap.String("x"))
	m.Adjust("u8.key", 1)
	m.Adjust("i16.key", 2)
	m.Adjust("u64.key", -1)
	for key, want := range map[string]string{"u8.key": "0", "i16.key": "1", "u64.key": "18446744073709551615"} {
		if v, _ := m.Get(key); v.String() != want {
			t.Errorf("%s = %s, want %s", key, v.String(), want)
		}
	}
	if err := m.Adjust("str.key", 1); !errors.Is(err, ipc.CSErrInvalid) {
		t.Errorf("adjusting a string: %v", err)
	}
	if err := m.Adjust("no.key", 1); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("adjusting a missing key: %v", err)
	}
}

func TestKeysSortedByPrefix(t *testing.T) {
	m := New()
	for _, k := range []string{"totem.token", "nodelist.node.1.nodeid", "nodelist.node.0.nodeid", "totem.consensus", "totemx.a"} {
		m.Set(k, cmap.Uint32(1))
	}
	var got []string
	for _, ki := range m.Keys("totem.") {
		got = append(got, ki.Key)
	}
	if strings.Join(got, " ") != "totem.consensus totem.token" {
		t.Fatalf("Keys(totem.) = %v", got)
	}
	if all := m.Keys(""); len(all) != 5 || all[0].Key != "nodelist.node.0.nodeid" || all[0].Type != cmap.TypeUint32 || all[0].Bytes != 4 {
		t.Fatalf("Keys() = %+v", all)
	}
}

type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) fn(ev Event, key string, nv, ov Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("%d %s %s->%s", ev, key, ov.String(), nv.String()))
}

func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.got, "; ")
	r.got = nil
	return s
}

func TestTracking(t *testing.T) {
	m := New()
	var exact, prefix, addsOnly recorder
	he, _ := m.Track("test.a", Add|Modify|Delete, exact.fn)
	m.Track("test.", Add|Modify|Delete|Prefix, prefix.fn)
	m.Track("test.", Add|Prefix, addsOnly.fn)
	if _, err := m.Track("x.y", 16, exact.fn); !errors.Is(err, ipc.CSErrInvalid) {
		t.Fatalf("unknown track flag accepted: %v", err)
	}
	m.Set("test.a", cmap.Uint8(1))
	m.Set("test.a", cmap.Uint8(1)) // no change: no notification
	m.Set("test.a", cmap.Uint8(2))
	m.Set("test.b", cmap.String("x"))
	m.Set("other.c", cmap.Uint8(1))
	m.Delete("test.a")
	if got, want := exact.take(), "4 test.a ->1; 2 test.a 1->2; 1 test.a 2->"; got != want {
		t.Errorf("exact tracker: %q, want %q", got, want)
	}
	if got, want := prefix.take(), "4 test.a ->1; 2 test.a 1->2; 4 test.b ->x; 1 test.a 2->"; got != want {
		t.Errorf("prefix tracker: %q, want %q", got, want)
	}
	if got, want := addsOnly.take(), "4 test.a ->1; 4 test.b ->x"; got != want {
		t.Errorf("add-only tracker: %q, want %q", got, want)
	}
	if err := m.Untrack(he); err != nil {
		t.Fatal(err)
	}
	m.Set("test.a", cmap.Uint8(3))
	if got := exact.take(); got != "" {
		t.Errorf("untracked tracker still called: %q", got)
	}
	if err := m.Untrack(he); !errors.Is(err, ipc.CSErrNotExist) {
		t.Errorf("second untrack: %v", err)
	}
}

// TestNotificationsInChangeOrder: concurrent writers of one key; the tracker must see
// each change's old value equal to the previous change's new value.
func TestNotificationsInChangeOrder(t *testing.T) {
	m := New()
	m.Set("order.key", cmap.Uint32(0))
	var mu sync.Mutex
	var chain []string
	m.Track("order.key", Modify, func(ev Event, key string, nv, ov Value) {
		mu.Lock()
		chain = append(chain, ov.String()+">"+nv.String())
		mu.Unlock()
		m.Get(key) // reading from a callback is allowed
	})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				m.Adjust("order.key", 1)
			}
		}()
	}
	wg.Wait()
	if len(chain) != 2000 {
		t.Fatalf("%d notifications, want 2000", len(chain))
	}
	for i := 1; i < len(chain); i++ {
		prevNew := chain[i-1][strings.Index(chain[i-1], ">")+1:]
		old := chain[i][:strings.Index(chain[i], ">")]
		if prevNew != old {
			t.Fatalf("notification %d (%s) does not follow %s", i, chain[i], chain[i-1])
		}
	}
}

func TestReadOnly(t *testing.T) {
	m := New()
	m.SetReadOnly("runtime.", true, true)
	m.SetReadOnly("totem.cluster_name", false, true)
	for key, want := range map[string]bool{"runtime.members.1.ip": true, "totem.cluster_name": true, "totem.cluster_name2": false, "totem.token": false} {
		if m.ReadOnly(key) != want {
			t.Errorf("ReadOnly(%s) = %v", key, !want)
		}
	}
	m.SetReadOnly("runtime.", true, false)
	if m.ReadOnly("runtime.members.1.ip") {
		t.Error("read-only prefix not removed")
	}
}

// raw builds a value as the cmap engine receives it: decoded from a SET request, with
// whatever type and bytes the client sent.
func raw(t Type, data []byte) Value {
	msg := make([]byte, 296+len(data))
	ipc.PutRequestHeader(msg, cmap.ReqSet)
	binary.LittleEndian.PutUint16(msg[16:], 3)
	copy(msg[24:], "raw")
	binary.LittleEndian.PutUint64(msg[280:], uint64(len(data)))
	msg[288] = byte(t)
	copy(msg[296:], data)
	r, err := cmap.DecodeSetRequest(msg)
	if err != nil {
		panic(err)
	}
	return r.Value
}

func FuzzSet(f *testing.F) {
	f.Add("totem.token", uint8(6), []byte{1, 2, 3, 4})
	f.Add("a.string", uint8(11), []byte("abc\x00"))
	f.Fuzz(func(t *testing.T, key string, typ uint8, data []byte) {
		m := New()
		err := m.Set(key, raw(Type(typ), data))
		v, gerr := m.Get(key)
		if err != nil {
			if gerr == nil {
				t.Fatal("a refused value was stored")
			}
			return
		}
		b := v.Bytes()
		if gerr != nil || v.Type() != Type(typ) {
			t.Fatalf("stored value unreadable: %v", gerr)
		}
		if n := Type(typ).Size(); n > 0 && len(b) != n {
			t.Fatalf("fixed-size value stored with %d bytes", len(b))
		}
		if Type(typ) == cmap.TypeString && (len(b) == 0 || strings.IndexByte(string(b), 0) != len(b)-1) {
			t.Fatalf("string stored as %q", b)
		}
	})
}
