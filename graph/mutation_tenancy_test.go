package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
	"seatgraph/internal/seed"
)

// payloadFields selects, per mutation, every object a payload can carry
// with its tenant and ids, so that a leak would show in the response.
var payloadFields = map[string]string{
	"createLicense": "license { id tenantId appId name } revokedCount",
	"updateLicense": "license { id tenantId appId name } revokedCount",
	"deleteLicense": "license { id tenantId appId name } revokedCount",
	"assignLicense": `assignment { id tenantId appId assigneeType assigneeId email license { id tenantId }
		assignee { ... on Person { id tenantId email } ... on Group { id tenantId } } } created seats { used }`,
	"assignLicenses":     "assignments { id tenantId assigneeId licenseId }",
	"updateAssignment":   "assignment { id tenantId assigneeId licenseId status } seats { used }",
	"revokeAssignment":   "assignment { id tenantId assigneeId licenseId status } seats { used }",
	"recordUsage":        "updated",
	"reclaimUnusedSeats": "count reclaimed { id tenantId appId assigneeId licenseId }",
	"createPerson":       "person { id tenantId appId email } fulfilledInvitations",
	"updatePerson":       "person { id tenantId appId email } fulfilledInvitations",
	"deletePerson":       "person { id tenantId appId email } fulfilledInvitations",
	"createGroup":        "group { id tenantId appId name members { nodes { id tenantId } } }",
	"updateGroup":        "group { id tenantId appId name }",
	"deleteGroup":        "group { id tenantId appId name }",
	"addGroupMembers":    "group { id tenantId members { nodes { id tenantId } } } changed",
	"removeGroupMembers": "group { id tenantId members { nodes { id tenantId } } } changed",
}

// crossCase is a mutation of tenant A that names tenant B's records.
// Without check it must fail with NOT_FOUND and leave A unchanged; with
// check, it may succeed, and check says what A may see.
type crossCase struct {
	name     string
	mutation string
	input    map[string]any
	check    func(t *testing.T, payload map[string]any)
}

// TestMutationTenantIsolation: with tenant A's token, every mutation
// naming tenant B's licenses, assignments, people and groups (alone or
// mixed with A's) finds nothing of B's, shows nothing of B's, and changes
// no row of B.
func TestMutationTenantIsolation(t *testing.T) {
	srv := apitest.NewServer(t)
	ctx := context.Background()
	a, b := apitest.Tenant("mut-a"), apitest.Tenant("mut-b")
	for _, tenant := range []string{a, b} {
		if _, err := seed.Run(ctx, srv.DB, tenant); err != nil {
			t.Fatal(err)
		}
	}
	const onlyInB = "only-in-b@demo.example"
	newAPI(t, srv, b).ok("createPerson", "person { id }", map[string]any{"email": onlyInB, "username": "only.in.b"})

	db := apitest.DB(t).SQL(t)
	idsB := tenantTypeIDs(t, db, b)
	beforeB := snapshot(t, db, b)
	api := newAPI(t, srv, a)

	pair := func(kind gid.Kind, query string, args ...any) lookAlike {
		t.Helper()
		ua := sqlUUID(t, db, query, append([]any{a}, args...)...)
		ub := sqlUUID(t, db, query, append([]any{b}, args...)...)
		return lookAlike{kind.Format(ua), kind.Format(ub)}
	}
	const live = "NOT a.is_deleted AND a.revoked_at IS NULL AND a.expired_at IS NULL"
	license := func(name string) lookAlike {
		return pair(gid.License, "SELECT id FROM licenses WHERE tenant_id = $1 AND name = $2", name)
	}
	figma, jira, slack := license("Figma Professional"), license("Jira Software Cloud"), license("Slack Business+")
	ada := pair(gid.Person, "SELECT id FROM people WHERE tenant_id = $1 AND email = $2", "ada.andersen@demo.example")
	eng := pair(gid.Group, "SELECT id FROM groups WHERE tenant_id = $1 AND name = $2", "Engineering")
	// direct is the oldest live direct seat of Figma; holder holds it.
	const figmaSeat = `FROM assignments a JOIN licenses l ON l.tenant_id = a.tenant_id AND l.id = a.license_id
		WHERE a.tenant_id = $1 AND l.name = 'Figma Professional' AND a.person_id IS NOT NULL
		AND a.via_assignment_id IS NULL AND a.waitlisted_at IS NULL AND ` + live + ` ORDER BY a.assigned_at, a.id LIMIT 1`
	direct := pair(gid.Assignment, "SELECT a.id "+figmaSeat)
	holder := pair(gid.Person, "SELECT a.person_id "+figmaSeat)
	grant := pair(gid.Assignment, `SELECT a.id FROM assignments a WHERE a.tenant_id = $1 AND a.license_id =
		(SELECT id FROM licenses WHERE tenant_id = $1 AND name = 'Jira Software Cloud')
		AND a.group_id = (SELECT id FROM groups WHERE tenant_id = $1 AND name = 'Engineering') AND `+live)
	inherited := pair(gid.Assignment, `SELECT a.id FROM assignments a WHERE a.tenant_id = $1 AND a.via_assignment_id IS NOT NULL
		AND a.person_id = (SELECT id FROM people WHERE tenant_id = $1 AND email = $2)
		AND a.license_id = (SELECT id FROM licenses WHERE tenant_id = $1 AND name = 'Jira Software Cloud') AND `+live,
		"ada.andersen@demo.example")
	invitation := pair(gid.Assignment, `SELECT a.id FROM assignments a WHERE a.tenant_id = $1 AND a.email = $2 AND `+live,
		"new.designer@demo.example")
	waitlisted := pair(gid.Assignment, `SELECT a.id FROM assignments a WHERE a.tenant_id = $1 AND a.waitlisted_at IS NOT NULL AND `+live+`
		ORDER BY a.waitlisted_at, a.id LIMIT 1`)
	revoked := pair(gid.Assignment, `SELECT a.id FROM assignments a WHERE a.tenant_id = $1 AND a.revoked_at IS NOT NULL
		ORDER BY a.id LIMIT 1`)
	now := time.Now().UTC().Format(time.RFC3339Nano)

	notFound := []crossCase{
		{"B's license", "updateLicense", map[string]any{"id": figma.b, "name": "Hijacked"}, nil},
		{"B's license to zero seats", "updateLicense", map[string]any{"id": figma.b, "totalSeats": 0}, nil},
		{"B's license unlimited", "updateLicense", map[string]any{"id": figma.b, "unlimited": true}, nil},
		{"B's license", "deleteLicense", map[string]any{"id": figma.b, "force": true}, nil},
		{"B's license, dry run", "deleteLicense", map[string]any{"id": figma.b, "force": true, "dryRun": true}, nil},
		{"B's license to A's person", "assignLicense", map[string]any{"licenseId": jira.b, "personId": ada.a}, nil},
		{"A's license to B's person", "assignLicense", map[string]any{"licenseId": jira.a, "personId": ada.b}, nil},
		{"B's license to B's person", "assignLicense", map[string]any{"licenseId": jira.b, "personId": ada.b}, nil},
		{"A's license to B's group", "assignLicense", map[string]any{"licenseId": slack.a, "groupId": eng.b}, nil},
		{"B's license to B's group", "assignLicense", map[string]any{"licenseId": slack.b, "groupId": eng.b}, nil},
		{"A's license to a username only B has", "assignLicense", map[string]any{"licenseId": slack.a, "username": "only.in.b"}, nil},
		{"B's live grant updated through assign", "assignLicense", map[string]any{"licenseId": figma.b, "personId": holder.b,
			"active": false}, nil},
		{"one item naming B's person", "assignLicenses", map[string]any{"items": []map[string]any{
			{"licenseId": slack.a, "personId": ada.a}, {"licenseId": slack.a, "personId": ada.b}}}, nil},
		{"one item naming B's license", "assignLicenses", map[string]any{"items": []map[string]any{
			{"licenseId": slack.a, "email": "someone@demo.example"}, {"licenseId": slack.b, "personId": ada.a}}}, nil},
		{"B's direct grant", "updateAssignment", map[string]any{"id": direct.b, "active": false}, nil},
		{"B's inherited grant", "updateAssignment", map[string]any{"id": inherited.b, "metadata": map[string]any{"x": 1}}, nil},
		{"B's invitation", "updateAssignment", map[string]any{"id": invitation.b, "fulfilled": true}, nil},
		{"B's group grant", "revokeAssignment", map[string]any{"id": grant.b, "reason": "cross-tenant"}, nil},
		{"B's direct grant", "revokeAssignment", map[string]any{"id": direct.b}, nil},
		{"B's direct grant, dry run", "revokeAssignment", map[string]any{"id": direct.b, "dryRun": true}, nil},
		{"B's waitlisted grant", "revokeAssignment", map[string]any{"id": waitlisted.b}, nil},
		// Not ALREADY_REVOKED: that would tell A the id exists.
		{"B's revoked grant", "revokeAssignment", map[string]any{"id": revoked.b}, nil},
		{"B's revoked grant", "updateAssignment", map[string]any{"id": revoked.b, "active": true}, nil},
		{"B's assignment", "recordUsage", map[string]any{"assignmentId": direct.b}, nil},
		{"B's license and person", "recordUsage", map[string]any{"licenseId": figma.b, "personId": holder.b}, nil},
		{"A's license and B's person", "recordUsage", map[string]any{"licenseId": figma.a, "personId": holder.b}, nil},
		{"B's person", "updatePerson", map[string]any{"id": ada.b, "name": "Hijacked"}, nil},
		{"B's person's email", "updatePerson", map[string]any{"id": ada.b, "email": "hijacked@demo.example"}, nil},
		{"B's person", "deletePerson", map[string]any{"id": ada.b}, nil},
		{"B's person, dry run", "deletePerson", map[string]any{"id": ada.b, "dryRun": true}, nil},
		{"with B's person", "createGroup", map[string]any{"name": "Stolen", "memberIds": []string{ada.a, ada.b}}, nil},
		{"B's group", "updateGroup", map[string]any{"id": eng.b, "name": "Hijacked"}, nil},
		{"B's group", "deleteGroup", map[string]any{"id": eng.b}, nil},
		{"B's group, dry run", "deleteGroup", map[string]any{"id": eng.b, "dryRun": true}, nil},
		{"A's person into B's group", "addGroupMembers", map[string]any{"groupId": eng.b, "personIds": []string{ada.a}}, nil},
		{"B's person into A's group", "addGroupMembers", map[string]any{"groupId": eng.a, "personIds": []string{holder.b}}, nil},
		{"B's person out of B's group", "removeGroupMembers", map[string]any{"groupId": eng.b, "personIds": []string{ada.b}}, nil},
	}

	harmless := []crossCase{
		{"B's person out of A's group: nothing to remove", "removeGroupMembers",
			map[string]any{"groupId": eng.a, "personIds": []string{ada.b}}, func(t *testing.T, p map[string]any) {
				if errs := jsonList(t, p, "userErrors"); len(errs) > 0 {
					if jsonAt(t, errs[0], "code") != "NOT_FOUND" {
						t.Errorf("userErrors %v, want none or NOT_FOUND", errs)
					}
				} else if n := jsonInt(t, p, "changed"); n != 0 {
					t.Errorf("removed %d of B's people from A's group", n)
				}
			}},
		{"B's license reclaimed", "reclaimUnusedSeats",
			map[string]any{"licenseId": figma.b, "unusedSince": now}, func(t *testing.T, p map[string]any) {
				if errs := jsonList(t, p, "userErrors"); len(errs) > 0 {
					if jsonAt(t, errs[0], "code") != "NOT_FOUND" {
						t.Errorf("userErrors %v, want none or NOT_FOUND", errs)
					}
				} else if n := jsonInt(t, p, "count"); n != 0 {
					t.Errorf("reclaimed %d seats of B's license", n)
				}
			}},
		{"email only B has: an invitation in A", "assignLicense",
			map[string]any{"licenseId": slack.a, "email": onlyInB}, func(t *testing.T, p map[string]any) {
				asg := jsonAt(t, p, "assignment")
				if jsonAt(t, asg, "assigneeType") != "EMAIL" || jsonAt(t, asg, "assigneeId") != nil ||
					jsonAt(t, asg, "assignee") != nil || jsonAt(t, asg, "email") != onlyInB || jsonAt(t, asg, "tenantId") != a {
					t.Errorf("assign by an email only B knows = %v, want an EMAIL invitation in A", asg)
				}
				u, _ := gid.Assignment.Parse(jsonAt(t, asg, "id").(string))
				if n := sqlScalarInt(t, db, `SELECT count(*) FROM assignments WHERE id = $1 AND tenant_id = $2
					AND person_id IS NULL AND email = $3`, u, a, onlyInB); n != 1 {
					t.Errorf("the invitation row is not an unbound invitation of A")
				}
			}},
		{"email both have: A's person", "assignLicense",
			map[string]any{"licenseId": slack.a, "email": "ADA.ANDERSEN@demo.example"}, func(t *testing.T, p map[string]any) {
				if got := jsonAt(t, p, "assignment", "assigneeId"); got != ada.a {
					t.Errorf("assign by a shared email went to %v, want A's person %s", got, ada.a)
				}
			}},
		{"person with an email only B has", "createPerson",
			map[string]any{"email": onlyInB}, func(t *testing.T, p map[string]any) {
				if jsonAt(t, p, "person", "tenantId") != a {
					t.Errorf("person = %v, want one of A", p["person"])
				}
				// It binds A's invitation made above, and nothing of B's.
				if n := jsonInt(t, p, "fulfilledInvitations"); n != 1 {
					t.Errorf("fulfilledInvitations = %d, want A's one", n)
				}
			}},
		{"person with an email B has invited", "createPerson",
			map[string]any{"email": "new.designer@demo.example"}, func(t *testing.T, p map[string]any) {
				if n := jsonInt(t, p, "fulfilledInvitations"); n != 1 {
					t.Errorf("fulfilledInvitations = %d, want A's own invitation only", n)
				}
				u, _ := gid.Assignment.Parse(invitation.b)
				if n := sqlScalarInt(t, db, `SELECT count(*) FROM assignments WHERE tenant_id = $1 AND id = $2
					AND person_id IS NULL AND NOT fulfilled`, b, u); n != 1 {
					t.Error("B's invitation was bound by a person created in A")
				}
			}},
		{"every unused seat: A's alone", "reclaimUnusedSeats",
			map[string]any{"unusedSince": now, "reason": "cross-tenant sweep"}, func(t *testing.T, p map[string]any) {
				if n := jsonInt(t, p, "count"); n == 0 {
					t.Error("reclaimed nothing: the seed has unused seats in A")
				}
				for _, r := range jsonList(t, p, "reclaimed") {
					if jsonAt(t, r, "tenantId") != a {
						t.Errorf("reclaimed %v", r)
					}
				}
			}},
	}

	run := func(t *testing.T, c crossCase) map[string]any {
		t.Helper()
		r := tryMutation(api, c.mutation, payloadFields[c.mutation], c.input)
		if len(r.Errors) > 0 {
			t.Fatalf("GraphQL errors: %s", r.Raw)
		}
		named, _ := json.Marshal(c.input)
		for id := range idsB {
			if strings.Contains(string(r.Raw), id) && !strings.Contains(string(named), id) {
				t.Errorf("tenant B's id %s appears in the response: %s", id, r.Raw)
			}
		}
		if strings.Contains(string(r.Raw), b) {
			t.Errorf("tenant B's name appears in the response: %s", r.Raw)
		}
		for _, v := range fieldValues(r.Data, "tenantId") {
			if v != a {
				t.Errorf("tenantId %v in tenant A's response", v)
			}
		}
		return r.Data[c.mutation].(map[string]any)
	}
	for _, c := range notFound {
		t.Run(c.mutation+"/"+c.name, func(t *testing.T) {
			before := snapshot(t, db, a)
			p := run(t, c)
			errs := jsonList(t, p, "userErrors")
			if len(errs) == 0 || jsonAt(t, errs[0], "code") != "NOT_FOUND" {
				t.Errorf("want NOT_FOUND, got %v", p)
			}
			wantEmptyPayload(t, c.mutation, p)
			if after := snapshot(t, db, a); after != before {
				t.Errorf("refused call changed tenant A:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	for _, c := range harmless {
		t.Run(c.mutation+"/"+c.name, func(t *testing.T) {
			c.check(t, run(t, c))
		})
	}

	if after := snapshot(t, db, b); after != beforeB {
		t.Errorf("tenant A's mutations changed tenant B:\nbefore %s\nafter  %s", beforeB, after)
	}
}

// TestMutationAppScope: records an application writes carry its appId,
// and it cannot change, use or revoke records of its tenant written
// without an app.
func TestMutationAppScope(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("apps")
	db := apitest.DB(t).SQL(t)
	plain := newAPI(t, srv, tenant)
	app := &api{t: t, srv: srv, tok: apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "billing-bot", App: "billing"})}

	lic := plain.license("Figma", 5)
	ada := plain.person("ada@example.com")
	grp := plain.group("Eng", ada)
	asg := idAt(t, plain.assign(lic, map[string]any{"personId": ada}), "assignment", "id")

	// What the app writes is stamped with its appId and subject.
	appLic := app.ok("createLicense", "license { id appId createdBy }", map[string]any{"name": "Billing Suite", "totalSeats": 3})
	appPerson := app.ok("createPerson", "person { id appId createdBy }", map[string]any{"email": "bot@example.com"})
	bl, bp := idAt(t, appLic, "license", "id"), idAt(t, appPerson, "person", "id")
	appGroup := app.ok("createGroup", "group { id appId createdBy }", map[string]any{"name": "Billing", "memberIds": []string{bp}})
	appGrant := app.ok("assignLicense", "assignment { id appId createdBy }", map[string]any{"licenseId": bl, "personId": bp})
	bg, ba := idAt(t, appGroup, "group", "id"), idAt(t, appGrant, "assignment", "id")
	for _, p := range []any{appLic["license"], appPerson["person"], appGroup["group"], appGrant["assignment"]} {
		if jsonAt(t, p, "appId") != "billing" || jsonAt(t, p, "createdBy") != "billing-bot" {
			t.Errorf("record written by the billing app = %v, want appId billing, createdBy billing-bot", p)
		}
	}
	for table, want := range map[string]int{"licenses": 1, "people": 1, "groups": 1, "assignments": 1, "group_members": 1} {
		if n := sqlScalarInt(t, db, "SELECT count(*) FROM "+table+" WHERE tenant_id = $1 AND app_id = 'billing'", tenant); n != want {
			t.Errorf("%s: %d rows with app_id billing, want %d", table, n, want)
		}
	}
	if n := sqlScalarInt(t, db, "SELECT count(*) FROM licenses WHERE tenant_id = $1 AND app_id IS NULL", tenant); n != 1 {
		t.Errorf("%d licenses without an app, want 1: the plain token's writes carry no app", n)
	}
	// Its own records are its to change.
	app.ok("updateLicense", "license { id }", map[string]any{"id": bl, "vendor": "Billing Co"})
	if p := app.ok("recordUsage", "updated", map[string]any{"assignmentId": ba}); num(p["updated"]) != 1 {
		t.Errorf("the app's usage of its own seat: updated %v, want 1", p["updated"])
	}

	cases := []mutationCase{
		{"tenant's license", "updateLicense", map[string]any{"id": lic, "name": "Hijacked"}, "NOT_FOUND", "input.id", false},
		{"tenant's license", "deleteLicense", map[string]any{"id": lic, "force": true}, "NOT_FOUND", "input.id", false},
		{"tenant's license to the app's person", "assignLicense", map[string]any{"licenseId": lic, "personId": bp}, "NOT_FOUND", "input.licenseId", false},
		{"app's license to the tenant's person", "assignLicense", map[string]any{"licenseId": bl, "personId": ada}, "NOT_FOUND", "input.personId", false},
		{"app's license to the tenant's group", "assignLicense", map[string]any{"licenseId": bl, "groupId": grp}, "NOT_FOUND", "input.groupId", false},
		{"one item naming the tenant's license", "assignLicenses", map[string]any{"items": []map[string]any{
			{"licenseId": bl, "personId": bp}, {"licenseId": lic, "personId": bp}}}, "NOT_FOUND", "input.items[1].licenseId", false},
		{"tenant's assignment", "updateAssignment", map[string]any{"id": asg, "active": false}, "NOT_FOUND", "input.id", false},
		{"tenant's assignment", "revokeAssignment", map[string]any{"id": asg, "reason": "app"}, "NOT_FOUND", "input.id", false},
		{"tenant's assignment", "recordUsage", map[string]any{"assignmentId": asg}, "NOT_FOUND", "", false},
		{"tenant's license and person", "recordUsage", map[string]any{"licenseId": lic, "personId": ada}, "NOT_FOUND", "", false},
		{"tenant's license", "reclaimUnusedSeats", map[string]any{"licenseId": lic, "unusedSince": time.Now().UTC().Format(time.RFC3339Nano)}, "NOT_FOUND", "input.licenseId", false},
		{"tenant's person", "updatePerson", map[string]any{"id": ada, "name": "Hijacked"}, "NOT_FOUND", "input.id", false},
		{"tenant's person", "deletePerson", map[string]any{"id": ada}, "NOT_FOUND", "input.id", false},
		{"with the tenant's person", "createGroup", map[string]any{"name": "Mixed", "memberIds": []string{bp, ada}}, "NOT_FOUND", "", false},
		{"tenant's group", "updateGroup", map[string]any{"id": grp, "name": "Hijacked"}, "NOT_FOUND", "input.id", false},
		{"tenant's group", "deleteGroup", map[string]any{"id": grp}, "NOT_FOUND", "input.id", false},
		{"app's person into the tenant's group", "addGroupMembers", map[string]any{"groupId": grp, "personIds": []string{bp}}, "NOT_FOUND", "input.groupId", false},
		{"tenant's person into the app's group", "addGroupMembers", map[string]any{"groupId": bg, "personIds": []string{ada}}, "NOT_FOUND", "input.personIds", false},
		{"tenant's person out of the tenant's group", "removeGroupMembers", map[string]any{"groupId": grp, "personIds": []string{ada}}, "NOT_FOUND", "input.groupId", false},
	}
	for _, c := range cases {
		t.Run(c.mutation+"/"+c.name, func(t *testing.T) {
			before := snapshot(t, db, tenant)
			r := tryMutation(app, c.mutation, payloadFields[c.mutation], c.input)
			wantUserError(t, r, c.mutation, c.code, c.field)
			wantEmptyPayload(t, c.mutation, jsonAt(t, r.Data, c.mutation).(map[string]any))
			if after := snapshot(t, db, tenant); after != before {
				t.Errorf("refused %s changed the tenant:\nbefore %s\nafter  %s", c.mutation, before, after)
			}
		})
	}

	// A sweep by the app reclaims the app's unused seats, never the tenant's.
	p := app.ok("reclaimUnusedSeats", "count reclaimed { id appId }", map[string]any{"unusedSince": time.Now().UTC().Format(time.RFC3339Nano), "dryRun": true})
	for _, r := range jsonList(t, p, "reclaimed") {
		if jsonAt(t, r, "id") == asg || jsonAt(t, r, "appId") != "billing" {
			t.Errorf("the billing app's sweep would reclaim %v", r)
		}
	}
}

// An application's writes reach the consequences of the whole tenant: a
// person it creates binds an invitation an admin sent, and removing a
// member from an admin's granted group frees the member's seat.
func TestAppWritesReachTenantConsequences(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("app-consequences")
	admin := newAPI(t, srv, tenant)
	app := &api{t: t, srv: srv, tok: apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "hr-sync", App: "hr"})}
	lic := admin.license("L", 5)
	admin.assign(lic, map[string]any{"email": "new@example.com"})
	p := app.ok("createPerson", "person { id } fulfilledInvitations", map[string]any{"email": "new@example.com"})
	if num(p["fulfilledInvitations"]) != 1 {
		t.Fatalf("app-created person bound %v invitations, want 1", p["fulfilledInvitations"])
	}
	grp := app.group("Synced", p["person"].(map[string]any)["id"].(string))
	admin.assign(lic, map[string]any{"groupId": grp})
	app.ok("removeGroupMembers", "changed", map[string]any{"groupId": grp, "personIds": []string{p["person"].(map[string]any)["id"].(string)}})
	app.ok("deletePerson", "person { id }", map[string]any{"id": p["person"].(map[string]any)["id"]})
	if used := num(admin.seats(lic)["used"]); used != 0 {
		t.Fatalf("seats used %d after the app removed and deleted the person, want 0", used)
	}
}
