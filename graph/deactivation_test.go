package graph_test

import (
	"testing"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
)

// grantStatuses reads the statuses of a person's grants, oldest first.
func (a *api) grantStatuses(person string) []string {
	a.t.Helper()
	d := a.query(`query($id: ID!) { person(id: $id) { active assignments(orderBy: {field: CREATED}) { nodes { status } } } }`,
		map[string]any{"id": person})
	var out []string
	for _, n := range d["person"].(map[string]any)["assignments"].(map[string]any)["nodes"].([]any) {
		out = append(out, n.(map[string]any)["status"].(string))
	}
	return out
}

func (a *api) setActive(person string, active bool) {
	a.t.Helper()
	p := a.ok("updatePerson", "person { active }", map[string]any{"id": person, "active": active})
	if got := p["person"].(map[string]any)["active"]; got != active {
		a.t.Fatalf("updatePerson(active: %v) answers active %v", active, got)
	}
}

func eqStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Rule 9: deactivating a person frees their seats at once (the waitlist is
// promoted in the same write), keeps their grants as DEACTIVATED with
// history; reactivating restores what fits and waitlists the rest.
func TestSeatRuleDeactivation(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("deact")
	a := newAPI(t, srv, tenant)
	full := a.license("Figma", 1)
	roomy := a.license("Slack", 5)
	ada, ben := a.person("ada@example.com"), a.person("ben@example.com")
	grp := a.group("Design", ada)

	a.assign(full, map[string]any{"personId": ada})
	a.assign(roomy, map[string]any{"groupId": grp})
	queued := a.ok("assignLicense", "assignment { id status }", map[string]any{"licenseId": full, "personId": ben, "waitlist": true})
	if st := queued["assignment"].(map[string]any)["status"]; st != "WAITLISTED" {
		t.Fatalf("ben on a full license: %v, want WAITLISTED", st)
	}

	a.setActive(ada, false)
	if got := a.grantStatuses(ada); !eqStrings(got, []string{"DEACTIVATED", "DEACTIVATED"}) {
		t.Fatalf("ada's grants after deactivation: %v, want both DEACTIVATED", got)
	}
	if s := a.seats(full); num(s["used"]) != 1 || num(s["waitlisted"]) != 0 {
		t.Fatalf("Figma seats after ada's deactivation: %v, want ben promoted (used 1, waitlisted 0)", s)
	}
	if got := a.grantStatuses(ben); !eqStrings(got, []string{"ACTIVE"}) {
		t.Fatalf("ben after ada's deactivation: %v, want ACTIVE", got)
	}
	if s := a.seats(roomy); num(s["used"]) != 0 {
		t.Fatalf("Slack seats after its only holder was deactivated: %v, want used 0", s)
	}

	// Filters see it.
	d := a.query(`{ inactive: people(filter: {active: false}) { nodes { email } }
		deactivated: assignments(filter: {status: [DEACTIVATED]}) { totalCount } }`, nil)
	if n := d["inactive"].(map[string]any)["nodes"].([]any); len(n) != 1 || n[0].(map[string]any)["email"] != "ada@example.com" {
		t.Fatalf("people(filter: {active: false}) = %v, want ada only", n)
	}
	if n := num(d["deactivated"].(map[string]any)["totalCount"]); n != 2 {
		t.Fatalf("assignments with status DEACTIVATED: %d, want 2", n)
	}

	// A grant made while deactivated is kept without a seat.
	other := a.license("Miro", 3)
	p := a.assign(other, map[string]any{"personId": ada})
	if st := p["assignment"].(map[string]any)["status"]; st != "DEACTIVATED" || num(p["seats"].(map[string]any)["used"]) != 0 {
		t.Fatalf("assigning to a deactivated person: %v, want DEACTIVATED and no seat used", p)
	}

	// Reactivation: Figma is full (ben holds it), so ada waits; Slack and Miro fit.
	a.setActive(ada, true)
	if got := a.grantStatuses(ada); !eqStrings(got, []string{"WAITLISTED", "ACTIVE", "ACTIVE"}) {
		t.Fatalf("ada's grants after reactivation: %v, want WAITLISTED (Figma is full), ACTIVE, ACTIVE", got)
	}
	if s := a.seats(full); num(s["used"]) != 1 || num(s["waitlisted"]) != 1 {
		t.Fatalf("Figma after reactivation: %v, want used 1 waitlisted 1", s)
	}

	// History: the Figma grant was assigned, deactivated, then queued again.
	d = a.query(`query($id: ID!) { person(id: $id) { assignments(orderBy: {field: CREATED}, first: 1) {
		nodes { history { nodes { type } } } } } }`, map[string]any{"id": ada})
	var types []string
	for _, e := range d["person"].(map[string]any)["assignments"].(map[string]any)["nodes"].([]any)[0].(map[string]any)["history"].(map[string]any)["nodes"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if !eqStrings(types, []string{"ASSIGNED", "DEACTIVATED", "WAITLISTED"}) {
		t.Fatalf("Figma grant history %v, want ASSIGNED DEACTIVATED WAITLISTED", types)
	}

	// Seats read from the counters (used, pending, waitlisted) equal a
	// recount of the rows.
	db := apitest.DB(t).SQL(t)
	for _, lic := range []string{full, roomy, other} {
		id, err := gid.License.Parse(lic)
		if err != nil {
			t.Fatal(err)
		}
		checkSeats(t, srv, a.tok, db, tenant, id)
	}
}
