package icmap

import "github.com/corosync-go/corosync/ipc/cmap"

// Type and Value are the cmap library's: the map stores values exactly as cmap messages
// carry them (little-endian numbers, strings with their NUL), so the cmap engine passes
// them through without translation.
type (
	// Type is a cmap value type (cmap.TypeUint32, ...).
	Type = cmap.Type
	// Value is a typed cmap value (cmap.Uint32(3000), cmap.String("x"), ...).
	Value = cmap.Value
)

// MaxValueBytes is the largest value icmap stores (ICMAP_MAX_VALUE_LEN).
const MaxValueBytes = cmap.MaxValueBytes
