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

// mixedAssignees is a license held directly by three people and by a
// group of two of them; one of the people is also in a group of their
// own.
func mixedAssignees(t *testing.T, srv *apitest.Server, tenant string) (*api, string) {
	a := newAPI(t, srv, tenant)
	lic := a.license("Mixed", 0)
	var people []string
	for i := range 3 {
		p := a.person(fmt.Sprintf("p%d@%s.example", i, tenant))
		people = append(people, p)
		a.assign(lic, map[string]any{"personId": p})
	}
	a.group("Team", people[0])
	a.assign(lic, map[string]any{"groupId": a.group("Crew", people[1], people[2])})
	return a, lic
}

// noTimerBatches runs query on the license's direct grants three times
// (after one to warm the query cache and the pool), checks that each
// answer's assignees are mixedAssignees' and checks them with check, and
// fails when a batch ran on its timer in every
// run (/metrics): a batch can wait for its timer on a busy machine (an
// asker more than the wait late), so the design's count is the least of
// three runs.
func noTimerBatches(t *testing.T, srv *apitest.Server, a *api, lic, query string, check func(assignees []map[string]any)) {
	t.Helper()
	vars := map[string]any{"id": lic}
	a.query(query, vars)
	least := -1
	var last string
	for range 3 {
		before := srv.DB.Statements()
		beforeTimer := timerBatches(t, srv)
		out := a.query(query, vars)
		var assignees []map[string]any
		for _, n := range out["license"].(map[string]any)["assignments"].(map[string]any)["nodes"].([]any) {
			assignees = append(assignees, n.(map[string]any)["assignee"].(map[string]any))
		}
		if k := kinds(assignees); k["Person"] != 3 || k["Group"] != 1 {
			t.Fatalf("assignees %v, want mixedAssignees' 3 people and a group", k)
		}
		check(assignees)
		n := 0
		if after := timerBatches(t, srv); after != beforeTimer {
			n, last = 1, fmt.Sprintf("%q before, %q after (%d statements)", beforeTimer, after, srv.DB.Statements()-before)
		}
		if least < 0 || n < least {
			least = n
		}
	}
	if least > 0 {
		t.Errorf("a batch waited for its timer in every run: %s", last)
	}
}

// kinds counts assignees by type.
func kinds(assignees []map[string]any) map[string]int {
	out := map[string]int{}
	for _, as := range assignees {
		out[as["__typename"].(string)]++
	}
	return out
}

// TestUnionBranchesRunAtOnce: the items of a page whose fields ask for
// different lists by the type of a union (an assignee that is a person
// asks for its groups, one that is a group for its members) do not wait
// for each other's batches: each batch waits for the items that may still
// ask, and an item waiting in the other batch will not ask before that
// batch runs. /metrics counts no batch that ran on its timer.
func TestUnionBranchesRunAtOnce(t *testing.T) {
	srv := apitest.NewServer(t)
	a, lic := mixedAssignees(t, srv, apitest.Tenant("unionlevels"))
	noTimerBatches(t, srv, a, lic, `query($id: ID!) { license(id: $id) { assignments(first: 20, filter: {direct: true}) {
		nodes { `+assigneeLists+` } } } }`, func(assignees []map[string]any) {
		for _, as := range assignees {
			if as["groups"] == nil && as["members"] == nil {
				t.Fatalf("an assignee without its list: %v", as)
			}
		}
	})
}

// TestUnionBranchesOneAliasRunAtOnce: the branches of a union may give
// their lists one alias (a person's groups and a group's members both as
// "list"): an item of one type still does not hold back the other type's
// batch, as in TestUnionBranchesRunAtOnce. /metrics counts no batch that
// ran on its timer.
func TestUnionBranchesOneAliasRunAtOnce(t *testing.T) {
	srv := apitest.NewServer(t)
	a, lic := mixedAssignees(t, srv, apitest.Tenant("unionalias"))
	noTimerBatches(t, srv, a, lic, `query($id: ID!) { license(id: $id) { assignments(first: 20, filter: {direct: true}) { nodes {
		assignee { __typename
			... on Person { list: groups(first: 2) { nodes { name } } }
			... on Group { list: members(first: 2) { nodes { email } } } } } } } }`, func(assignees []map[string]any) {
		for _, as := range assignees {
			if len(as["list"].(map[string]any)["nodes"].([]any)) == 0 {
				t.Fatalf("an assignee with an empty list: %v", as)
			}
		}
	})
}

// TestUnionBranchesCountsRunAtOnce: below a union's branches, the fields
// of their lists' connections (a person's groups' totalCount, a group's
// members' totalCount) are asked by the same items, with no list between:
// an item of one type does not hold back the other type's count batch
// either. /metrics counts no batch that ran on its timer.
func TestUnionBranchesCountsRunAtOnce(t *testing.T) {
	srv := apitest.NewServer(t)
	a, lic := mixedAssignees(t, srv, apitest.Tenant("unioncounts"))
	noTimerBatches(t, srv, a, lic, `query($id: ID!) { license(id: $id) { assignments(first: 20, filter: {direct: true}) { nodes {
		assignee { __typename
			... on Person { groups(first: 2) { totalCount nodes { name } } }
			... on Group { members(first: 2) { totalCount nodes { email } } } } } } } }`, func(assignees []map[string]any) {
		counts := map[string][]any{}
		for _, as := range assignees {
			kind := as["__typename"].(string)
			list, _ := as["groups"].(map[string]any)
			if kind == "Group" {
				list, _ = as["members"].(map[string]any)
			}
			counts[kind] = append(counts[kind], list["totalCount"])
		}
		if fmt.Sprint(counts) != "map[Group:[2] Person:[1 1 1]]" {
			t.Fatalf("totalCounts %v, want each person in a group and a group of two", counts)
		}
	})
}
