package graph_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoProcessClockInRules: the code that decides seat rules (graph,
// internal/licensing, internal/directory, internal/store) reads no clock
// of this process directly. A time of this process has to come from
// internal/clock.Now, which TestReplicaClockSkew shifts by an hour either
// way: so a rule that judged by this process's clock would fail that test
// instead of passing unseen. The one exception is the pool's reading of
// the database's clock (internal/store/clock.go), which measures the
// time elapsed since its reading on the monotonic clock, which a skewed
// wall clock does not move.
func TestNoProcessClockInRules(t *testing.T) {
	allowed := map[string]bool{filepath.Join("..", "internal", "store", "clock.go"): true}
	for _, dir := range []string{".", "../internal/licensing", "../internal/directory", "../internal/store"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") || allowed[filepath.Clean(name)] {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "time" &&
					(sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
					t.Errorf("%s: time.%s: read the database's clock (store.Scope.Now, store.DB.Now), or internal/clock.Now "+
						"for what is this replica's to judge", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
}
