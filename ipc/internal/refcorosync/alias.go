// Package refcorosync forwards to ipc/refcorosync, its new home (kept for code written
// against the old path; to be removed).
package refcorosync

import (
	"testing"
	"time"

	ref "github.com/corosync-go/corosync/ipc/refcorosync"
)

// Options is ref.Options.
type Options = ref.Options

// Instance is ref.Instance.
type Instance = ref.Instance

// Netns is ref.Netns.
type Netns = ref.Netns

// Binary is ref.Binary.
const Binary = ref.Binary

// Skip is ref.Skip.
func Skip() string { return ref.Skip() }

// Start is ref.Start.
func Start(t testing.TB, opts Options) *Instance { t.Helper(); return ref.Start(t, opts) }

// StartDir is ref.StartDir.
func StartDir(dir string, opts Options) (*Instance, error) { return ref.StartDir(dir, opts) }

// NewNetns is ref.NewNetns.
func NewNetns(t testing.TB) *Netns { t.Helper(); return ref.NewNetns(t) }

// ShmNames is ref.ShmNames.
func ShmNames() map[string]bool { return ref.ShmNames() }

// ShmLeftovers is ref.ShmLeftovers.
func ShmLeftovers(before map[string]bool, limit time.Duration) []string {
	return ref.ShmLeftovers(before, limit)
}
