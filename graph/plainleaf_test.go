package graph_test

import (
	"slices"
	"strings"
	"testing"

	"seatgraph/graph"
	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/codes"
	"seatgraph/internal/gid"
)

// TestPlainLeafKeepsItsScope: a leaf read straight from its struct, or
// from a plain resolver (scripts/listitems' short ways, graph.plainLeaf),
// still answers to a scope once it has one. License.name, License.expired
// and Assignment.status, each given the admin scope here, are refused to
// a caller with licenses:read alone, while their siblings are not; the
// same caller with admin reads them. With plainLeaf ignoring scopes, the
// field comes back to the caller without admin.
func TestPlainLeafKeepsItsScope(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("plainleaf")
	f := apitest.NewFixture(t, srv.DB, tenant)
	f.Assign(f.License("Scoped", 2), f.People("scoped", 1)[0])
	reader := apitest.Token(t, tenant, auth.ScopeLicensesRead)
	admin := apitest.Token(t, tenant, auth.ScopeLicensesRead, auth.ScopeAdmin)
	for _, c := range []struct{ object, field, query, sibling, want string }{
		{"License", "name", `{ licenses(first: 1) { nodes { vendor name } } }`,
			`{ licenses(first: 1) { nodes { vendor } } }`, `"name":"Scoped"`},
		{"License", "expired", `{ licenses(first: 1) { nodes { name expired } } }`,
			`{ licenses(first: 1) { nodes { name } } }`, `"expired":false`},
		{"Assignment", "status", `{ licenses(first: 1) { nodes { assignments(first: 1) { nodes { id status } } } } }`,
			`{ licenses(first: 1) { nodes { assignments(first: 1) { nodes { id } } } } }`, `"status":"ACTIVE"`},
	} {
		t.Run(c.object+"."+c.field, func(t *testing.T) {
			adminOnly(t, c.object, c.field)
			r := srv.Do(t, reader, c.query, nil)
			if !slices.Contains(r.Codes(), codes.Forbidden) || strings.Contains(string(r.Raw), c.want) {
				t.Errorf("%s.%s with the admin scope answered a caller without it: %s", c.object, c.field, r.Raw)
			}
			if s := srv.Do(t, reader, c.sibling, nil); len(s.Errors) > 0 {
				t.Errorf("the sibling fields, without a scope, were refused: %s", s.Raw)
			}
			if a := srv.Do(t, admin, c.query, nil); len(a.Errors) > 0 || !strings.Contains(string(a.Raw), c.want) {
				t.Errorf("the admin's answer: %s", a.Raw)
			}
		})
	}
}

// TestPlainLeafKeepsItsScopeThroughInterface: a scoped leaf selected in a
// fragment on an interface (Record, Node) is still refused to a caller
// without the scope. gqlgen names the interface, not the object, as the
// field's ObjectDefinition there, while Fields checks the object's scope
// (License.createdBy): plainLeaf must not look the scope up under the
// interface's name and let the leaf through.
func TestPlainLeafKeepsItsScopeThroughInterface(t *testing.T) {
	adminOnly(t, "License", "createdBy")
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("plainleafiface")
	l := apitest.NewFixture(t, srv.DB, tenant).License("Scoped", 2)
	id := gid.License.Format(l.ID)
	reader := apitest.Token(t, tenant, auth.ScopeLicensesRead)
	admin := apitest.Token(t, tenant, auth.ScopeLicensesRead, auth.ScopeAdmin)
	for _, c := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"list", `{ licenses(first: 1) { nodes { ... on Record { createdBy } } } }`, nil},
		{"node", `query($id: ID!) { node(id: $id) { ... on Record { createdBy } } }`, map[string]any{"id": id}},
		{"entities", `query($r: [_Any!]!) { _entities(representations: $r) { ... on Record { createdBy } } }`,
			map[string]any{"r": []any{map[string]any{"__typename": "License", "id": id}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := srv.Do(t, reader, c.query, c.vars)
			if !slices.Contains(r.Codes(), codes.Forbidden) || strings.Contains(string(r.Raw), `"createdBy":"`) {
				t.Errorf("License.createdBy with the admin scope answered a caller without it: %s", r.Raw)
			}
			if a := srv.Do(t, admin, c.query, c.vars); len(a.Errors) > 0 || !strings.Contains(string(a.Raw), `"createdBy":"`) {
				t.Errorf("the admin's answer: %s", a.Raw)
			}
		})
	}
}

// adminOnly gives object's field, which has no scope of its own, the admin
// scope until the test ends.
func adminOnly(t *testing.T, object, field string) {
	t.Helper()
	key := [2]string{object, field}
	if _, ok := graph.ScopeOf[key]; ok {
		t.Fatalf("%s.%s has a scope of its own: pick another leaf", object, field)
	}
	graph.ScopeOf[key] = auth.ScopeAdmin
	t.Cleanup(func() { delete(graph.ScopeOf, key) })
}
