package wdsvc

import (
	"strings"
	"testing"
)

func TestResourceKeyLikeSscanf(t *testing.T) {
	for _, c := range []struct {
		key, prefix, name string
		ok                bool
	}{
		{"resources.system.memory_used.state", "resources.system.memory_used.", "memory_used", true},
		{"resources.process.foo.state.extra", "resources.process.foo.", "foo", true},
		{"resources.a.b.statex", "", "", false},
		{"resources.system.memory_used.max", "", "", false},
		{"resources.watchdog_timeout", "", "", false},
		{"resources..b.state", "", "", false},
		{"resources.a..state", "", "", false},
		{"resource.a.b.state", "", "", false},
		{"resources.a.b.", "", "", false},
	} {
		prefix, name, ok := resourceOf(c.key)
		if ok != c.ok || prefix != c.prefix || name != c.name {
			t.Errorf("%q: %q %q %v", c.key, prefix, name, ok)
		}
	}
}

func FuzzResourceKey(f *testing.F) {
	for _, s := range []string{"resources.system.memory_used.state", "resources.process.foo.state.x", "resources.watchdog_timeout", "resources..x.state", "resources.a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		typ, name, part, ok := resourceKey(key)
		if !ok {
			return
		}
		for _, p := range []string{typ, name, part} {
			if p == "" || strings.Contains(p, ".") {
				t.Fatalf("%q: parts %q %q %q", key, typ, name, part)
			}
		}
		if !strings.HasPrefix(key, "resources."+typ+"."+name+"."+part) {
			t.Fatalf("%q: parts %q %q %q do not rebuild it", key, typ, name, part)
		}
	})
}
