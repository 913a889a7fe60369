package graph_test

import (
	"fmt"
	"testing"

	"seatgraph/internal/apitest"
)

const nestedQuery = `{
  licenses(first: 20) { nodes {
    seats { used }
    assignments(first: 50) { nodes {
      assignee { ... on Person { email } ... on Group { name } }
      license { name }
      assignedBy { email }
    } }
  } }
}`

// statementBound is the most statements nestedQuery may cost, whatever the
// list sizes: BEGIN, the tenant setting, the licenses page, one batch of
// assignments for every license, one batch each of people, groups and
// licenses for the nested objects, COMMIT, and one statement of slack for
// a loader batch split by timing.
const statementBound = 9

// TestStatementsBoundedByDepth proves batching: the nested query costs
// the same bounded number of statements for 2 licenses with 5 assignments
// each as for 20 licenses with 50 each.
func TestStatementsBoundedByDepth(t *testing.T) {
	srv := apitest.NewServer(t)
	counts := map[string]int64{}
	for _, size := range []struct{ licenses, assignments int }{{2, 5}, {20, 50}} {
		tenant := apitest.Tenant(fmt.Sprintf("batch-%d-%d", size.licenses, size.assignments))
		f := apitest.NewFixture(t, srv.DB, tenant)
		people := f.People("p", size.assignments)
		for i := range size.licenses {
			l := f.License(fmt.Sprintf("License %02d", i), 0)
			// Half the grants go to people directly, half through a group.
			f.Assign(l, people[:size.assignments/2]...)
			for j := size.assignments / 2; j < size.assignments; j++ {
				g := f.Group(fmt.Sprintf("Group %d-%d", i, j))
				f.AssignGroup(l, g)
			}
		}
		tok := apitest.Token(t, tenant)
		srv.MustDo(t, tok, `{ viewer { tenantId } }`, nil) // warm the query cache and pool

		// Loaders batch what arrives within a few milliseconds; on a busy
		// machine a batch can split by timing. The design's count is the
		// least of three runs (without batching every run costs hundreds).
		var data map[string]any
		n := int64(-1)
		for range 3 {
			before := srv.DB.Statements()
			data = srv.MustDo(t, tok, nestedQuery, nil)
			if got := srv.DB.Statements() - before; n < 0 || got < n {
				n = got
			}
		}

		licenses := data["licenses"].(map[string]any)["nodes"].([]any)
		if len(licenses) != size.licenses {
			t.Fatalf("got %d licenses, want %d", len(licenses), size.licenses)
		}
		for _, l := range licenses {
			nodes := l.(map[string]any)["assignments"].(map[string]any)["nodes"].([]any)
			if len(nodes) != size.assignments {
				t.Fatalf("got %d assignments, want %d", len(nodes), size.assignments)
			}
			for _, a := range nodes {
				a := a.(map[string]any)
				if a["assignee"] == nil || a["license"] == nil || a["assignedBy"] == nil {
					t.Fatalf("unresolved nested object: %v", a)
				}
			}
		}
		key := fmt.Sprintf("%d licenses x %d assignments", size.licenses, size.assignments)
		counts[key] = n
		t.Logf("%s: %d SQL statements", key, n)
		if n > statementBound {
			t.Errorf("%s: %d statements, bound is %d", key, n, statementBound)
		}
	}
}

// TestLevelOfSomeItemsRunsAtOnce: a field that only some items of a page
// ask for (Person.groups under assignees that are people, not groups) is
// read once every item has asked or finished, not when the loader's wait
// runs out: /metrics counts no batch that ran on its timer.
func TestLevelOfSomeItemsRunsAtOnce(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("somelevel")
	a := newAPI(t, srv, tenant)
	lic := a.license("Mixed", 0)
	var people []string
	for i := range 4 {
		p := a.person(fmt.Sprintf("p%d@%s.example", i, tenant))
		people = append(people, p)
		a.assign(lic, map[string]any{"personId": p})
	}
	a.group("Team", people[0])
	a.assign(lic, map[string]any{"groupId": a.group("Crew")})
	before := timerBatches(t, srv)
	out := a.query(`query($id: ID!) { license(id: $id) { assignments(first: 20) { nodes {
		assignee { __typename ... on Person { email groups(first: 2) { nodes { name } } } } } } } }`, map[string]any{"id": lic})
	nodes := out["license"].(map[string]any)["assignments"].(map[string]any)["nodes"].([]any)
	kinds := map[string]int{}
	for _, n := range nodes {
		kinds[n.(map[string]any)["assignee"].(map[string]any)["__typename"].(string)]++
	}
	if kinds["Person"] < 4 || kinds["Group"] != 1 {
		t.Fatalf("assignees %v, want 4 or more people and a group", kinds)
	}
	if after := timerBatches(t, srv); after != before {
		t.Errorf("a batch waited for its timer: %q before, %q after", before, after)
	}
}
