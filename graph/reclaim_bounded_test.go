package graph_test

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
	"seatgraph/models"
)

// Disabling a policy, or changing its action or grace period, is bounded
// work per request: the request cancels at most 500 pending warnings (the
// bound of a run) and the reclaim job cancels the rest, 500 a run. The
// warnings left no longer stand from the moment of the change: the job
// never acts on them, and reclaimCandidates shows them as to be cancelled.

// requestBound is how many warnings setReclaimPolicy cancels in its own
// request (the bound of a run's lists, as the schema says).
const requestBound = 500

// idleSeats gives license n direct seats unused for days (written through
// the store in one insert: n grants one by one through the API would only
// make the test slow) and returns their ids.
func (e *reclaimEnv) idleSeats(license string, n, days int) []string {
	e.t.Helper()
	id, err := gid.License.Parse(license)
	if err != nil {
		e.t.Fatal(err)
	}
	f := apitest.NewFixture(e.t, e.srv.DB, e.tenant)
	l := &models.License{Record: models.Record{ID: id}}
	var out []string
	for _, a := range f.Assign(l, f.People("idle", n)...) {
		out = append(out, gid.Assignment.Format(a.ID))
	}
	e.exec(`UPDATE assignments SET assigned_at = now() - make_interval(days => $2), last_used_at = NULL
		WHERE tenant_id = $1 AND license_id = $3`, days, id)
	return out
}

// runUntilQuiet runs the job until a run changes none of the tenant's
// seats, and returns how many runs changed some (it fails after 10).
func (e *reclaimEnv) runUntilQuiet() int {
	e.t.Helper()
	for i := range 10 {
		if e.run() == 0 {
			return i
		}
	}
	e.t.Fatal("the reclaim job still changed seats after 10 runs")
	return 0
}

// historyCount counts the tenant's history rows of type by actor.
func (e *reclaimEnv) historyCount(typ, actor string) int {
	e.t.Helper()
	return sqlInt(e.t, e.super, `SELECT count(*) FROM assignment_events WHERE tenant_id = $1 AND type = $2 AND actor = $3`,
		e.tenant, typ, actor)
}

// pending is the ids of the seats whose warning is still pending.
func (e *reclaimEnv) pending() []string {
	e.t.Helper()
	rows, err := e.super.Query(`SELECT assignment_id FROM reclaim_warnings WHERE tenant_id = $1`, e.tenant)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, gid.Assignment.Format(id))
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// cancelReasons is reclaimCandidates' cancel list as reason by seat.
func (e *reclaimEnv) cancelReasons(license string) map[string]string {
	e.t.Helper()
	d := e.query(planQuery, map[string]any{"l": license})
	out := map[string]string{}
	for _, c := range jsonAt(e.t, d, "reclaimCandidates", "cancel").([]any) {
		reason, _ := jsonAt(e.t, c, "reason").(string)
		out[jsonAt(e.t, c, "assignment", "id").(string)] = reason
	}
	return out
}

// checkCancelled fails unless reclaimCandidates' cancel list is exactly
// the pending warnings, each with reason.
func (e *reclaimEnv) checkCancelled(license, when, reason string, want int) {
	e.t.Helper()
	pending := e.pending()
	if len(pending) != want {
		e.t.Errorf("%s: %d warnings pending, want %d", when, len(pending), want)
	}
	got := e.cancelReasons(license)
	for _, id := range pending {
		if got[id] != reason {
			e.t.Errorf("%s: reclaimCandidates shows pending warning %s with reason %q in cancel, want %q", when, id, got[id], reason)
		}
	}
	if len(got) != len(pending) {
		e.t.Errorf("%s: reclaimCandidates cancels %d seats, want the %d pending", when, len(got), len(pending))
	}
}

const (
	disabledReason = "the reclaim policy was disabled"
	changedReason  = "the reclaim policy's action or grace period changed: the seat is warned again under the new terms"
)

// Disabling a policy with more pending warnings than a request's bound:
// the request cancels 500 of them, the job the rest; none of the seats is
// revoked, though every deadline has passed by then.
func TestReclaimDisableBoundedPerRequest(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-disable-bound")
	lic := e.license("Wide", 0)
	const n = requestBound + 10
	e.idleSeats(lic, n, 60)
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 7, "action": "REVOKE"})
	e.runUntilQuiet()
	if w := e.historyCount("RECLAIM_WARNING", "reclaim-policy:"+lic); w != n {
		t.Fatalf("%d seats warned, want %d", w, n)
	}

	p := e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 7, "action": "REVOKE", "enabled": false})
	if c := e.historyCount("RECLAIM_CANCELLED", "test-user"); c != requestBound {
		t.Errorf("disabling cancelled %d warnings in its request, want %d (the bound)", c, requestBound)
	}
	next := planIDs(t, p["nextRun"])
	if len(next["cancel"]) != n-requestBound || len(next["due"])+len(next["inGrace"])+len(next["warn"]) != 0 {
		t.Errorf("setReclaimPolicy's nextRun after disabling = %v, want the %d warnings left in cancel only", next, n-requestBound)
	}
	e.checkCancelled(lic, "after disabling", disabledReason, n-requestBound)

	// Every deadline passes: the warnings left are cancelled, never acted on.
	e.passDays(8)
	if plan := e.plan(lic); len(plan["due"])+len(plan["inGrace"])+len(plan["warn"]) != 0 {
		t.Errorf("candidates of a disabled policy past the deadlines = %v, want cancel only", plan)
	}
	left := e.pending()
	if len(left) == 0 {
		t.Fatal("no warning left for the job to cancel")
	}
	if c := e.run(); c != n-requestBound {
		t.Errorf("the run after disabling changed %d seats, want %d (the cancellations left)", c, n-requestBound)
	}
	if r := sqlInt(t, e.super, `SELECT count(*) FROM assignments WHERE tenant_id = $1 AND (revoked_at IS NOT NULL OR NOT active)`, e.tenant); r != 0 {
		t.Errorf("%d seats revoked or suspended under a disabled policy", r)
	}
	if c := e.historyCount("RECLAIM_CANCELLED", "reclaim-policy:"+lic); c != n-requestBound {
		t.Errorf("the job cancelled %d warnings, want %d", c, n-requestBound)
	}
	d := e.query(`query($id: ID!) { assignment(id: $id) { status history(last: 1) { nodes { type actor changes } } } }`,
		map[string]any{"id": left[0]})
	if last := jsonAt(t, d, "assignment", "history", "nodes", 0); jsonAt(t, last, "type") != "RECLAIM_CANCELLED" ||
		jsonAt(t, last, "actor") != "reclaim-policy:"+lic || jsonAt(t, last, "changes", "reason") != disabledReason ||
		jsonAt(t, d, "assignment", "status") != "ACTIVE" {
		t.Errorf("a seat whose warning the job cancelled: %v, want ACTIVE, its warning cancelled by the policy as disabled", d)
	}
	if e.runUntilQuiet() != 0 || len(e.pending()) != 0 {
		t.Errorf("the job still works on a disabled policy whose warnings are all cancelled (%d pending)", len(e.pending()))
	}
	if n := sqlInt(t, e.super, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'assignment.reclaim_cancelled'`, e.tenant); n != requestBound+10 {
		t.Errorf("%d assignment.reclaim_cancelled events, want %d", n, requestBound+10)
	}
}

// Changing a policy's terms with more pending warnings than a request's
// bound: the warnings the request leaves promised the old terms (suspend,
// 30 days of grace, long passed) and are never acted on under the new
// ones (revoke at once): the job cancels them and warns again, and a seat
// is revoked only after a warning that said REVOKE.
func TestReclaimChangeBoundedPerRequest(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-change-bound")
	lic := e.license("Wide", 0)
	const n = requestBound + 10
	e.idleSeats(lic, n, 60)
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 30, "action": "SUSPEND"})
	e.runUntilQuiet()
	e.passDays(31) // every warning's deadline has passed

	p := e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 0, "action": "REVOKE"})
	if c := e.historyCount("RECLAIM_CANCELLED", "test-user"); c != requestBound {
		t.Errorf("changing the terms cancelled %d warnings in its request, want %d (the bound)", c, requestBound)
	}
	next := planIDs(t, p["nextRun"])
	if len(next["cancel"]) != n-requestBound || len(next["due"])+len(next["inGrace"]) != 0 {
		t.Errorf("setReclaimPolicy's nextRun after the change: %d cancel, %d due, %d in grace; want %d, 0, 0",
			len(next["cancel"]), len(next["due"]), len(next["inGrace"]), n-requestBound)
	}
	e.checkCancelled(lic, "after the change", changedReason, n-requestBound)

	if c := e.run(); c != n {
		t.Errorf("the run after the change changed %d seats, want %d (the cancellations left and the new warnings)", c, n)
	}
	if c := e.historyCount("RECLAIM_CANCELLED", "reclaim-policy:"+lic); c != n-requestBound {
		t.Errorf("the job cancelled %d warnings, want %d", c, n-requestBound)
	}
	if r := sqlInt(t, e.super, `SELECT count(*) FROM assignments WHERE tenant_id = $1 AND (revoked_at IS NOT NULL OR NOT active)`, e.tenant); r != 0 {
		t.Errorf("%d seats acted on at the first run after the change, want none (none was warned under the new terms)", r)
	}
	e.runUntilQuiet()
	if r := e.historyCount("REVOKED", "reclaim-policy:"+lic); r != n {
		t.Errorf("%d seats revoked in the end, want %d", r, n)
	}
	// Each revocation follows a warning that promised it.
	if bad := sqlInt(t, e.super, `SELECT count(*) FROM assignment_events AS r WHERE r.tenant_id = $1 AND r.type IN ('REVOKED', 'SUSPENDED')
		AND NOT EXISTS (SELECT FROM assignment_events AS w WHERE w.tenant_id = $1 AND w.assignment_id = r.assignment_id
			AND w.type = 'RECLAIM_WARNING' AND w.changes->>'action' = 'REVOKE' AND w.id < r.id)`, e.tenant); bad != 0 {
		t.Errorf("%d seats acted on without a warning under the new terms", bad)
	}
}

// Re-enabling a policy whose disabling left warnings to the job starts
// afresh all the same: the warnings given before it was disabled stay
// ended (never due, though their deadlines passed), the job cancels them,
// and their seats are warned again before any is revoked.
func TestReclaimReenableKeepsEndedWarnings(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-reenable-bound")
	lic := e.license("Wide", 0)
	const n = requestBound + 10
	e.idleSeats(lic, n, 60)
	terms := map[string]any{"inactiveDays": 30, "graceDays": 7, "action": "REVOKE"}
	e.policy(lic, terms)
	e.runUntilQuiet()
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 7, "action": "REVOKE", "enabled": false})
	e.passDays(8)
	p := e.policy(lic, terms)
	if next := planIDs(t, p["nextRun"]); len(next["due"])+len(next["inGrace"]) != 0 {
		t.Errorf("nextRun after re-enabling: %d due, %d in grace; want none (every warning was given before the policy was disabled)",
			len(next["due"]), len(next["inGrace"]))
	}
	e.checkCancelled(lic, "after re-enabling", disabledReason, n-requestBound)
	if c := e.run(); c != n {
		t.Errorf("the run after re-enabling changed %d seats, want %d (the cancellations left and the new warnings)", c, n)
	}
	if r := sqlInt(t, e.super, `SELECT count(*) FROM assignments WHERE tenant_id = $1 AND revoked_at IS NOT NULL`, e.tenant); r != 0 {
		t.Errorf("%d seats revoked at the first run after re-enabling, want none", r)
	}
	e.runUntilQuiet() // the last warnings
	e.passDays(8)
	e.runUntilQuiet()
	// Each revocation follows a warning that was not cancelled since: one
	// given after the policy was re-enabled.
	if bad := sqlInt(t, e.super, `SELECT count(*) FROM assignment_events AS r WHERE r.tenant_id = $1 AND r.type = 'REVOKED'
		AND NOT EXISTS (SELECT FROM assignment_events AS w WHERE w.tenant_id = $1 AND w.assignment_id = r.assignment_id
			AND w.type = 'RECLAIM_WARNING' AND w.id < r.id AND NOT EXISTS (SELECT FROM assignment_events AS c
				WHERE c.tenant_id = $1 AND c.assignment_id = r.assignment_id AND c.type = 'RECLAIM_CANCELLED' AND c.id > w.id AND c.id < r.id))`,
		e.tenant); bad != 0 {
		t.Errorf("%d seats revoked without a warning given after the re-enabling", bad)
	}
	if r := e.historyCount("REVOKED", "reclaim-policy:"+lic); r != n {
		t.Errorf("%d seats revoked in the end, want %d", r, n)
	}
}
