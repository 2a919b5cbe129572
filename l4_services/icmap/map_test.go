package icmap

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/corosync-go/corosync/ipc"
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
	if err := m.Set("totem.token", U32(3000)); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Get("totem.token"); !v.Equal(U32(3000)) || v.Text() != "3000" {
		t.Fatalf("got %+v", v)
	}
	// Strings keep one NUL and stop at the first.
	m.Set("totem.cluster_name", Value{String, []byte("abc\x00def")})
	if v, _ := m.Get("totem.cluster_name"); string(v.Data) != "abc\x00" || v.Text() != "abc" {
		t.Fatalf("string stored as %q", v.Data)
	}
	for _, c := range []struct {
		key  string
		v    Value
		want error
	}{
		{"x", U8(1), ipc.CSErrNameTooLong},
		{"bad key", U8(1), ipc.CSErrNameTooLong},
		{"fine.key", Value{Uint32, []byte{1, 2}}, ipc.CSErrInvalid},
		{"fine.key", Value{Type(13), nil}, ipc.CSErrInvalid},
		{"fine.key", Bin(make([]byte, MaxValueBytes+1)), ipc.CSErrInvalid},
		{"fine.key", Bin(make([]byte, MaxValueBytes)), nil},
	} {
		if err := m.Set(c.key, c.v); !errors.Is(err, c.want) && err != c.want {
			t.Errorf("Set(%q, %v) = %v, want %v", c.key, c.v.Type, err, c.want)
		}
	}
	// The value a caller passed is copied, and so is what Get returns.
	b := []byte{1, 2, 3}
	m.Set("bin.key", Value{Binary, b})
	b[0] = 9
	got, _ := m.Get("bin.key")
	got.Data[1] = 9
	if again, _ := m.Get("bin.key"); again.Data[0] != 1 || again.Data[1] != 2 {
		t.Fatal("the map shares memory with its callers")
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
	m.Set("u8.key", U8(255))
	m.Set("i16.key", I16(-1))
	m.Set("u64.key", U64(0))
	m.Set("str.key", Str("x"))
	m.Adjust("u8.key", 1)
	m.Adjust("i16.key", 2)
	m.Adjust("u64.key", -1)
	for key, want := range map[string]string{"u8.key": "0", "i16.key": "1", "u64.key": "18446744073709551615"} {
		if v, _ := m.Get(key); v.Text() != want {
			t.Errorf("%s = %s, want %s", key, v.Text(), want)
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
		m.Set(k, U32(1))
	}
	var got []string
	for _, ki := range m.Keys("totem.") {
		got = append(got, ki.Key)
	}
	if strings.Join(got, " ") != "totem.consensus totem.token" {
		t.Fatalf("Keys(totem.) = %v", got)
	}
	if all := m.Keys(""); len(all) != 5 || all[0].Key != "nodelist.node.0.nodeid" || all[0].Type != Uint32 || all[0].Bytes != 4 {
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
	r.got = append(r.got, fmt.Sprintf("%d %s %s->%s", ev, key, ov.Text(), nv.Text()))
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
	m.Set("test.a", U8(1))
	m.Set("test.a", U8(1)) // no change: no notification
	m.Set("test.a", U8(2))
	m.Set("test.b", Str("x"))
	m.Set("other.c", U8(1))
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
	m.Set("test.a", U8(3))
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
	m.Set("order.key", U32(0))
	var mu sync.Mutex
	var chain []string
	m.Track("order.key", Modify, func(ev Event, key string, nv, ov Value) {
		mu.Lock()
		chain = append(chain, ov.Text()+">"+nv.Text())
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

func TestBinaryText(t *testing.T) {
	if got := Bin([]byte{'a', '\\', 0, 0x80, 0x7f}).Text(); got != `a\\\x00\xFFFFFF80\x7F` {
		t.Fatalf("binary printed as %q", got)
	}
}

func FuzzSet(f *testing.F) {
	f.Add("totem.token", uint8(6), []byte{1, 2, 3, 4})
	f.Add("a.string", uint8(11), []byte("abc\x00"))
	f.Fuzz(func(t *testing.T, key string, typ uint8, data []byte) {
		m := New()
		err := m.Set(key, Value{Type(typ), data})
		v, gerr := m.Get(key)
		if err != nil {
			if gerr == nil {
				t.Fatal("a refused value was stored")
			}
			return
		}
		if gerr != nil || v.Type != Type(typ) {
			t.Fatalf("stored value unreadable: %v", gerr)
		}
		if n := Type(typ).FixedSize(); n > 0 && len(v.Data) != n {
			t.Fatalf("fixed-size value stored with %d bytes", len(v.Data))
		}
		if Type(typ) == String && (len(v.Data) == 0 || v.Data[len(v.Data)-1] != 0 || strings.IndexByte(string(v.Data), 0) != len(v.Data)-1) {
			t.Fatalf("string stored as %q", v.Data)
		}
		_ = v.Text()
	})
}
