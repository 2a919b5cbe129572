package corosync_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/corosync-go/corosync"

// layerOrder lists the stacked layers bottom to top; each may import only the one below.
var layerOrder = []string{"l0_link", "l1_transport", "l2_totem", "l3_evs", "l4_services"}

// area returns the top-level folder of a module-relative path.
func area(rel string) string {
	return strings.SplitN(rel, "/", 2)[0]
}

func layerIndex(a string) int {
	for i, l := range layerOrder {
		if l == a {
			return i
		}
	}
	return -1
}

// violation explains why package dir (module-relative) may not import imp, or returns "".
// The rule (DESIGN.md): a layer imports only its own packages and the layer directly below;
// ipc sits beside l4 and imports no layer; cmd and perf may import anything; nothing imports
// cmd, except the commands themselves importing what they share in cmd/internal.
func violation(dir, imp string) string {
	if !strings.HasPrefix(imp, module+"/") {
		return "" // standard library or third party
	}
	rel := strings.TrimPrefix(imp, module+"/")
	from, to := area(dir), area(rel)
	switch {
	case to == "cmd" && from == "cmd" && strings.HasPrefix(rel, "cmd/internal/"):
		return ""
	case to == "cmd":
		return "nothing may import a command"
	case from == to || from == "cmd" || from == "perf":
		return ""
	case from == "ipc":
		return "ipc sits beside l4 and imports no layer"
	case to == "ipc":
		if from == "l4_services" {
			return ""
		}
		return "only l4_services (and cmd, perf) may import ipc"
	case to == "perf":
		return "only commands may import perf"
	}
	fi, ti := layerIndex(from), layerIndex(to)
	if fi < 0 {
		return "unknown top-level folder " + from
	}
	if ti != fi-1 {
		return from + " may import only " + below(fi)
	}
	return ""
}

func below(i int) string {
	if i == 0 {
		return "no layer"
	}
	return layerOrder[i-1]
}

// TestLayerImports walks every Go file (tests included) and fails on any import that
// crosses the layer rule.
func TestLayerImports(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || filepath.Dir(path) == "." {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		for _, s := range f.Imports {
			imp, _ := strconv.Unquote(s.Path.Value)
			if why := violation(dir, imp); why != "" {
				t.Errorf("%s: package %s imports %s (layer rule: %s)", path, dir, imp, why)
			}
			checked++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no imports checked: is the test running from the module root?")
	}
	if _, err := os.Stat("l2_totem"); err != nil {
		t.Fatal("layer folders not found:", err)
	}
}

// TestLayerRuleCatchesViolations shows that the rule can fail.
func TestLayerRuleCatchesViolations(t *testing.T) {
	bad := [][2]string{
		{"l3_evs", "l1_transport"},
		{"l3_evs/sim", "l1_transport/crypto"},
		{"l0_link", "l2_totem"},
		{"l2_totem", "l3_evs"},
		{"l2_totem", "cmd/totemsim"},
		{"ipc", "l4_services"},
		{"ipc", "l3_evs"},
		{"l3_evs", "ipc"},
		{"l4_services", "l2_totem"},
		{"l1_transport", "perf"},
		{"l4_services", "cmd/internal/getopt"},
		{"cmd/corosyncd", "cmd/corosync-cfgtool"},
	}
	for _, c := range bad {
		if violation(c[0], module+"/"+c[1]) == "" {
			t.Errorf("%s importing %s was allowed", c[0], c[1])
		}
	}
	good := [][2]string{
		{"l3_evs", "l2_totem"},
		{"l3_evs/sim", "l3_evs/evscheck"},
		{"l3_evs/sim", "l2_totem"},
		{"l1_transport", "l0_link/udp"},
		{"l4_services", "l3_evs"},
		{"l4_services/cpg", "ipc"},
		{"cmd/totemsim", "l3_evs/sim"},
		{"perf", "l2_totem"},
		{"cmd/corosync-quorumtool", "cmd/internal/getopt"},
	}
	for _, c := range good {
		if why := violation(c[0], module+"/"+c[1]); why != "" {
			t.Errorf("%s importing %s was refused: %s", c[0], c[1], why)
		}
	}
	if violation("l2_totem", "golang.org/x/sys/unix") != "" || violation("l0_link", "fmt") != "" {
		t.Error("external imports must be allowed")
	}
}
