//go:build !(rdma && linux && cgo)

package rdma

// SystemVerbs returns the libibverbs backend. This build has none (it was made without
// -tags rdma, or without cgo, or not for Linux), so it returns ErrNoVerbs.
func SystemVerbs() (Verbs, error) { return nil, ErrNoVerbs }
