package graph_test

import (
	"testing"

	"seatgraph/internal/apitest"
)

// A seat the policy suspended and an admin then resumed starts its idle
// time again at the resumption: the admin gave it back on purpose, so the
// next run must not warn it at once (it was unused for months before the
// suspension); it is warned again only inactiveDays after the resumption.
func TestReclaimResumedSeatStartsOver(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-resume")
	lic := e.license("Miro", 0)
	seat := e.grant(lic, e.person("back-from-leave@example.com"))
	e.usedAgo(seat, 60)
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 2, "action": "SUSPEND"})
	if n := e.run(); n != 1 {
		t.Fatalf("first run changed %d seats, want 1 warning", n)
	}
	e.passDays(2)
	if n := e.run(); n != 1 || e.status(seat) != "SUSPENDED" {
		t.Fatalf("the run after grace changed %d seats, status %s; want 1, SUSPENDED", n, e.status(seat))
	}
	e.ok("updateAssignment", "assignment { id }", map[string]any{"id": seat, "active": true})
	if p := e.plan(lic); len(p["warn"]) != 0 {
		t.Errorf("reclaimCandidates warns the seat just resumed by hand: %v", p)
	}
	if n := e.run(); n != 0 {
		t.Errorf("the run after the resumption changed %d seats, want 0", n)
	}
	// Thirty days after the resumption, still unused: warned again.
	e.exec(`UPDATE assignment_events SET occurred_at = ((occurred_at AT TIME ZONE 'UTC') - interval '31 days') AT TIME ZONE 'UTC'
		WHERE tenant_id = $1 AND assignment_id = $2 AND type = 'RESUMED'`, uuidOf(t, seat))
	sameIDs(t, "warn 31 days after the resumption", e.plan(lic)["warn"], []string{seat})
}
