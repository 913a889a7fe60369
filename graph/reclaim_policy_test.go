package graph_test

import (
	"testing"

	"seatgraph/internal/apitest"
)

// A grant that waited on the waitlist (or whose person was deactivated)
// has held its seat only since it was promoted: its idle time counts from
// then, not from assignedAt. Otherwise a seat freed by the policy goes to
// the longest waiter, who is warned at the next run and loses the seat a
// grace period later, and so on down the waitlist.
func TestReclaimPromotedSeatIdleSincePromotion(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-promoted")
	lic := e.license("Adobe", 1)
	idle := e.grant(lic, e.person("idle@example.com"))
	waiting := idAt(t, e.ok("assignLicense", "assignment { id status }", map[string]any{"licenseId": lic,
		"personId": e.person("wait@example.com"), "waitlist": true}), "assignment", "id")
	// Both were granted 40 days ago; neither has been used since.
	e.exec(`UPDATE assignments SET assigned_at = now() - interval '40 days' WHERE tenant_id = $1`)
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 0, "action": "REVOKE"})
	e.run() // warns the idle seat
	e.run() // revokes it; the waiter is promoted
	if s, w := e.status(idle), e.status(waiting); s != "REVOKED" || w != "ACTIVE" {
		t.Fatalf("idle seat %s, waiter %s; want REVOKED, ACTIVE", s, w)
	}
	sameIDs(t, "warn right after the promotion", e.plan(lic)["warn"], nil)
	e.run()
	if h := e.history(waiting); h[len(h)-1] != "PROMOTED by reclaim-policy:"+lic {
		t.Errorf("history of the seat promoted a moment ago = %v, want no warning after PROMOTED", h)
	}
	// Idle for inactiveDays after its promotion, it is warned like any seat.
	e.exec(`UPDATE assignment_events SET occurred_at = occurred_at - interval '31 days'
		WHERE tenant_id = $1 AND type = 'PROMOTED'`)
	sameIDs(t, "warn 31 days after the promotion", e.plan(lic)["warn"], []string{waiting})
}
