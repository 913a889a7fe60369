package graph_test

import (
	"fmt"
	"testing"

	"seatgraph/internal/apitest"
)

// leastStatements is the fewest statements that query with vars took in
// three runs (after one to warm the query cache and the pool): a batch
// can wait for its timer on a busy machine, never take fewer statements.
func leastStatements(t *testing.T, srv *apitest.Server, a *api, query string, vars map[string]any) int64 {
	t.Helper()
	a.query(query, vars)
	least := int64(-1)
	for range 3 {
		before := srv.DB.Statements()
		a.query(query, vars)
		if n := srv.DB.Statements() - before; least < 0 || n < least {
			least = n
		}
	}
	return least
}

// assigneeLists selects, on an assignment, its assignee's list by type: a
// person's groups, a group's members.
const assigneeLists = `assignee { __typename
	... on Person { email groups(first: 2) { nodes { name } } }
	... on Group { name members(first: 2) { nodes { email } } } }`

// TestFragmentAtTwoLevelsReadsAsWrittenOut: a fragment spread on two
// pages (a license's group grants, and the members' own grants under
// them) takes as many statements as the same selections written out at
// each place: what the items of one page say about the types of their
// assignees does not count for the batches of the other page's items.
func TestFragmentAtTwoLevelsReadsAsWrittenOut(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("fragmenttwice")
	a := newAPI(t, srv, tenant)
	viaGroups, direct := a.license("ViaGroups", 0), a.license("Direct", 0)
	for i := range 3 {
		p := a.person(fmt.Sprintf("m%d@%s.example", i, tenant))
		a.group(fmt.Sprintf("Own%d", i), p)
		a.assign(viaGroups, map[string]any{"groupId": a.group(fmt.Sprintf("Crew%d", i), p)})
		a.assign(direct, map[string]any{"personId": p})
	}
	query := func(inner string) string {
		return `fragment F on Assignment { ` + assigneeLists + ` }
		query($id: ID!) { license(id: $id) { assignments(first: 20, filter: {direct: true}) { nodes { ...F
			assignee { ... on Group { people: members(first: 5) { nodes {
				assignments(first: 5, filter: {direct: true}) { nodes { ` + inner + ` } } } } } } } } } }`
	}
	vars := map[string]any{"id": viaGroups}
	out := a.query(query("...F"), vars)
	nodes := out["license"].(map[string]any)["assignments"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 3 {
		t.Fatalf("%d group grants, want 3: %v", len(nodes), out)
	}
	for _, n := range nodes {
		people := n.(map[string]any)["assignee"].(map[string]any)["people"].(map[string]any)["nodes"].([]any)
		if len(people) != 1 {
			t.Fatalf("a group with %d members, want 1: %v", len(people), n)
		}
		grants := people[0].(map[string]any)["assignments"].(map[string]any)["nodes"].([]any)
		if len(grants) != 1 {
			t.Fatalf("a member with %d direct grants, want 1: %v", len(grants), people[0])
		}
		groups := grants[0].(map[string]any)["assignee"].(map[string]any)["groups"].(map[string]any)["nodes"].([]any)
		if len(groups) != 2 {
			t.Fatalf("a member in %d groups, want 2: %v", len(groups), grants[0])
		}
	}
	spread := leastStatements(t, srv, a, query("...F"), vars)
	written := leastStatements(t, srv, a, query(assigneeLists), vars)
	if spread != written {
		t.Errorf("the fragment spread twice took %d statements, written out %d", spread, written)
	}
}
