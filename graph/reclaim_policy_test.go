package graph_test

import (
	"testing"
	"time"

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
	// (In UTC: Citus refuses timestamptz - interval, a STABLE function of
	// a column, in an UPDATE's SET; docs/scale-out.md rule 10.)
	e.exec(`UPDATE assignment_events SET occurred_at = ((occurred_at AT TIME ZONE 'UTC') - interval '31 days') AT TIME ZONE 'UTC'
		WHERE tenant_id = $1 AND type = 'PROMOTED'`)
	sameIDs(t, "warn 31 days after the promotion", e.plan(lic)["warn"], []string{waiting})
}

// A warning promises an action and a deadline (its event says both).
// Changing the policy's action or grace period cancels the pending
// warnings, and the next run warns again under the new terms: a holder
// told "suspended in 30 days" is never revoked at the next run.
func TestReclaimPolicyChangeRewarns(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-change")
	lic := e.license("Jira", 0)
	seat := e.grant(lic, e.person("idle@example.com"))
	e.unusedFor(seat, 60)
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 30, "action": "SUSPEND"})
	if n := e.run(); n != 1 {
		t.Fatalf("first run changed %d seats, want 1 (the warning)", n)
	}
	e.passDays(1)
	// Stricter: revoke, at once.
	p := e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 0, "action": "REVOKE"})
	sameIDs(t, "nextRun.due after the change", planIDs(t, p["nextRun"])["due"], nil)
	sameIDs(t, "nextRun.warn after the change", planIDs(t, p["nextRun"])["warn"], []string{seat})
	if h := e.history(seat); h[len(h)-1] != "RECLAIM_CANCELLED by test-user" {
		t.Errorf("history after the policy changed = %v, want the warning cancelled", h)
	}
	e.run()
	if s := e.status(seat); s != "ACTIVE" {
		t.Fatalf("the run after the change: seat %s, want ACTIVE (warned again, not revoked)", s)
	}
	d := e.query(`query($id: ID!) { assignment(id: $id) { history(last: 1) { nodes { type changes } } } }`, map[string]any{"id": seat})
	if last := jsonAt(t, d, "assignment", "history", "nodes", 0); jsonAt(t, last, "type") != "RECLAIM_WARNING" ||
		jsonAt(t, last, "changes", "action") != "REVOKE" {
		t.Errorf("the seat's last history row = %v, want a new warning saying REVOKE", last)
	}
	e.run()
	if s := e.status(seat); s != "REVOKED" {
		t.Errorf("the run after the new warning: seat %s, want REVOKED", s)
	}
	// Setting the same terms again keeps the warnings.
	other := e.grant(lic, e.person("other@example.com"))
	e.unusedFor(other, 60)
	e.run()
	e.policy(lic, map[string]any{"inactiveDays": 40, "graceDays": 0, "action": "REVOKE"})
	sameIDs(t, "due after the same terms were set again", e.plan(lic)["due"], []string{other})
}

// A holder who joins an excluded group during the grace period is not
// acted on: the next run cancels the warning instead. A group deleted
// later excludes no one.
func TestReclaimExcludedDuringGrace(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-join")
	lic := e.license("Linear", 0)
	person := e.person("idle@example.com")
	seat := e.grant(lic, person)
	execs := e.group("Executives")
	e.unusedFor(seat, 60)
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 0, "action": "REVOKE", "excludeGroupIds": []string{execs}})
	if n := e.run(); n != 1 {
		t.Fatalf("first run changed %d seats, want 1 (the warning)", n)
	}
	e.ok("addGroupMembers", "", map[string]any{"groupId": execs, "personIds": []string{person}})
	sameIDs(t, "due after joining an excluded group", e.plan(lic)["due"], nil)
	if n := e.run(); n != 1 || e.status(seat) != "ACTIVE" {
		t.Fatalf("the run after the holder joined an excluded group changed %d seats, status %s; want 1 (the cancellation), ACTIVE", n, e.status(seat))
	}
	if h := e.history(seat); h[len(h)-1] != "RECLAIM_CANCELLED by reclaim-policy:"+lic {
		t.Errorf("history = %v, want the warning cancelled by the policy", h)
	}
	e.ok("deleteGroup", "", map[string]any{"id": execs})
	sameIDs(t, "warn after the excluded group was deleted", e.plan(lic)["warn"], []string{seat})
}

// A person holds one seat per license however many grants reach them
// (seat rule 1): usage recorded on their inherited grant is use of the
// seat, so their direct grant on the same license is not warned.
func TestReclaimUsageThroughAnotherGrant(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-both")
	lic := e.license("GitHub", 0)
	person := e.person("dev@example.com")
	team := e.group("Team", person)
	direct := e.grant(lic, person)
	e.assign(lic, map[string]any{"groupId": team})
	inherited := idAt(t, e.query(`query($g: ID!) { assignments(filter: {viaGroupId: $g}) { nodes { id } } }`,
		map[string]any{"g": team}), "assignments", "nodes", 0, "id")
	e.exec(`UPDATE assignments SET assigned_at = now() - interval '90 days' WHERE tenant_id = $1`)
	e.ok("recordUsage", "", map[string]any{"assignmentId": inherited})
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 0, "action": "REVOKE"})
	sameIDs(t, "warn while the person uses the license through the group", e.plan(lic)["warn"], nil)
	if n := e.run(); n != 0 {
		t.Errorf("the run changed %d seats, want 0", n)
	}
	// Unused on both grants for 40 days, the direct grant is warned; a use
	// through the group then cancels the warning as a use.
	e.exec(`UPDATE assignments SET last_used_at = now() - interval '40 days' WHERE tenant_id = $1`)
	if n := e.run(); n != 1 {
		t.Fatalf("the run after 40 idle days changed %d seats, want 1 (the warning)", n)
	}
	e.ok("recordUsage", "", map[string]any{"assignmentId": inherited})
	if n := e.run(); n != 1 || e.status(direct) != "ACTIVE" {
		t.Fatalf("the run after a use through the group changed %d seats, direct grant %s; want 1 (the cancellation), ACTIVE", n, e.status(direct))
	}
	d := e.query(`query($id: ID!) { assignment(id: $id) { history(last: 1) { nodes { type changes } } } }`, map[string]any{"id": direct})
	if last := jsonAt(t, d, "assignment", "history", "nodes", 0); jsonAt(t, last, "changes", "reason") != "the seat was used after the warning" {
		t.Errorf("the direct grant's last history row = %v, want cancelled as used", last)
	}
}

// A seat is idle since it began: a use dated before the grant was made
// (an agent's buffered report of an earlier seat) does not make a new
// seat look long unused, and an invitation taken up by its person today
// (the new hire joined) is not idle for the days it waited.
func TestReclaimIdleSinceTheSeatBegan(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-began")
	lic := e.license("Notion", 0)
	idle := e.grant(lic, e.person("idle@example.com"))
	e.unusedFor(idle, 40)
	fresh := e.grant(lic, e.person("fresh@example.com"))
	e.ok("recordUsage", "updated", map[string]any{"assignmentId": fresh,
		"usedAt": time.Now().Add(-60 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	invited := idAt(t, e.assign(lic, map[string]any{"email": "hire@example.com"}), "assignment", "id")
	e.unusedFor(invited, 40)
	e.person("hire@example.com") // takes the invitation up
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 7, "action": "SUSPEND"})
	sameIDs(t, "warn", e.plan(lic)["warn"], []string{idle})
	if n := e.run(); n != 1 {
		t.Errorf("the run changed %d seats, want 1 (the idle seat's warning)", n)
	}
}
