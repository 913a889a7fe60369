package graph_test

import (
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// lastUseDrift counts the tenant's grants whose row of assignment_use is
// missing or disagrees with the grant (license or last use).
const lastUseDrift = `SELECT count(*) FROM assignments AS a
	LEFT JOIN assignment_use AS lu ON lu.tenant_id = a.tenant_id AND lu.assignment_id = a.id
	WHERE a.tenant_id = $1
	  AND (lu.assignment_id IS NULL OR lu.license_id <> a.license_id OR lu.last_used <> coalesce(a.last_used_at, '-infinity'))`

// TestLastUseFollowsGrants: the orders and ranges by last use read
// assignment_use (migration 20261201000000), so it must follow every
// grant, however it was made or used — through the API (direct, group,
// invitation, recordUsages) or by an operator's SQL — and the API's
// LAST_USED order and lastUsedBefore filter must answer from it what
// lastUsedAt shows.
func TestLastUseFollowsGrants(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("last-use")
	a := newAPI(t, srv, tenant)
	db := apitest.DB(t).SQL(t)
	lic := a.license("Linear", 0)
	ada, bob, cy := a.person("ada@lastuse.example"), a.person("bob@lastuse.example"), a.person("cy@lastuse.example")
	adaGrant := idAt(t, a.assign(lic, map[string]any{"personId": ada}), "assignment", "id")
	bobGrant := idAt(t, a.assign(lic, map[string]any{"personId": bob}), "assignment", "id")
	invite := idAt(t, a.assign(lic, map[string]any{"email": "dee@lastuse.example"}), "assignment", "id")
	a.assign(lic, map[string]any{"groupId": a.group("Platform", cy)}) // the group grant and cy's inherited one
	if n := sqlInt(t, db, `SELECT count(*) FROM assignment_use WHERE tenant_id = $1`, tenant); n != 5 {
		t.Fatalf("%d rows in assignment_use for 5 grants", n)
	}

	old := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Microsecond)
	recent := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	a.usages(map[string]any{"assignmentId": adaGrant, "usedAt": rfc(recent)},
		map[string]any{"assignmentId": bobGrant, "usedAt": rfc(old)})
	if n := sqlInt(t, db, lastUseDrift, tenant); n != 0 {
		t.Fatalf("%d grants differ from their assignment_use row after recordUsages", n)
	}
	// An operator moving a use by hand is followed too.
	if _, err := db.Exec(`UPDATE assignments SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2`,
		tenant, uuidOf(t, invite), old.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := sqlInt(t, db, lastUseDrift, tenant); n != 0 {
		t.Fatalf("%d grants differ from their assignment_use row after an UPDATE in SQL", n)
	}

	ids := func(d map[string]any) []string {
		var out []string
		for _, n := range jsonAt(t, d, "license", "assignments", "nodes").([]any) {
			out = append(out, n.(map[string]any)["id"].(string))
		}
		return out
	}
	// Most recent first: ada (an hour ago), bob (two days), the invitation
	// (two days and an hour), then the never-used group grant and cy's.
	d := a.query(`query($l: ID!) { license(id: $l) { assignments(first: 3, orderBy: {field: LAST_USED, direction: DESC}) {
		nodes { id lastUsedAt } } } }`, map[string]any{"l": lic})
	sameIDs(t, "LAST_USED DESC", ids(d), []string{adaGrant, bobGrant, invite})
	if got := ids(d); len(got) == 3 && (got[0] != adaGrant || got[1] != bobGrant || got[2] != invite) {
		t.Errorf("LAST_USED DESC = %v, want ada, bob, the invitation in that order", got)
	}
	// Unused for a day: bob, the invitation and the two never used; not ada.
	d = a.query(`query($l: ID!, $before: DateTime!) { license(id: $l) { assignments(first: 10,
		filter: {lastUsedBefore: $before}, orderBy: {field: LAST_USED}) { nodes { id } } } }`,
		map[string]any{"l": lic, "before": rfc(time.Now().Add(-24 * time.Hour))})
	got := ids(d)
	if len(got) != 4 || got[2] != invite || got[3] != bobGrant {
		t.Errorf("lastUsedBefore a day ago, LAST_USED ASC = %v, want the 2 never used, the invitation, bob", got)
	}
	for _, g := range got {
		if g == adaGrant {
			t.Errorf("ada, used an hour ago, listed as unused for a day")
		}
	}
}

// TestUsageWritesNoAssignmentIndex: no index of assignments holds
// last_used_at, in its columns, expressions or predicate, so a usage
// update can stay on its page and writes none of the table's indexes
// (recordUsages' throughput, issue 16). An index wanted on last use
// belongs on assignment_use.
func TestUsageWritesNoAssignmentIndex(t *testing.T) {
	db := apitest.DB(t).SQL(t)
	rows, err := db.Query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'assignments'
		AND indexdef LIKE '%last_used_at%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		t.Errorf("index %s of assignments holds last_used_at: every usage update writes every index of the table", name)
	}
	if n := sqlInt(t, db, `SELECT count(*) FROM pg_indexes WHERE tablename = 'assignment_use'`); n != 3 {
		t.Errorf("assignment_use has %d indexes, want 3 (its key, by license, by tenant)", n)
	}
}
