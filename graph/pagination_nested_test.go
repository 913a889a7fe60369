package graph_test

import (
	"fmt"
	"slices"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
)

// nestedConnection pages the connection field of the object that root(id:
// $id) returns; orderType is empty for a connection without orderBy.
func nestedConnection(root, field, orderType, id string) connectionQuery {
	orderVar, orderArg := "", ""
	if orderType != "" {
		orderVar, orderArg = ", $order: "+orderType, ", orderBy: $order"
	}
	return connectionQuery{
		query: fmt.Sprintf(`query($id: ID!, $first: Int, $after: String, $last: Int, $before: String%s) {
		  %s(id: $id) { %s(first: $first, after: $after, last: $last, before: $before%s) {
		    totalCount
		    edges { cursor node { id } }
		    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		  } } }`, orderVar, root, field, orderArg),
		path: []any{root, field},
		vars: map[string]any{"id": id},
	}
}

// TestNestedPagination walks, forward and backward, the per-parent
// connections TestPagination does not (a person's grants and groups, a
// group's grants, a grant's history) with the cursors their edges and
// pageInfo hand out, and checks the walk is the list one page of 100
// shows. It also pages a list whose parent appears twice at one level of
// the query (two grants of one person): each appearance must show the
// person's page, once.
func TestNestedPagination(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("paging-nested")
	f := apitest.NewFixture(t, srv.DB, tenant)
	people := f.People("member", 12)
	p, g := people[0], f.Group("Owners", people...)
	for i := range 17 {
		f.Group(fmt.Sprintf("Team %02d", i%6), people[:1+i%3]...)
		l := f.License(fmt.Sprintf("Tool %02d", i), 0)
		f.Assign(l, p)
		if i%2 == 0 {
			f.AssignGroup(l, g)
		}
	}
	tok := apitest.Token(t, tenant)
	person, group := gid.Person.Format(p.ID), gid.Group.Format(g.ID)
	data := srv.MustDo(t, tok, `query($id: ID!) { person(id: $id) { assignments(first: 1) { nodes { id } } } }`,
		map[string]any{"id": person})
	grant := jsonAt(t, jsonList(t, data, "person", "assignments", "nodes")[0], "id").(string)

	for _, c := range []struct {
		name  string
		c     connectionQuery
		order any
	}{
		{"Person.groups", nestedConnection("person", "groups", "GroupOrder", person), nil},
		{"Person.groups/NAME/DESC", nestedConnection("person", "groups", "GroupOrder", person),
			map[string]any{"field": "NAME", "direction": "DESC"}},
		{"Person.assignments/CREATED/DESC", nestedConnection("person", "assignments", "AssignmentOrder", person),
			map[string]any{"field": "CREATED", "direction": "DESC"}},
		{"Group.assignments", nestedConnection("group", "assignments", "AssignmentOrder", group), nil},
		{"Group.members/NAME/DESC", nestedConnection("group", "members", "PersonOrder", group),
			map[string]any{"field": "NAME", "direction": "DESC"}},
		{"Assignment.history", nestedConnection("assignment", "history", "", grant), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			vars := map[string]any{"first": 100, "order": c.order}
			for k, v := range c.c.vars {
				vars[k] = v
			}
			var all []string
			for _, e := range jsonList(t, srv.MustDo(t, tok, c.c.query, vars), append(c.c.path, "edges")...) {
				all = append(all, jsonAt(t, e, "node", "id").(string))
			}
			if len(all) <= pageSize && c.name != "Assignment.history" {
				t.Fatalf("%d items: want more than one page", len(all))
			}
			for _, backward := range []bool{false, true} {
				got, total := c.c.walk(t, srv, tok, c.order, backward)
				checkWalk(t, got, total, all)
			}
		})
	}

	// Two grants of one person, each asking for the person's groups: the
	// same parent twice in one batch.
	t.Run("a parent twice at one level", func(t *testing.T) {
		want := nestedConnection("person", "groups", "GroupOrder", person).read(t, srv, tok, map[string]any{"first": 5})
		backWant := nestedConnection("person", "groups", "GroupOrder", person).read(t, srv, tok, map[string]any{"last": 5})
		data := srv.MustDo(t, tok, `query($id: ID!) { person(id: $id) { assignments(first: 2) { nodes { assignee { ... on Person {
		  first: groups(first: 5) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
		  last: groups(last: 5) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
		} } } } } }`, map[string]any{"id": person})
		nodes := jsonList(t, data, "person", "assignments", "nodes")
		if len(nodes) != 2 {
			t.Fatalf("%d grants, want 2", len(nodes))
		}
		for i, n := range nodes {
			for alias, w := range map[string]page{"first": want, "last": backWant} {
				var ids, cursors []string
				for _, e := range jsonList(t, n, "assignee", alias, "edges") {
					ids = append(ids, jsonAt(t, e, "node", "id").(string))
					cursors = append(cursors, jsonAt(t, e, "cursor").(string))
				}
				if !slices.Equal(ids, w.ids) || !slices.Equal(cursors, w.cursors) {
					t.Errorf("grant %d, groups(%s: 5) = %v, want %v (the person's alone)", i, alias, ids, w.ids)
				}
				info := jsonAt(t, n, "assignee", alias, "pageInfo")
				if len(ids) != len(w.ids) {
					continue
				}
				if jsonAt(t, info, "hasNextPage") != w.hasNext || jsonAt(t, info, "hasPreviousPage") != w.hasPrevious ||
					jsonAt(t, info, "startCursor") != w.startCursor || jsonAt(t, info, "endCursor") != w.endCursor {
					t.Errorf("grant %d, groups(%s: 5) pageInfo = %v, want the person's alone", i, alias, info)
				}
			}
		}
	})

	// Nor may a parent with fewer items than the page asks for see them
	// twice.
	t.Run("a parent twice, short list", func(t *testing.T) {
		solo := f.Person("solo@example.com")
		team := f.Group("Solo team", solo)
		f.Assign(f.License("Solo A", 0), solo)
		f.Assign(f.License("Solo B", 0), solo)
		data := srv.MustDo(t, tok, `query($id: ID!) { person(id: $id) { assignments(first: 2) { nodes { assignee { ... on Person {
		  groups(first: 5) { nodes { id } pageInfo { hasNextPage } } } } } } } }`, map[string]any{"id": gid.Person.Format(solo.ID)})
		nodes := jsonList(t, data, "person", "assignments", "nodes")
		if len(nodes) != 2 {
			t.Fatalf("%d grants, want 2", len(nodes))
		}
		for i, n := range nodes {
			ids := jsonList(t, n, "assignee", "groups", "nodes")
			if len(ids) != 1 || jsonAt(t, ids[0], "id") != gid.Group.Format(team.ID) || jsonAt(t, n, "assignee", "groups", "pageInfo", "hasNextPage") != false {
				t.Errorf("grant %d: groups = %v, want only %s and no next page", i, jsonAt(t, n, "assignee", "groups"), gid.Group.Format(team.ID))
			}
		}
	})

	// A gateway reaches the same connections through _entities.
	t.Run("_entities", func(t *testing.T) {
		want := nestedConnection("person", "groups", "GroupOrder", person).read(t, srv, tok, map[string]any{"last": 3})
		data := srv.MustDo(t, tok, `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Person {
		  groups(last: 3) { edges { cursor node { id } } pageInfo { startCursor endCursor hasPreviousPage } } } } }`,
			map[string]any{"reps": []any{map[string]any{"__typename": "Person", "id": person}}})
		conn := jsonAt(t, jsonList(t, data, "_entities")[0], "groups")
		var cursors []string
		for _, e := range jsonList(t, conn, "edges") {
			cursors = append(cursors, jsonAt(t, e, "cursor").(string))
		}
		if !slices.Equal(cursors, want.cursors) || jsonAt(t, conn, "pageInfo", "startCursor") != want.startCursor ||
			jsonAt(t, conn, "pageInfo", "endCursor") != want.endCursor || jsonAt(t, conn, "pageInfo", "hasPreviousPage") != true {
			t.Errorf("_entities Person.groups(last: 3) = %v, want the cursors person(id) gives %v", conn, want.cursors)
		}
	})
}
