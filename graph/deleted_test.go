package graph_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
)

// TestIncludeDeleted checks that soft-deleted records are hidden from every
// list, and shown by includeDeleted only to an admin.
func TestIncludeDeleted(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("deleted")
	f := apitest.NewFixture(t, srv.DB, tenant)
	db := apitest.DB(t).SQL(t)
	keep, gone := f.License("Kept", 0), f.License("Gone", 0)
	p := f.People("d", 3)
	g, dg := f.Group("Kept group", p[0], p[2]), f.Group("Gone group", p[0])
	live := f.Assign(keep, p[0])[0]
	dead := f.Assign(keep, p[1])[0]
	del := func(table string, id uuid.UUID) {
		sqlExec(t, db, "UPDATE "+table+" SET is_deleted = true, deleted_at = now(), deleted_by = 'x' WHERE tenant_id = $1 AND id = $2", tenant, id)
	}
	del("licenses", gone.ID)
	del("people", p[2].ID)
	del("groups", dg.ID)
	del("assignments", dead.ID)

	const q = `query($all: Boolean, $l: ID!, $g: ID!, $p: ID!) {
	  licenses(filter: { includeDeleted: $all }) { totalCount nodes { id isDeleted } }
	  people(filter: { includeDeleted: $all }) { totalCount nodes { id isDeleted } }
	  groups(filter: { includeDeleted: $all }) { totalCount nodes { id isDeleted } }
	  assignments(filter: { includeDeleted: $all }) { totalCount nodes { id isDeleted } }
	  license(id: $l) { assignments(filter: { includeDeleted: $all }) { totalCount nodes { id } } }
	  group(id: $g) { members(filter: { includeDeleted: $all }) { totalCount nodes { id } } }
	  person(id: $p) { groups(filter: { includeDeleted: $all }) { totalCount nodes { id } } }
	}`
	vars := func(all any) map[string]any {
		return map[string]any{"all": all, "l": gid.License.Format(keep.ID), "g": gid.Group.Format(g.ID), "p": gid.Person.Format(p[0].ID)}
	}
	lists := map[string][]any{
		"licenses": {"licenses"}, "people": {"people"}, "groups": {"groups"}, "assignments": {"assignments"},
		"License.assignments": {"license", "assignments"}, "Group.members": {"group", "members"},
		"Person.groups": {"person", "groups"},
	}
	// People: the fixture's admin, d-0, d-1, and the deleted d-2.
	visible := map[string][]string{
		"licenses":            {gid.License.Format(keep.ID)},
		"people":              {gid.Person.Format(f.Admin.ID), gid.Person.Format(p[0].ID), gid.Person.Format(p[1].ID)},
		"groups":              {gid.Group.Format(g.ID)},
		"assignments":         {gid.Assignment.Format(live.ID)},
		"License.assignments": {gid.Assignment.Format(live.ID)},
		"Group.members":       {gid.Person.Format(p[0].ID)},
		"Person.groups":       {gid.Group.Format(g.ID)},
	}
	deleted := map[string]string{
		"licenses": gid.License.Format(gone.ID), "people": gid.Person.Format(p[2].ID), "groups": gid.Group.Format(dg.ID),
		"assignments": gid.Assignment.Format(dead.ID), "License.assignments": gid.Assignment.Format(dead.ID),
		"Group.members": gid.Person.Format(p[2].ID), "Person.groups": gid.Group.Format(dg.ID),
	}
	check := func(t *testing.T, data map[string]any, withDeleted bool) {
		t.Helper()
		for name, path := range lists {
			want := slices.Clone(visible[name])
			if withDeleted {
				want = append(want, deleted[name])
			}
			slices.Sort(want)
			got := nodeIDs(t, data, path...)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s (includeDeleted %v): %v, want %v", name, withDeleted, got, want)
			}
			if n := jsonInt(t, data, append(path, "totalCount")...); n != len(want) {
				t.Errorf("%s (includeDeleted %v): totalCount %d, want %d", name, withDeleted, n, len(want))
			}
		}
		for _, name := range []string{"licenses", "people", "groups", "assignments"} {
			for _, n := range jsonList(t, data, name, "nodes") {
				if isDel := jsonAt(t, n, "isDeleted"); isDel != (jsonAt(t, n, "id") == deleted[name]) {
					t.Errorf("%s %v: isDeleted %v", name, jsonAt(t, n, "id"), isDel)
				}
			}
		}
	}

	reader := apitest.Token(t, tenant, auth.ScopeLicensesRead, auth.ScopeDirectoryRead)
	admin := apitest.Token(t, tenant, auth.ScopeAdmin)
	t.Run("hidden by default", func(t *testing.T) {
		check(t, srv.MustDo(t, reader, q, vars(nil)), false)
		check(t, srv.MustDo(t, reader, q, vars(false)), false)
		check(t, srv.MustDo(t, admin, q, vars(nil)), false)
	})
	t.Run("shown to an admin", func(t *testing.T) {
		check(t, srv.MustDo(t, admin, q, vars(true)), true)
	})
	t.Run("refused to others", func(t *testing.T) {
		for name, q := range map[string]string{
			"licenses":            `{ licenses(filter: { includeDeleted: true }) { totalCount } }`,
			"people":              `{ people(filter: { includeDeleted: true }) { totalCount } }`,
			"groups":              `{ groups(filter: { includeDeleted: true }) { totalCount } }`,
			"assignments":         `{ assignments(filter: { includeDeleted: true }) { totalCount } }`,
			"License.assignments": `query($l: ID!) { license(id: $l) { assignments(filter: { includeDeleted: true }) { nodes { id } } } }`,
			"Group.members":       `query($g: ID!) { group(id: $g) { members(filter: { includeDeleted: true }) { nodes { id } } } }`,
			"Person.groups":       `query($p: ID!) { person(id: $p) { groups(filter: { includeDeleted: true }) { nodes { id } } } }`,
			"Person.assignments":  `query($p: ID!) { person(id: $p) { assignments(filter: { includeDeleted: true }) { nodes { id } } } }`,
			"Group.assignments":   `query($g: ID!) { group(id: $g) { assignments(filter: { includeDeleted: true }) { nodes { id } } } }`,
			"a filter variable":   `query($f: LicenseFilter) { licenses(filter: $f) { totalCount } }`,
		} {
			r := srv.Do(t, reader, q, map[string]any{"l": gid.License.Format(keep.ID), "g": gid.Group.Format(g.ID), "p": gid.Person.Format(p[0].ID),
				"f": map[string]any{"includeDeleted": true}})
			if !slices.Contains(r.Codes(), "FORBIDDEN") {
				t.Errorf("%s with includeDeleted and no admin scope: got %s, want FORBIDDEN", name, r.Raw)
			}
			if d := deleted[name]; d != "" && strings.Contains(string(r.Raw), d) {
				t.Errorf("%s: the refused request still shows the deleted record: %s", name, r.Raw)
			}
		}
	})
	t.Run("personByEmail skips deleted people", func(t *testing.T) {
		data := srv.MustDo(t, admin, `query($e: String!) { personByEmail(email: $e) { id } }`, map[string]any{"e": p[2].Email})
		if data["personByEmail"] != nil {
			t.Errorf("personByEmail found the deleted person: %v", data["personByEmail"])
		}
	})
}

// A deleted grant holds no seat, and reads say so.
func TestDeletedGrantReadsRevoked(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("deleted-status"))
	lic := a.license("L", 3)
	grp := a.group("G", a.person("ada@example.com"))
	a.assign(lic, map[string]any{"groupId": grp})
	a.ok("deleteGroup", "group { id }", map[string]any{"id": grp})
	d := a.query(`{ assignments(filter: {includeDeleted: true}) { nodes { isDeleted status } } active: assignments(filter: {includeDeleted: true, status: [ACTIVE]}) { totalCount } }`, nil)
	for _, n := range d["assignments"].(map[string]any)["nodes"].([]any) {
		if n := n.(map[string]any); n["isDeleted"] != true || n["status"] != "REVOKED" {
			t.Fatalf("deleted grant reads %v, want REVOKED", n)
		}
	}
	if n := num(d["active"].(map[string]any)["totalCount"]); n != 0 {
		t.Fatalf("%d deleted grants counted as ACTIVE", n)
	}
}
