package graph_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"seatgraph/graph"
	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/codes"
	"seatgraph/internal/gid"
)

// plainLeafQueries select leaves (and the plain resolvers: status,
// direct, expired) every way a document can: aliases, the
// same leaf twice, fragments on unions and interfaces, named fragments,
// node, _entities, introspection, a mutation's payload, an error beside
// leaves.
var plainLeafQueries = []string{
	`query($id: ID!, $reps: [_Any!]!) {
	  viewer { tenantId t2: tenantId appId subject }
	  licenses(first: 5) {
	    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
	    edges { cursor node {
	      id name n2: name name vendor totalSeats isDeleted deletedAt sourceType expired __typename
	      ... on Record { createdBy id schemaVersion } ... on Node { id } ...rec
	      assignments(first: 5) { nodes {
	        id status s2: status direct active fulfilled licenseId licenseName assigneeId assigneeType createdBy deletedAt expiresAt
	        lastUsedAt programKey revokeReason revokedAt source sourceType tenantId updatedBy
	        assignee { __typename ... on Person { id email username active externalId } ... on Group { id name description } ...rec }
	      } }
	    } }
	  }
	  node(id: $id) { id ... on License { name vendor expired } ... on Record { tenantId updatedBy } }
	  _entities(representations: $reps) { ... on License { id name } ... on Node { id } ... on Record { source } }
	  missing: license(id: "lic_bad") { id name }
	}
	fragment rec on Record { isDeleted deletedBy appId }`,
	`{ __type(name: "License") { name kind description specifiedByURL
	    fields { name description isDeprecated deprecationReason } }
	  __schema { description directives { name description isRepeatable } } }`,
	`mutation { createLicense(input: {name: "x", totalSeats: -1}) { revokedCount userErrors { code field message } } }`,
}

// TestPlainLeavesAnswerAsGqlgen: the short way of a leaf (graph.plainLeaf)
// answers every query of plainLeafQueries byte for byte as gqlgen's field
// machinery does. Each query is asked twice: as is, and with every leaf
// of the schema given the admin scope, which the caller holds, so that no
// leaf is plain and each goes through the field middleware.
func TestPlainLeavesAnswerAsGqlgen(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("plainleafsame")
	f := apitest.NewFixture(t, srv.DB, tenant)
	l := f.License("Same", 3)
	people := f.People("same", 2)
	f.Assign(l, people[0])
	f.AssignGroup(l, f.Group("Team", people[1]), people[1])
	f.Invite(l, "guest@example.com")
	id := gid.License.Format(l.ID)
	vars := map[string]any{"id": id, "reps": []any{map[string]any{"__typename": "License", "id": id}}}
	token := apitest.Token(t, tenant)

	ask := func() [][]byte {
		var out [][]byte
		for _, q := range plainLeafQueries {
			out = append(out, srv.Do(t, token, q, vars).Raw)
		}
		return out
	}
	plain := ask()

	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, typ := range schema.Types {
		if typ.Kind != ast.Object || typ == schema.Query || typ == schema.Mutation || typ == schema.Subscription {
			continue
		}
		for _, field := range typ.Fields {
			key := [2]string{typ.Name, field.Name}
			if _, ok := graph.ScopeOf[key]; ok || field.Type.Elem != nil || len(field.Arguments) > 0 {
				continue
			}
			if k := schema.Types[field.Type.Name()].Kind; k != ast.Scalar && k != ast.Enum {
				continue
			}
			graph.ScopeOf[key] = auth.ScopeAdmin
			t.Cleanup(func() { delete(graph.ScopeOf, key) })
		}
	}
	// The scopes given are checked: the leaves went through Fields.
	r := srv.Do(t, apitest.Token(t, tenant, auth.ScopeLicensesRead), `{ licenses(first: 1) { nodes { name } } }`, nil)
	if !slices.Contains(r.Codes(), codes.Forbidden) {
		t.Fatalf("License.name given the admin scope answered a caller without it: %s", r.Raw)
	}

	for i, gqlgen := range ask() {
		if !bytes.Equal(plain[i], gqlgen) {
			t.Errorf("query %d: the short way answered\n%s\ngqlgen's way\n%s", i, plain[i], gqlgen)
		}
	}
	for _, want := range []string{`"email":"same`, `"name":"Team"`, `"status":"ACTIVE","s2":"ACTIVE","direct":true`,
		`"status":"PENDING"`, `"direct":false`, `"expired":false`} {
		if !bytes.Contains(plain[0], []byte(want)) {
			t.Errorf("the answer lacks %s: %s", want, plain[0])
		}
	}
	if !bytes.Contains(plain[2], []byte(`"userErrors":[{`)) {
		t.Errorf("the answers lack the fixture's records: %s\n%s", plain[0], plain[2])
	}
}
