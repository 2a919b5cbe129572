package config

import (
	"sort"

	"github.com/corosync-go/corosync/ipc/cmap"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

// FromMap returns a Config holding values, for Derive to run on a live map after keys
// changed at run time (corosync re-reads its totem settings from cmap then, not from the
// file). Values of types a configuration file cannot produce are left out. name stands in
// for the file name in errors.
func FromMap(name string, values map[string]icmap.Value) *Config {
	c := newConfig(name)
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := fromICMAP(values[k]); ok {
			c.set(k, v, name, 0)
		}
	}
	return c
}

// fromICMAP converts a map value to a configuration value, for the types the parser makes.
func fromICMAP(v icmap.Value) (Value, bool) {
	switch v.Type() {
	case cmap.TypeUint8:
		return U8(v.Uint8()), true
	case cmap.TypeUint16:
		return U16(v.Uint16()), true
	case cmap.TypeUint32:
		return U32(v.Uint32()), true
	case cmap.TypeInt32:
		return I32(v.Int32()), true
	case cmap.TypeUint64:
		return U64(v.Uint64()), true
	case cmap.TypeString:
		return Str(v.String()), true
	}
	return Value{}, false
}
