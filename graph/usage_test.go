package graph_test

import (
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
)

// TestRecordUsage: lastUsedAt only moves forward, usage writes no history,
// the future is refused, and a call costs one data statement.
func TestRecordUsage(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("usage")
	a := newAPI(t, srv, tenant)
	db := apitest.DB(t).SQL(t)
	lic := a.license("Copilot", 5)
	ada := a.person("ada@example.com")
	asg := idAt(t, a.assign(lic, map[string]any{"personId": ada}), "assignment", "id")
	u, _ := gid.Assignment.Parse(asg)

	read := func() (lastUsed any, updatedAt string) {
		d := a.query(`query($id: ID!) { assignment(id: $id) { lastUsedAt updatedAt } }`, map[string]any{"id": asg})
		return jsonAt(t, d, "assignment", "lastUsedAt"), jsonAt(t, d, "assignment", "updatedAt").(string)
	}
	events := func() int {
		return sqlScalarInt(t, db, "SELECT count(*) FROM assignment_events WHERE tenant_id = $1 AND assignment_id = $2", tenant, u)
	}
	if last, _ := read(); last != nil {
		t.Fatalf("a new assignment has lastUsedAt %v", last)
	}
	_, updatedBefore := read()
	eventsBefore := events()

	t1 := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	p := a.ok("recordUsage", "updated", map[string]any{"assignmentId": asg, "usedAt": t1.Format(time.RFC3339)})
	if num(p["updated"]) != 1 {
		t.Fatalf("first use: updated = %v, want 1", p["updated"])
	}
	last, updatedAt := read()
	if got, _ := time.Parse(time.RFC3339Nano, last.(string)); !got.Equal(t1) {
		t.Fatalf("lastUsedAt = %v, want %s", last, t1)
	}
	if updatedAt != updatedBefore {
		t.Errorf("recordUsage moved updatedAt from %s to %s; usage is not an edit", updatedBefore, updatedAt)
	}

	// An older use does not move lastUsedAt back, nor write anything.
	// Named either way (by id is a path of its own: licensing.recordOne).
	before := snapshot(t, db, tenant)
	older := t1.Add(-time.Minute).Format(time.RFC3339)
	for _, in := range []map[string]any{{"licenseId": lic, "personId": ada, "usedAt": older}, {"assignmentId": asg, "usedAt": older}} {
		if p = a.ok("recordUsage", "updated", in); num(p["updated"]) != 0 {
			t.Errorf("older use %v: updated = %v, want 0", in, p["updated"])
		}
	}
	if l, _ := read(); l != last {
		t.Errorf("an older use moved lastUsedAt from %v to %v", last, l)
	}
	if snapshot(t, db, tenant) != before {
		t.Error("an older use changed the database")
	}

	// A newer one (by license and person, defaulting to now) moves it.
	p = a.ok("recordUsage", "updated", map[string]any{"licenseId": lic, "personId": ada})
	if num(p["updated"]) != 1 {
		t.Errorf("use now: updated = %v, want 1", p["updated"])
	}
	l, _ := read()
	if got, _ := time.Parse(time.RFC3339Nano, l.(string)); !got.After(t1) || time.Since(got) > time.Minute {
		t.Errorf("lastUsedAt after a use now = %v", l)
	}
	if n := events(); n != eventsBefore {
		t.Errorf("recordUsage wrote %d history rows", n-eventsBefore)
	}

	// The future is refused.
	before = snapshot(t, db, tenant)
	a.fails("recordUsage", "INVALID", map[string]any{"assignmentId": asg, "usedAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	if snapshot(t, db, tenant) != before {
		t.Error("a refused future use changed the database")
	}

	// One statement, without a transaction around it (on Citus, BEGIN with
	// SET LOCAL and COMMIT around it).
	for _, in := range []map[string]any{{"assignmentId": asg}, {"licenseId": lic, "personId": ada}} {
		n := srv.DB.Statements()
		a.ok("recordUsage", "updated", in)
		if d := srv.DB.Statements() - n; d > 3 {
			t.Errorf("recordUsage(%v) ran %d statements, want at most 3 (one update; on Citus BEGIN and COMMIT)", in, d)
		}
	}
}
