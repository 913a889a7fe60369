package graph_test

import (
	"slices"
	"testing"

	"seatgraph/graph"
	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/codes"
)

// TestPlainLeafKeepsItsScope: a leaf read straight from its struct
// (scripts/listitems' short way, graph.plainLeaf) still answers to a scope
// once it has one. License.name, given the admin scope here, is refused to
// a caller with licenses:read alone, while its sibling vendor is not; the
// same caller with admin reads both. With plainLeaf ignoring scopes, the
// name comes back to the caller without admin.
func TestPlainLeafKeepsItsScope(t *testing.T) {
	key := [2]string{"License", "name"}
	if _, ok := graph.ScopeOf[key]; ok {
		t.Fatal("License.name has a scope of its own: pick another leaf")
	}
	graph.ScopeOf[key] = auth.ScopeAdmin
	t.Cleanup(func() { delete(graph.ScopeOf, key) })

	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("plainleaf")
	apitest.NewFixture(t, srv.DB, tenant).License("Scoped", 2)
	const q = `{ licenses(first: 1) { nodes { vendor name } } }`

	r := srv.Do(t, apitest.Token(t, tenant, auth.ScopeLicensesRead), q, nil)
	if !slices.Contains(r.Codes(), codes.Forbidden) {
		t.Errorf("License.name with the admin scope answered a caller without it: %s", r.Raw)
	}
	vendor := srv.Do(t, apitest.Token(t, tenant, auth.ScopeLicensesRead), `{ licenses(first: 1) { nodes { vendor } } }`, nil)
	if len(vendor.Errors) > 0 {
		t.Errorf("vendor, without a scope, was refused: %s", vendor.Raw)
	}
	admin := srv.MustDo(t, apitest.Token(t, tenant, auth.ScopeLicensesRead, auth.ScopeAdmin), q, nil)
	nodes := admin["licenses"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 1 || nodes[0].(map[string]any)["name"] != "Scoped" {
		t.Errorf("the admin's answer: %v", admin)
	}
}
