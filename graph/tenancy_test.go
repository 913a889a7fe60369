package graph_test

import (
	"context"
	"slices"
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
	"seatgraph/internal/seed"
)

// lookAlike is one record that exists, with the same names, in both tenants.
type lookAlike struct{ a, b string }

const isolationAssignmentFields = `fragment asg on Assignment {
  id tenantId licenseId assigneeId status email
  license { id tenantId }
  assignee { ... on Person { id tenantId } ... on Group { id tenantId } }
  assignedBy { id tenantId }
  viaGroup { id tenantId }
  viaAssignment { id tenantId }
  history(first: 10) { totalCount nodes { id } }
}`

// TestTenantIsolation seeds two tenants with identical demo data and checks
// that every query of the schema, run with tenant A's token, shows only A's
// records: no id of B appears anywhere in any response, B's ids resolve to
// null, and filters naming B's ids match nothing.
func TestTenantIsolation(t *testing.T) {
	srv := apitest.NewServer(t)
	ctx := context.Background()
	a, b := apitest.Tenant("acme"), apitest.Tenant("acme")
	for _, tenant := range []string{a, b} {
		if _, err := seed.Run(ctx, srv.DB, tenant); err != nil {
			t.Fatal(err)
		}
	}
	const onlyInB = "only-in-b@demo.example"
	apitest.NewFixture(t, srv.DB, b).Person(onlyInB)

	db := apitest.DB(t).SQL(t)
	idsA, idsB := tenantTypeIDs(t, db, a), tenantTypeIDs(t, db, b)
	tok := apitest.TokenFor(t, auth.TokenRequest{Tenant: a, Subject: seed.AdminSubject})

	pair := func(kind gid.Kind, query string, args ...any) lookAlike {
		t.Helper()
		ua := sqlUUID(t, db, query, append([]any{a}, args...)...)
		ub := sqlUUID(t, db, query, append([]any{b}, args...)...)
		return lookAlike{kind.Format(ua), kind.Format(ub)}
	}
	const ada = "ada.andersen@demo.example"
	lic := pair(gid.License, "SELECT id FROM licenses WHERE tenant_id = $1 AND name = $2", "Jira Software Cloud")
	person := pair(gid.Person, "SELECT id FROM people WHERE tenant_id = $1 AND email = $2", ada)
	admin := pair(gid.Person, "SELECT id FROM people WHERE tenant_id = $1 AND external_id = $2", seed.AdminSubject)
	group := pair(gid.Group, "SELECT id FROM groups WHERE tenant_id = $1 AND name = $2", "Engineering")
	grant := pair(gid.Assignment, `SELECT a.id FROM assignments a JOIN groups g ON g.tenant_id = a.tenant_id AND g.id = a.group_id
		WHERE a.tenant_id = $1 AND g.name = $2 AND a.license_id = (SELECT id FROM licenses WHERE tenant_id = $1 AND name = $3)`,
		"Engineering", "Jira Software Cloud")
	inherited := pair(gid.Assignment, `SELECT a.id FROM assignments a JOIN people p ON p.tenant_id = a.tenant_id AND p.id = a.person_id
		JOIN licenses l ON l.tenant_id = a.tenant_id AND l.id = a.license_id
		WHERE a.tenant_id = $1 AND p.email = $2 AND l.name = $3 AND a.via_assignment_id IS NOT NULL`, ada, "Jira Software Cloud")
	event := pair(gid.Event, `SELECT e.id FROM assignment_events e WHERE e.tenant_id = $1 AND e.assignment_id =
		(SELECT a.id FROM assignments a JOIN groups g ON g.tenant_id = a.tenant_id AND g.id = a.group_id
		 WHERE a.tenant_id = $1 AND g.name = $2 AND a.license_id = (SELECT id FROM licenses WHERE tenant_id = $1 AND name = $3))`,
		"Engineering", "Jira Software Cloud")

	// isolated checks one response: every TypeID in it is one of A's, at
	// least min of them appear (so the check has something to bite on),
	// and every tenantId is A's.
	isolated := func(t *testing.T, data map[string]any, min int) {
		t.Helper()
		seen := typeIDsIn(data)
		for _, id := range seen {
			if idsB[id] {
				t.Errorf("tenant B's id %s appears in tenant A's response", id)
			} else if !idsA[id] {
				t.Errorf("id %s in the response is no record of tenant A", id)
			}
		}
		if len(seen) < min {
			t.Errorf("response shows %d ids, want at least %d: %v", len(seen), min, data)
		}
		for _, v := range fieldValues(data, "tenantId") {
			if v != a {
				t.Errorf("tenantId %v in tenant A's response", v)
			}
		}
	}
	count := func(table string) int {
		t.Helper()
		return sqlScalarInt(t, db, "SELECT count(*) FROM "+table+" WHERE tenant_id = $1 AND NOT is_deleted", a)
	}
	// walk runs a query taking $after over every page of the connection
	// at path, checking each page, and returns the ids of all nodes.
	walk := func(t *testing.T, query string, path ...any) []string {
		t.Helper()
		var ids []string
		var after any
		for range 50 {
			data := srv.MustDo(t, tok, query, map[string]any{"after": after})
			isolated(t, data, 1)
			ids = append(ids, nodeIDs(t, data, path...)...)
			if !jsonAt(t, data, append(path, "pageInfo", "hasNextPage")...).(bool) {
				return ids
			}
			after = jsonAt(t, data, append(path, "pageInfo", "endCursor")...)
		}
		t.Fatal("more than 50 pages")
		return nil
	}

	t.Run("licenses", func(t *testing.T) {
		data := srv.MustDo(t, tok, isolationAssignmentFields+`
		{ licenses(first: 100) { totalCount nodes { id tenantId seats { used }
			assignments(first: 100) { totalCount nodes { ...asg } } } } }`, nil)
		isolated(t, data, 100)
		if got, want := jsonInt(t, data, "licenses", "totalCount"), count("licenses"); got != want {
			t.Errorf("licenses.totalCount = %d, want tenant A's %d", got, want)
		}
		if got := len(jsonList(t, data, "licenses", "nodes")); got != count("licenses") {
			t.Errorf("got %d licenses, want %d", got, count("licenses"))
		}
	})

	t.Run("assignments", func(t *testing.T) {
		ids := walk(t, isolationAssignmentFields+`query($after: String) {
			assignments(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ...asg } } }`,
			"assignments")
		if want := count("assignments"); len(ids) != want {
			t.Errorf("walked %d assignments, tenant A has %d", len(ids), want)
		}
	})

	t.Run("people", func(t *testing.T) {
		ids := walk(t, `query($after: String) { people(first: 100, after: $after) {
			totalCount pageInfo { hasNextPage endCursor }
			nodes { id tenantId
				assignments(first: 20) { totalCount nodes { id licenseId assigneeId viaGroup { id } viaAssignment { id } } }
				groups(first: 20) { totalCount nodes { id tenantId } }
				entitlements { license { id tenantId } holdsSeat grants { id viaGroup { id } viaAssignment { id } } }
			} } }`, "people")
		if want := count("people"); len(ids) != want {
			t.Errorf("walked %d people, tenant A has %d", len(ids), want)
		}
	})

	t.Run("groups", func(t *testing.T) {
		data := srv.MustDo(t, tok, isolationAssignmentFields+`
		{ groups(first: 100) { totalCount nodes { id tenantId
			members(first: 100) { totalCount nodes { id tenantId } }
			assignments(first: 20) { totalCount nodes { ...asg } } } } }`, nil)
		isolated(t, data, 100)
		if got, want := jsonInt(t, data, "groups", "totalCount"), count("groups"); got != want {
			t.Errorf("groups.totalCount = %d, want tenant A's %d", got, want)
		}
		for _, g := range jsonList(t, data, "groups", "nodes") {
			id := jsonAt(t, g, "id").(string)
			u, _ := gid.Group.Parse(id)
			want := sqlScalarInt(t, db, "SELECT count(*) FROM group_members WHERE tenant_id = $1 AND group_id = $2", a, u)
			if got := jsonInt(t, g, "members", "totalCount"); got != want {
				t.Errorf("group %s: members.totalCount = %d, want %d", id, got, want)
			}
		}
	})

	t.Run("by id", func(t *testing.T) {
		r := srv.Do(t, tok, isolationAssignmentFields+`
		query($la: ID!, $lb: ID!, $aa: ID!, $ab: ID!, $ia: ID!, $ib: ID!, $pa: ID!, $pb: ID!, $ga: ID!, $gb: ID!) {
		  la: license(id: $la) { id tenantId assignments(first: 100) { nodes { ...asg } } }
		  lb: license(id: $lb) { id }
		  aa: assignment(id: $aa) { ...asg }
		  ab: assignment(id: $ab) { id }
		  ia: assignment(id: $ia) { ...asg }
		  ib: assignment(id: $ib) { id }
		  pa: person(id: $pa) { id tenantId entitlements { license { id } grants { ...asg } } groups { nodes { id } } }
		  pb: person(id: $pb) { id }
		  ga: group(id: $ga) { id tenantId members(first: 100) { nodes { id } } assignments { nodes { ...asg } } }
		  gb: group(id: $gb) { id }
		}`, map[string]any{"la": lic.a, "lb": lic.b, "aa": grant.a, "ab": grant.b, "ia": inherited.a, "ib": inherited.b,
			"pa": person.a, "pb": person.b, "ga": group.a, "gb": group.b})
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %s", r.Raw)
		}
		isolated(t, r.Data, 50)
		for alias, want := range map[string]string{"la": lic.a, "aa": grant.a, "ia": inherited.a, "pa": person.a, "ga": group.a} {
			if got := jsonAt(t, r.Data, alias, "id"); got != want {
				t.Errorf("%s: got id %v, want %s", alias, got, want)
			}
		}
		for _, alias := range []string{"lb", "ab", "ib", "pb", "gb"} {
			if r.Data[alias] != nil {
				t.Errorf("%s: tenant B's record resolved for tenant A: %v", alias, r.Data[alias])
			}
		}
	})

	t.Run("node and nodes", func(t *testing.T) {
		bs := []string{lic.b, grant.b, inherited.b, person.b, group.b, event.b}
		as := []string{lic.a, grant.a, inherited.a, person.a, group.a, event.a}
		for _, id := range bs {
			data := srv.MustDo(t, tok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			if data["node"] != nil {
				t.Errorf("node(%s) of tenant B resolved for tenant A: %v", id, data["node"])
			}
		}
		for _, id := range as {
			data := srv.MustDo(t, tok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			if got := jsonAt(t, data, "node", "id"); got != id {
				t.Errorf("node(%s) = %v, want the record", id, got)
			}
		}
		ids := []string{}
		for i := range as {
			ids = append(ids, as[i], bs[i])
		}
		data := srv.MustDo(t, tok, `query($ids: [ID!]!) { nodes(ids: $ids) { id
			... on License { tenantId assignments(first: 5) { nodes { id } } }
			... on Person { tenantId groups { nodes { id } } }
			... on Group { tenantId members(first: 5) { nodes { id } } }
			... on Assignment { tenantId assignee { ... on Person { id } ... on Group { id } } viaAssignment { id } }
		} }`, map[string]any{"ids": ids})
		isolated(t, data, len(as))
		got := jsonList(t, data, "nodes")
		if len(got) != len(ids) {
			t.Fatalf("nodes returned %d entries for %d ids", len(got), len(ids))
		}
		for i, n := range got {
			if i%2 == 1 && n != nil {
				t.Errorf("nodes[%d] (tenant B's %s) resolved: %v", i, ids[i], n)
			}
			if i%2 == 0 && (n == nil || jsonAt(t, n, "id") != ids[i]) {
				t.Errorf("nodes[%d] = %v, want tenant A's %s", i, n, ids[i])
			}
		}
	})

	t.Run("personByEmail and viewer", func(t *testing.T) {
		data := srv.MustDo(t, tok, `query($shared: String!, $onlyB: String!) {
			shared: personByEmail(email: $shared) { id tenantId }
			upper: personByEmail(email: "ADA.Andersen@demo.example") { id }
			onlyB: personByEmail(email: $onlyB) { id }
			viewer { tenantId subject person { id tenantId } }
		}`, map[string]any{"shared": ada, "onlyB": onlyInB})
		isolated(t, data, 3)
		if got := jsonAt(t, data, "shared", "id"); got != person.a {
			t.Errorf("personByEmail(%s) = %v, want tenant A's %s", ada, got, person.a)
		}
		if got := jsonAt(t, data, "upper", "id"); got != person.a {
			t.Errorf("personByEmail is not case-insensitive: %v", got)
		}
		if data["onlyB"] != nil {
			t.Errorf("personByEmail found tenant B's person: %v", data["onlyB"])
		}
		if got := jsonAt(t, data, "viewer", "tenantId"); got != a {
			t.Errorf("viewer.tenantId = %v, want %s", got, a)
		}
		if got := jsonAt(t, data, "viewer", "person", "id"); got != admin.a {
			t.Errorf("viewer.person = %v, want tenant A's admin %s", got, admin.a)
		}
	})

	t.Run("_entities", func(t *testing.T) {
		reps := []map[string]any{}
		types := []string{"License", "Assignment", "Assignment", "Person", "Group"}
		pairs := []lookAlike{lic, grant, inherited, person, group}
		for i, p := range pairs {
			reps = append(reps, map[string]any{"__typename": types[i], "id": p.a}, map[string]any{"__typename": types[i], "id": p.b})
		}
		data := srv.MustDo(t, tok, `query($r: [_Any!]!) { _entities(representations: $r) {
			__typename
			... on License { id tenantId name assignments(first: 5) { nodes { id } } }
			... on Assignment { id tenantId license { id } assignee { ... on Person { id } ... on Group { id } } }
			... on Person { id tenantId email groups { nodes { id } } }
			... on Group { id tenantId name members(first: 5) { nodes { id } } }
		} }`, map[string]any{"r": reps})
		isolated(t, data, len(pairs))
		got := jsonList(t, data, "_entities")
		if len(got) != len(reps) {
			t.Fatalf("_entities returned %d entries for %d representations", len(got), len(reps))
		}
		for i, e := range got {
			want := reps[i]["id"]
			if i%2 == 1 && e != nil {
				t.Errorf("_entities[%d] (tenant B's %s) resolved: %v", i, want, e)
			}
			if i%2 == 0 && (e == nil || jsonAt(t, e, "id") != want) {
				t.Errorf("_entities[%d] = %v, want tenant A's %s", i, e, want)
			}
		}
	})

	t.Run("filters by tenant B's ids", func(t *testing.T) {
		const q = `query($lic: [ID!], $who: [ID!], $group: ID!, $email: String!, $l: ID!) {
		  byLicense: assignments(filter: { licenseIds: $lic }) { totalCount nodes { id } }
		  byAssignee: assignments(filter: { assigneeIds: $who }) { totalCount nodes { id } }
		  viaGroup: assignments(filter: { viaGroupId: $group }) { totalCount nodes { id } }
		  byEmail: assignments(filter: { email: $email }) { totalCount nodes { id } }
		  members: people(filter: { groupId: $group }) { totalCount nodes { id } }
		  nested: license(id: $l) { assignments(filter: { assigneeIds: $who, licenseIds: $lic }) { totalCount nodes { id } } }
		}`
		conns := []string{"byLicense", "byAssignee", "viaGroup", "byEmail", "members"}

		// A's own ids: every filter matches something, so the check
		// below is not empty by accident.
		data := srv.MustDo(t, tok, q, map[string]any{"lic": []string{lic.a}, "who": []string{person.a, group.a},
			"group": group.a, "email": ada, "l": lic.a})
		isolated(t, data, 10)
		for _, c := range conns {
			if jsonInt(t, data, c, "totalCount") == 0 {
				t.Errorf("%s with tenant A's ids matches nothing", c)
			}
		}
		if jsonInt(t, data, "nested", "assignments", "totalCount") == 0 {
			t.Error("License.assignments filtered by tenant A's ids matches nothing")
		}

		r := srv.Do(t, tok, q, map[string]any{"lic": []string{lic.b}, "who": []string{person.b, group.b},
			"group": group.b, "email": onlyInB, "l": lic.a})
		if len(r.Errors) > 0 {
			t.Fatalf("filtering by tenant B's ids failed: %s", r.Raw)
		}
		isolated(t, r.Data, 0)
		for _, c := range conns {
			if n := jsonInt(t, r.Data, c, "totalCount"); n != 0 || len(nodeIDs(t, r.Data, c)) != 0 {
				t.Errorf("%s with tenant B's ids: totalCount %d, nodes %v", c, n, nodeIDs(t, r.Data, c))
			}
		}
		if n := jsonInt(t, r.Data, "nested", "assignments", "totalCount"); n != 0 {
			t.Errorf("License.assignments filtered by tenant B's ids: totalCount %d", n)
		}

		// Mixing in B's ids changes nothing about A's matches.
		mixed := srv.MustDo(t, tok, `query($lic: [ID!]) { assignments(filter: { licenseIds: $lic }) { totalCount } }`,
			map[string]any{"lic": []string{lic.a, lic.b}})
		if got, want := jsonInt(t, mixed, "assignments", "totalCount"), jsonInt(t, data, "byLicense", "totalCount"); got != want {
			t.Errorf("licenseIds [A, B]: totalCount %d, want A's alone %d", got, want)
		}
	})

	// Application callers see only their app's records; the seed wrote
	// none with an app, so a fresh app sees an empty tenant.
	t.Run("app-scoped token", func(t *testing.T) {
		billing := apitest.TokenFor(t, auth.TokenRequest{Tenant: a, Subject: "x", App: "billing"})
		const q = `query($l: ID!, $p: ID!, $email: String!, $r: [_Any!]!) {
		  licenses { totalCount nodes { id } }
		  assignments { totalCount }
		  people { totalCount }
		  groups { totalCount }
		  license(id: $l) { id }
		  node(id: $p) { id }
		  personByEmail(email: $email) { id }
		  _entities(representations: $r) { ... on License { id } }
		  viewer { tenantId appId }
		}`
		vars := map[string]any{"l": lic.a, "p": person.a, "email": ada,
			"r": []map[string]any{{"__typename": "License", "id": lic.a}}}
		data := srv.MustDo(t, billing, q, vars)
		for _, c := range []string{"licenses", "assignments", "people", "groups"} {
			if n := jsonInt(t, data, c, "totalCount"); n != 0 {
				t.Errorf("app token sees %d %s written without an app", n, c)
			}
		}
		for _, f := range []string{"license", "node", "personByEmail"} {
			if data[f] != nil {
				t.Errorf("app token resolves %s of a record written without an app: %v", f, data[f])
			}
		}
		if e := jsonList(t, data, "_entities"); len(e) != 1 || e[0] != nil {
			t.Errorf("app token resolves _entities of a record written without an app: %v", e)
		}
		if got := jsonAt(t, data, "viewer", "appId"); got != "billing" {
			t.Errorf("viewer.appId = %v, want billing", got)
		}

		// A license of the billing app in A, and one in B: the billing
		// token of A sees A's alone; another app sees neither.
		appLicense := func(tenant string) string {
			u := gid.New()
			sqlExec(t, db, `INSERT INTO licenses (tenant_id, id, app_id, name, created_by, updated_by)
				VALUES ($1, $2, 'billing', 'Billing Suite', 'x', 'x')`, tenant, u)
			return gid.License.Format(u)
		}
		mine, theirs := appLicense(a), appLicense(b)
		data = srv.MustDo(t, billing, q, vars)
		if got := nodeIDs(t, data, "licenses"); !slices.Equal(got, []string{mine}) {
			t.Errorf("billing token of A lists licenses %v, want only %s (B's is %s)", got, mine, theirs)
		}
		crm := apitest.TokenFor(t, auth.TokenRequest{Tenant: a, Subject: "x", App: "crm"})
		if n := jsonInt(t, srv.MustDo(t, crm, `{ licenses { totalCount } }`, nil), "licenses", "totalCount"); n != 0 {
			t.Errorf("crm token sees %d licenses, want 0", n)
		}
		// A caller that is no application sees every record of the tenant.
		n := jsonInt(t, srv.MustDo(t, tok, `{ licenses { totalCount } }`, nil), "licenses", "totalCount")
		if want := count("licenses"); n != want {
			t.Errorf("tenant token sees %d licenses, want all %d", n, want)
		}
	})
}
