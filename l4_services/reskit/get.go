package reskit

import (
	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// The getters are icmap_get_string, icmap_get_uint32 and icmap_get_uint64: a key that is
// absent or of another type is not found.

// String returns key's value if it is a string.
func String(m *icmap.Map, key string) (string, bool) {
	v, err := m.Get(key)
	if err != nil || v.Type() != cmap.TypeString {
		return "", false
	}
	return v.String(), true
}

// Uint32 returns key's value if it is a u32.
func Uint32(m *icmap.Map, key string) (uint32, bool) {
	v, err := m.Get(key)
	if err != nil || v.Type() != cmap.TypeUint32 {
		return 0, false
	}
	return v.Uint32(), true
}

// Uint64 returns key's value if it is a u64.
func Uint64(m *icmap.Map, key string) (uint64, bool) {
	v, err := m.Get(key)
	if err != nil || v.Type() != cmap.TypeUint64 {
		return 0, false
	}
	return v.Uint64(), true
}
