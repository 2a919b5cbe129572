//go:build !(rdma && linux && cgo)

package rdma

import (
	"errors"
	"strings"
	"testing"
)

func TestSystemVerbsNeedsBuildTag(t *testing.T) {
	v, err := SystemVerbs()
	if v != nil || !errors.Is(err, ErrNoVerbs) || !strings.Contains(err.Error(), "-tags rdma") {
		t.Fatalf("SystemVerbs = %v, %v; want ErrNoVerbs naming -tags rdma", v, err)
	}
}
