package rdma

import "errors"

// ErrNoVerbs is SystemVerbs' answer in a binary built without libibverbs. The cgo backend
// is opt-in so that the default build needs neither cgo nor libibverbs-dev.
var ErrNoVerbs = errors.New("rdma: this binary was built without -tags rdma, so it cannot use libibverbs; " +
	"rebuild with -tags rdma (needs cgo and libibverbs-dev) or use knet_transport: udp")
