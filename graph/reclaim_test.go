package graph_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
)

// The reclaim policy tests run the job on a controllable clock: rows are
// backdated through SQL (in the tenant's setting), never slept for.

func init() { inputType["setReclaimPolicy"] = "SetReclaimPolicyInput" }

const planQuery = `query($l: ID!) { reclaimCandidates(licenseId: $l) {
	cancel { assignment { id } reason } due { assignment { id } } inGrace { assignment { id } warnedAt deadline }
	warn { assignment { id } unusedSince deadline } } }`

// reclaimEnv is one tenant's API with the superuser connection, for
// backdating rows.
type reclaimEnv struct {
	*api
	super  *sql.DB
	tenant string
}

func newReclaimEnv(t *testing.T, srv *apitest.Server, prefix string) *reclaimEnv {
	tenant := apitest.Tenant(prefix)
	return &reclaimEnv{api: newAPI(t, srv, tenant), super: apitest.DB(t).SQL(t), tenant: tenant}
}

// exec runs a statement in the tenant's setting (row-level security as
// the server sees it), with $1 the tenant.
func (e *reclaimEnv) exec(q string, args ...any) {
	e.t.Helper()
	tx, err := e.super.Begin()
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	apitest.SetTenant(e.t, tx, e.tenant)
	if _, err := tx.Exec(q, append([]any{e.tenant}, args...)...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	if err := tx.Commit(); err != nil {
		e.t.Fatal(err)
	}
}

// unusedFor makes a grant assigned days ago and never used since.
func (e *reclaimEnv) unusedFor(asg string, days int) {
	e.t.Helper()
	e.exec(`UPDATE assignments SET assigned_at = now() - make_interval(days => $2), last_used_at = NULL
		WHERE tenant_id = $1 AND id = $3`, days, uuidOf(e.t, asg))
}

// usedAgo makes a grant assigned 100 days ago and last used days ago.
func (e *reclaimEnv) usedAgo(asg string, days int) {
	e.t.Helper()
	e.exec(`UPDATE assignments SET assigned_at = now() - interval '100 days', last_used_at = now() - make_interval(days => $2)
		WHERE tenant_id = $1 AND id = $3`, days, uuidOf(e.t, asg))
}

// passDays moves the tenant's warnings days into the past. (The arithmetic
// is done in UTC, with IMMUTABLE functions only: Citus refuses a STABLE
// function of a column, such as timestamptz - interval, in an UPDATE's SET.)
func (e *reclaimEnv) passDays(days int) {
	e.t.Helper()
	e.exec(`UPDATE reclaim_warnings SET warned_at = ((warned_at AT TIME ZONE 'UTC') - make_interval(days => $2)) AT TIME ZONE 'UTC'
		WHERE tenant_id = $1`, days)
}

func (e *reclaimEnv) grant(license, person string) string {
	e.t.Helper()
	return idAt(e.t, e.assign(license, map[string]any{"personId": person}), "assignment", "id")
}

func (e *reclaimEnv) policy(license string, in map[string]any) map[string]any {
	e.t.Helper()
	in["licenseId"] = license
	return e.ok("setReclaimPolicy", `policy { licenseId inactiveDays graceDays action excludeGroupIds enabled actor }
		nextRun { cancel { assignment { id } } due { assignment { id } } inGrace { assignment { id } } warn { assignment { id } } }`, in)
}

// plan is reclaimCandidates as lists of assignment ids.
func (e *reclaimEnv) plan(license string) map[string][]string {
	e.t.Helper()
	return planIDs(e.t, e.query(planQuery, map[string]any{"l": license})["reclaimCandidates"])
}

func planIDs(t *testing.T, plan any) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	m, _ := plan.(map[string]any)
	for _, k := range []string{"cancel", "due", "inGrace", "warn"} {
		out[k] = []string{}
		list, _ := m[k].([]any)
		for _, c := range list {
			out[k] = append(out[k], jsonAt(t, c, "assignment", "id").(string))
		}
		slices.Sort(out[k])
	}
	return out
}

// history is an assignment's history as "TYPE by actor" lines.
func (e *reclaimEnv) history(asg string) []string {
	e.t.Helper()
	d := e.query(`query($id: ID!) { assignment(id: $id) { history(first: 100) { nodes { type actor } } } }`, map[string]any{"id": asg})
	var out []string
	for _, n := range jsonAt(e.t, d, "assignment", "history", "nodes").([]any) {
		out = append(out, jsonAt(e.t, n, "type").(string)+" by "+jsonAt(e.t, n, "actor").(string))
	}
	return out
}

func (e *reclaimEnv) status(asg string) string {
	e.t.Helper()
	return jsonAt(e.t, e.query(`query($id: ID!) { assignment(id: $id) { status } }`, map[string]any{"id": asg}), "assignment", "status").(string)
}

// runReclaim runs the reclaim job once (waiting while another run holds
// its lease) and returns how many seats it changed.
func runReclaim(t *testing.T, srv *apitest.Server) int {
	t.Helper()
	for {
		n, err := licensing.ReclaimDue(context.Background(), srv.DB)
		if errors.Is(err, licensing.ErrLeaseHeld) {
			time.Sleep(20 * time.Millisecond) // another run holds the lease: wait for it to end
			continue
		}
		if err != nil {
			t.Fatalf("ReclaimDue: %v", err)
		}
		return n
	}
}

// run runs the reclaim job once and returns how many of the tenant's
// seats it changed (warned, cancelled, suspended or revoked): the job runs
// every tenant of the package's database, whose other tests' policies may
// have work left.
func (e *reclaimEnv) run() int {
	e.t.Helper()
	const q = `SELECT count(*) FROM assignment_events WHERE tenant_id = $1 AND actor LIKE 'reclaim-policy:%'
		AND type IN ('RECLAIM_WARNING', 'RECLAIM_CANCELLED', 'SUSPENDED', 'REVOKED')`
	before := sqlInt(e.t, e.super, q, e.tenant)
	runReclaim(e.t, e.srv)
	return sqlInt(e.t, e.super, q, e.tenant) - before
}

func uuidOf(t *testing.T, asg string) uuid.UUID {
	t.Helper()
	id, err := gid.Assignment.Parse(asg)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// Warn, grace, revoke: the seat unused for inactiveDays is warned (history
// and event), waits its grace period, and is revoked by the policy; its
// freed seat goes to the waitlist in the same run; reclaimCandidates
// showed each run's work before it ran.
func TestReclaimRevoke(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-revoke")
	lic := e.license("Figma", 2)
	idle, busy := e.grant(lic, e.person("idle@example.com")), e.grant(lic, e.person("busy@example.com"))
	waiting := idAt(t, e.ok("assignLicense", "assignment { id status }", map[string]any{"licenseId": lic,
		"personId": e.person("wait@example.com"), "waitlist": true}), "assignment", "id")
	e.unusedFor(idle, 40)
	e.usedAgo(busy, 2)

	// A webhook endpoint that wants the warnings.
	e.exec(`INSERT INTO webhook_endpoints (tenant_id, id, url, secret, event_types, created_at, updated_at, created_by, updated_by)
		VALUES ($1, gen_random_uuid(), 'https://hooks.example/in', 'whsec_test', '{assignment.reclaim_warning}', now(), now(), 'test', 'test')`)

	// dryRun: the first run's effect, and nothing written.
	p := e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 7, "action": "REVOKE", "dryRun": true})
	sameIDs(t, "dryRun nextRun.warn", planIDs(t, p["nextRun"])["warn"], []string{idle})
	if d := e.query(`query($l: ID!) { license(id: $l) { reclaimPolicy { enabled } } reclaimCandidates(licenseId: $l) { warn { assignment { id } } } }`,
		map[string]any{"l": lic}); jsonAt(t, d, "license", "reclaimPolicy") != nil || d["reclaimCandidates"] != nil {
		t.Fatalf("after a dryRun setReclaimPolicy: %v, want no policy", d)
	}

	p = e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 7, "action": "REVOKE"})
	if jsonAt(t, p, "policy", "actor") != "reclaim-policy:"+lic || jsonAt(t, p, "policy", "enabled") != true {
		t.Errorf("policy = %v", p["policy"])
	}
	plan := e.plan(lic)
	sameIDs(t, "candidates before the first run: warn", plan["warn"], []string{idle})
	if n := e.run(); n != 1 {
		t.Errorf("first run changed %d seats, want 1 (the warning)", n)
	}
	if h := e.history(idle); !slices.Equal(h, []string{"ASSIGNED by test-user", "RECLAIM_WARNING by reclaim-policy:" + lic}) {
		t.Errorf("history after the warning = %v", h)
	}
	if n := sqlInt(t, e.super, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'assignment.reclaim_warning'
		AND actor = $2 AND actor_type = 'SYSTEM'`, e.tenant, "reclaim-policy:"+lic); n != 1 {
		t.Errorf("%d assignment.reclaim_warning events, want 1", n)
	}
	// A subscriber resuming after the grant's first event gets the warning.
	first := idAt(t, e.query(`query($id: ID!) { assignment(id: $id) { history(first: 1) { nodes { id } } } }`,
		map[string]any{"id": idle}), "assignment", "history", "nodes", 0, "id")
	sub, err := dialWS(t, srv, "Bearer "+e.tok)
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe("reclaim", eventsSub, map[string]any{"license": lic, "after": first})
	// The license's events since: the other two grants, then the warning.
	for i := range 3 {
		ev := eventOf(sub.next("reclaim"))
		if i < 2 {
			continue
		}
		if ev["eventType"] != "assignment.reclaim_warning" || ev["type"] != "RECLAIM_WARNING" ||
			ev["assignmentId"] != idle || ev["actor"] != "reclaim-policy:"+lic {
			t.Errorf("the subscription's third event: %v, want the warning", ev)
		}
	}
	if n := sqlInt(t, e.super, `SELECT count(*) FROM webhook_deliveries d JOIN events ev ON ev.tenant_id = d.tenant_id AND ev.seq = d.event_seq
		WHERE d.tenant_id = $1 AND ev.type = 'assignment.reclaim_warning'`, e.tenant); n != 1 {
		t.Errorf("%d webhook deliveries of assignment.reclaim_warning queued, want 1", n)
	}
	plan = e.plan(lic)
	sameIDs(t, "in grace", plan["inGrace"], []string{idle})
	sameIDs(t, "due during grace", plan["due"], nil)
	if n := e.run(); n != 0 {
		t.Errorf("a run during the grace period changed %d seats", n)
	}

	e.passDays(8)
	sameIDs(t, "due after the grace period", e.plan(lic)["due"], []string{idle})
	if n := e.run(); n != 1 {
		t.Errorf("the run after grace changed %d seats, want 1", n)
	}
	d := e.query(`query($id: ID!) { assignment(id: $id) { status revokedBy revokeReason } }`, map[string]any{"id": idle})
	if jsonAt(t, d, "assignment", "status") != "REVOKED" || jsonAt(t, d, "assignment", "revokedBy") != "reclaim-policy:"+lic {
		t.Errorf("the idle seat after the grace period: %v", d)
	}
	if s := e.status(waiting); s != "ACTIVE" {
		t.Errorf("the waitlisted grant after the seat was revoked: %s, want ACTIVE (promoted in the same run)", s)
	}
	if s := e.status(busy); s != "ACTIVE" {
		t.Errorf("the used seat: %s, want ACTIVE", s)
	}
	hist := e.query(`query($id: ID!) { assignment(id: $id) { id status revokedBy revokeReason
		history { nodes { type actor actorType changes } } } }`, map[string]any{"id": idle})
	b, _ := json.MarshalIndent(hist, "", "  ")
	t.Logf("history of a reclaimed seat:\n%s", b)
	if h := e.history(idle); !slices.Equal(h, []string{"ASSIGNED by test-user", "RECLAIM_WARNING by reclaim-policy:" + lic,
		"REVOKED by reclaim-policy:" + lic}) {
		t.Errorf("history after the revocation = %v", h)
	}
	if h := e.history(waiting); h[len(h)-1] != "PROMOTED by reclaim-policy:"+lic {
		t.Errorf("history of the waitlisted grant = %v, want PROMOTED by the policy last", h)
	}
	if n := e.run(); n != 0 {
		t.Errorf("a run after the revocation changed %d seats", n)
	}
}

// SUSPEND, and usage during the grace period: the used seat's warning is
// cancelled by the next run, the other seat is suspended (and, suspended,
// is no candidate any more).
func TestReclaimSuspendAndUsageCancels(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-suspend")
	lic := e.license("Slack", 0)
	idle, back := e.grant(lic, e.person("idle@example.com")), e.grant(lic, e.person("back@example.com"))
	e.usedAgo(idle, 20)
	e.unusedFor(back, 20)
	e.policy(lic, map[string]any{"inactiveDays": 14, "graceDays": 3, "action": "SUSPEND"})
	if n := e.run(); n != 2 {
		t.Fatalf("first run changed %d seats, want 2 warnings", n)
	}
	e.ok("recordUsage", "", map[string]any{"assignmentId": back})
	plan := e.plan(lic)
	sameIDs(t, "cancel after usage", plan["cancel"], []string{back})
	sameIDs(t, "in grace", plan["inGrace"], []string{idle})
	if n := e.run(); n != 1 {
		t.Errorf("the run after usage changed %d seats, want 1 (the cancellation)", n)
	}
	d := e.query(`query($id: ID!) { assignment(id: $id) { history(last: 1) { nodes { type actor changes } } } }`, map[string]any{"id": back})
	last := jsonAt(t, d, "assignment", "history", "nodes", 0)
	if jsonAt(t, last, "type") != "RECLAIM_CANCELLED" || jsonAt(t, last, "changes", "reason") != "the seat was used after the warning" {
		t.Errorf("the used seat's last history row = %v", last)
	}
	e.passDays(3)
	sameIDs(t, "due", e.plan(lic)["due"], []string{idle})
	if n := e.run(); n != 1 {
		t.Errorf("the run after grace changed %d seats, want 1", n)
	}
	if s, b := e.status(idle), e.status(back); s != "SUSPENDED" || b != "ACTIVE" {
		t.Errorf("after the grace period: idle %s, used %s; want SUSPENDED, ACTIVE", s, b)
	}
	if h := e.history(idle); h[len(h)-1] != "SUSPENDED by reclaim-policy:"+lic {
		t.Errorf("history of the suspended seat = %v", h)
	}
	if n := e.run(); n != 0 {
		t.Errorf("a run after the suspension changed %d seats (a suspended seat is no SUSPEND candidate)", n)
	}
}

// Excluded groups' members and inherited grants are never warned;
// disabling the policy cancels its warnings and stops it.
func TestReclaimExclusionsAndDisable(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-exclude")
	lic := e.license("Zoom", 0)
	vip, member, plain := e.person("vip@example.com"), e.person("member@example.com"), e.person("plain@example.com")
	execs := e.group("Executives", vip)
	team := e.group("Team", member)
	vipSeat, plainSeat := e.grant(lic, vip), e.grant(lic, plain)
	e.assign(lic, map[string]any{"groupId": team})
	inherited := idAt(t, e.query(`query($g: ID!) { assignments(filter: {viaGroupId: $g}) { nodes { id } } }`,
		map[string]any{"g": team}), "assignments", "nodes", 0, "id")
	e.exec(`UPDATE assignments SET assigned_at = now() - interval '90 days' WHERE tenant_id = $1`)

	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 0, "action": "REVOKE", "excludeGroupIds": []string{execs}})
	plan := e.plan(lic)
	sameIDs(t, "warn", plan["warn"], []string{plainSeat})
	if n := e.run(); n != 1 {
		t.Errorf("run changed %d seats, want 1", n)
	}
	if h := e.history(vipSeat); len(h) != 1 {
		t.Errorf("the excluded member's seat history = %v", h)
	}
	if h := e.history(inherited); len(h) != 1 {
		t.Errorf("the inherited seat's history = %v", h)
	}

	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 0, "action": "REVOKE", "enabled": false})
	if h := e.history(plainSeat); h[len(h)-1] != "RECLAIM_CANCELLED by test-user" {
		t.Errorf("after disabling: history %v, want the warning cancelled", h)
	}
	if n := e.run(); n != 0 || e.status(plainSeat) != "ACTIVE" {
		t.Errorf("a run of a disabled policy changed %d seats (status %s)", n, e.status(plainSeat))
	}
	if plan := e.plan(lic); len(plan["warn"])+len(plan["due"]) != 0 {
		t.Errorf("candidates of a disabled policy = %v", plan)
	}
}

// Bad input is refused with a clear userError and writes nothing; a
// caller without admin is refused.
func TestReclaimPolicyInput(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-input")
	lic := e.license("Miro", 0)
	other := newReclaimEnv(t, srv, "reclaim-input-other")
	foreign, foreignGroup := other.license("Theirs", 0), other.group("Theirs")
	for _, tc := range []struct {
		name, code, field string
		in                map[string]any
	}{
		{"inactiveDays 0", "INVALID", "input.inactiveDays", map[string]any{"licenseId": lic, "inactiveDays": 0, "graceDays": 1, "action": "REVOKE"}},
		{"inactiveDays too many", "INVALID", "input.inactiveDays", map[string]any{"licenseId": lic, "inactiveDays": 4000, "graceDays": 1, "action": "REVOKE"}},
		{"graceDays negative", "INVALID", "input.graceDays", map[string]any{"licenseId": lic, "inactiveDays": 30, "graceDays": -1, "action": "REVOKE"}},
		{"graceDays too many", "INVALID", "input.graceDays", map[string]any{"licenseId": lic, "inactiveDays": 30, "graceDays": 366, "action": "SUSPEND"}},
		{"bad license id", "INVALID", "input.licenseId", map[string]any{"licenseId": "grp_nope", "inactiveDays": 30, "graceDays": 1, "action": "REVOKE"}},
		{"another tenant's license", "NOT_FOUND", "input.licenseId", map[string]any{"licenseId": foreign, "inactiveDays": 30, "graceDays": 1, "action": "REVOKE"}},
		{"bad group id", "INVALID", "input.excludeGroupIds", map[string]any{"licenseId": lic, "inactiveDays": 30, "graceDays": 1,
			"action": "REVOKE", "excludeGroupIds": []string{"lic_nope"}}},
		{"another tenant's group", "NOT_FOUND", "input.excludeGroupIds", map[string]any{"licenseId": lic, "inactiveDays": 30, "graceDays": 1,
			"action": "REVOKE", "excludeGroupIds": []string{foreignGroup}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			if err := e.fails("setReclaimPolicy", tc.code, tc.in); err["field"] != tc.field {
				t.Errorf("userError %v, want field %s", err, tc.field)
			}
		})
	}
	e.t = t
	if n := sqlInt(t, e.super, "SELECT count(*) FROM reclaim_policies WHERE tenant_id IN ($1, $2)", e.tenant, other.tenant); n != 0 {
		t.Errorf("%d policies written by refused calls", n)
	}
	r := srv.Do(t, apitest.Token(t, e.tenant, "licenses:read", "licenses:write"), `mutation($l: ID!) {
		setReclaimPolicy(input: {licenseId: $l, inactiveDays: 30, graceDays: 1, action: REVOKE}) { userErrors { code } } }`,
		map[string]any{"l": lic})
	if c := r.Codes(); len(c) != 1 || c[0] != "FORBIDDEN" {
		t.Errorf("setReclaimPolicy without admin: %s", r.Raw)
	}
	// A refused change leaves the policy there is as it was.
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 7, "action": "SUSPEND"})
	e.fails("setReclaimPolicy", "NOT_FOUND", map[string]any{"licenseId": lic, "inactiveDays": 5, "graceDays": 1, "action": "REVOKE",
		"excludeGroupIds": []string{foreignGroup}})
	if d := e.query(`query($l: ID!) { license(id: $l) { reclaimPolicy { inactiveDays graceDays action excludeGroupIds } } }`,
		map[string]any{"l": lic}); jsonAt(t, d, "license", "reclaimPolicy", "inactiveDays") != float64(30) ||
		jsonAt(t, d, "license", "reclaimPolicy", "action") != "SUSPEND" {
		t.Errorf("the policy after a refused change: %v", d)
	}
	e.exec("DELETE FROM reclaim_policies WHERE tenant_id = $1")

	// An application sees its own licenses only: the tenant's license is
	// not found for it, and nothing is written.
	app := &api{t: t, srv: srv, tok: apitest.TokenFor(t, auth.TokenRequest{Tenant: e.tenant, Subject: "app-admin", App: "crm"})}
	if err := app.fails("setReclaimPolicy", "NOT_FOUND", map[string]any{"licenseId": lic, "inactiveDays": 30, "graceDays": 1,
		"action": "REVOKE"}); err["field"] != "input.licenseId" {
		t.Errorf("an application's setReclaimPolicy on a license outside its app: %v", err)
	}
	if n := sqlInt(t, e.super, "SELECT count(*) FROM reclaim_policies WHERE tenant_id = $1", e.tenant); n != 0 {
		t.Errorf("%d policies written by refused calls", n)
	}
	r = srv.Do(t, e.tok, `query($l: ID!) { reclaimCandidates(licenseId: $l) { warn { unusedSince } } }`, map[string]any{"l": foreign})
	if c := r.Codes(); len(c) != 1 || c[0] != "BAD_USER_INPUT" {
		t.Errorf("reclaimCandidates of another tenant's license: %s", r.Raw)
	}
}

// reclaimCandidates shows exactly what the next run does: one run that
// cancels, acts, leaves in grace and warns at once, compared seat by seat
// with the history rows the run wrote.
func TestReclaimCandidatesMatchRun(t *testing.T) {
	srv := apitest.NewServer(t)
	e := newReclaimEnv(t, srv, "reclaim-preview")
	lic := e.license("Notion", 0)
	seats := map[string]string{}
	for _, who := range []string{"used", "due", "grace", "new", "fresh"} {
		seats[who] = e.grant(lic, e.person(who+"@example.com"))
	}
	for _, who := range []string{"used", "due", "grace"} {
		e.unusedFor(seats[who], 45)
	}
	e.usedAgo(seats["new"], 5)
	e.usedAgo(seats["fresh"], 5)
	e.policy(lic, map[string]any{"inactiveDays": 30, "graceDays": 10, "action": "REVOKE"})
	e.run()
	e.ok("recordUsage", "", map[string]any{"assignmentId": seats["used"]})
	e.exec(`UPDATE reclaim_warnings SET warned_at = ((warned_at AT TIME ZONE 'UTC') - interval '11 days') AT TIME ZONE 'UTC'
		WHERE tenant_id = $1 AND assignment_id = $2`, uuidOf(t, seats["due"]))
	e.usedAgo(seats["new"], 31)

	plan := e.plan(lic)
	sameIDs(t, "cancel", plan["cancel"], []string{seats["used"]})
	sameIDs(t, "due", plan["due"], []string{seats["due"]})
	sameIDs(t, "inGrace", plan["inGrace"], []string{seats["grace"]})
	sameIDs(t, "warn", plan["warn"], []string{seats["new"]})

	before := map[string]int{}
	for who, id := range seats {
		before[who] = len(e.history(id))
	}
	e.run()
	did := map[string][]string{"cancel": {}, "due": {}, "inGrace": {}, "warn": {}}
	for who, id := range seats {
		h := e.history(id)
		for _, row := range h[before[who]:] {
			switch row {
			case "RECLAIM_CANCELLED by reclaim-policy:" + lic:
				did["cancel"] = append(did["cancel"], id)
			case "REVOKED by reclaim-policy:" + lic:
				did["due"] = append(did["due"], id)
			case "RECLAIM_WARNING by reclaim-policy:" + lic:
				did["warn"] = append(did["warn"], id)
			default:
				t.Errorf("%s: unexpected history row %q", who, row)
			}
		}
	}
	for _, k := range []string{"cancel", "due", "warn"} {
		sameIDs(t, "the run's "+k, plan[k], did[k])
	}
}
