package graph_test

import (
	"context"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/clock"
	"seatgraph/internal/licensing"
)

// TestReplicaClockSkew: the times that decide the seat rules are the
// database's, so a replica whose own clock is an hour ahead or behind
// decides expiry, stamps updatedAt and history, and detects stale writes
// exactly as one with a right clock. The skew is internal/clock's shift:
// TestNoProcessClockInRules makes every time of this process in the rule
// code come from internal/clock.Now, so a rule judged by it fails here.
func TestReplicaClockSkew(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("skew")
	a := newAPI(t, srv, tenant)
	db := apitest.DB(t).SQL(t)
	dbNow := func() time.Time {
		var now time.Time
		if err := db.QueryRow("SELECT now()").Scan(&now); err != nil {
			t.Fatal(err)
		}
		return now
	}
	near := func(what string, v any, want time.Time) time.Time {
		t.Helper()
		got, err := time.Parse(time.RFC3339Nano, v.(string))
		if err != nil || got.Sub(want).Abs() > time.Minute {
			t.Errorf("%s = %v, want the database's time %s", what, v, want.Format(time.RFC3339))
		}
		return got
	}
	lic := a.license("Skewed", 1)
	ada, bob := a.person("ada@skew.example"), a.person("bob@skew.example")
	const grant = "assignment { id status updatedAt history { nodes { type occurredAt } } }"

	// A replica an hour ahead: a grant ending in 30 minutes (by the
	// database) is still to come, and stays ACTIVE through other writes.
	t.Cleanup(clock.Shift(time.Hour))
	ends := dbNow().Add(30 * time.Minute)
	p := a.ok("assignLicense", grant, map[string]any{"licenseId": lic, "personId": ada, "expiresAt": ends.Format(time.RFC3339Nano)})
	asg := jsonAt(t, p, "assignment", "id").(string)
	if st := jsonAt(t, p, "assignment", "status"); st != "ACTIVE" {
		t.Errorf("a grant ending in 30 minutes reads %v on a replica an hour ahead, want ACTIVE", st)
	}
	first := near("updatedAt", jsonAt(t, p, "assignment", "updatedAt"), dbNow())
	near("history occurredAt", jsonAt(t, p, "assignment", "history", "nodes", 0, "occurredAt"), dbNow())
	a.fails("assignLicense", "SEAT_LIMIT_REACHED", map[string]any{"licenseId": lic, "personId": bob})
	if n, err := licensing.ExpireTenant(context.Background(), srv.DB, tenant); err != nil || n != 0 {
		t.Errorf("the expiry job on a replica an hour ahead expired %d grants (%v), want none", n, err)
	}

	// Stale-write detection and updatedAt across replicas whose clocks
	// disagree by two hours: every write moves updatedAt forward.
	a.fails("updateAssignment", "STALE_WRITE", map[string]any{"id": asg, "active": false,
		"expectedUpdatedAt": first.Add(-time.Microsecond).Format(time.RFC3339Nano)})
	clock.Shift(-time.Hour)
	p = a.ok("updateAssignment", "assignment { updatedAt }", map[string]any{"id": asg, "active": false,
		"expectedUpdatedAt": first.Format(time.RFC3339Nano)})
	second := near("updatedAt", jsonAt(t, p, "assignment", "updatedAt"), dbNow())
	if !second.After(first) {
		t.Errorf("updatedAt went from %s to %s on a replica an hour behind", first, second)
	}
	a.fails("updateAssignment", "STALE_WRITE", map[string]any{"id": asg, "active": true,
		"expectedUpdatedAt": first.Format(time.RFC3339Nano)})

	// A replica an hour behind: a grant whose end has passed (by the
	// database) reads EXPIRED, and a write on its license frees its seat.
	if _, err := db.Exec("UPDATE assignments SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1", tenant); err != nil {
		t.Fatal(err)
	}
	d := a.query(`query($id: ID!) { assignment(id: $id) { status } }`, map[string]any{"id": asg})
	if st := jsonAt(t, d, "assignment", "status"); st != "EXPIRED" {
		t.Errorf("a grant ended a minute ago reads %v on a replica an hour behind, want EXPIRED", st)
	}
	p = a.ok("assignLicense", "assignment { status }", map[string]any{"licenseId": lic, "personId": bob})
	if st := jsonAt(t, p, "assignment", "status"); st != "ACTIVE" {
		t.Errorf("bob, after ada's grant ended: %v, want ACTIVE", st)
	}
}
