package graph_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
)

const historyQuery = `query($id: ID!) { assignment(id: $id) {
	status updatedAt updatedBy revokedBy revokeReason
	history(first: 100) { totalCount nodes { id type actor actorType occurredAt changes } } } }`

// readHistory reads an assignment and its events, oldest first.
func readHistory(a *api, id string) (asg map[string]any, events []map[string]any) {
	a.t.Helper()
	d := a.query(historyQuery, map[string]any{"id": id})
	asg = jsonAt(a.t, d, "assignment").(map[string]any)
	for _, e := range jsonList(a.t, asg, "history", "nodes") {
		events = append(events, e.(map[string]any))
	}
	if n := jsonInt(a.t, asg, "history", "totalCount"); n != len(events) {
		a.t.Errorf("history.totalCount = %d, but %d events listed", n, len(events))
	}
	return asg, events
}

func eventTypes(events []map[string]any) []string {
	var out []string
	for _, e := range events {
		out = append(out, e["type"].(string))
	}
	return out
}

// wantHistory checks an assignment's event types, oldest first, and
// returns the newest event.
func wantHistory(t *testing.T, a *api, id string, types ...string) (asg, last map[string]any) {
	t.Helper()
	asg, events := readHistory(a, id)
	if got := eventTypes(events); !slices.Equal(got, types) {
		t.Fatalf("history of %s = %v, want %v", id, got, types)
	}
	return asg, events[len(events)-1]
}

// sameInstant compares two DateTime strings as instants.
func sameInstant(t *testing.T, x, y any) bool {
	t.Helper()
	tx, err1 := time.Parse(time.RFC3339Nano, x.(string))
	ty, err2 := time.Parse(time.RFC3339Nano, y.(string))
	if err1 != nil || err2 != nil {
		t.Fatalf("not DateTimes: %v, %v", x, y)
	}
	return tx.Equal(ty)
}

func timeAfter(t *testing.T, x, y any) bool {
	t.Helper()
	tx, _ := time.Parse(time.RFC3339Nano, x.(string))
	ty, _ := time.Parse(time.RFC3339Nano, y.(string))
	return tx.After(ty)
}

// TestAssignmentHistory: every change of an assignment writes one event,
// in the same transaction, with its actor and the fields it changed;
// refused and dry-run changes write none.
func TestAssignmentHistory(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("history")
	a := newAPI(t, srv, tenant)
	auditor := &api{t: t, srv: srv, tok: apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "auditor"})}
	db := apitest.DB(t).SQL(t)

	lic := a.license("Figma", 1)
	ada, ben := a.person("ada@example.com"), a.person("ben@example.com")
	created := a.ok("assignLicense", "assignment { id updatedAt }", map[string]any{"licenseId": lic, "personId": ada,
		"metadata": map[string]any{"team": "design"}})
	asg := idAt(t, created, "assignment", "id")

	t.Run("assigned", func(t *testing.T) {
		_, e := wantHistory(t, a, asg, "ASSIGNED")
		if e["actor"] != "test-user" || e["actorType"] != "API" || !sameInstant(t, e["occurredAt"], jsonAt(t, created, "assignment", "updatedAt")) {
			t.Errorf("ASSIGNED event = %v, want by test-user through the API when the grant was made", e)
		}
		if jsonAt(t, e, "changes", "personId") != ada || jsonAt(t, e, "changes", "active") != true {
			t.Errorf("ASSIGNED changes = %v, want personId %s and active", e["changes"], ada)
		}
	})

	t.Run("updated", func(t *testing.T) {
		before, _ := readHistory(a, asg)
		auditor.ok("updateAssignment", "assignment { id }", map[string]any{"id": asg,
			"metadata": map[string]any{"team": "platform"}, "redirectTo": "https://apps.example.com/welcome"})
		after, e := wantHistory(t, a, asg, "ASSIGNED", "UPDATED")
		want := map[string]any{"metadata": map[string]any{"team": "platform"}, "redirectTo": "https://apps.example.com/welcome"}
		if !reflect.DeepEqual(e["changes"], want) {
			t.Errorf("UPDATED changes = %v, want exactly %v", e["changes"], want)
		}
		if e["actor"] != "auditor" || after["updatedBy"] != "auditor" {
			t.Errorf("UPDATED by %v, assignment updatedBy %v; want auditor for both", e["actor"], after["updatedBy"])
		}
		if !timeAfter(t, after["updatedAt"], before["updatedAt"]) || !sameInstant(t, e["occurredAt"], after["updatedAt"]) {
			t.Errorf("updatedAt %v -> %v, event at %v: want updatedAt moved, to the event's instant",
				before["updatedAt"], after["updatedAt"], e["occurredAt"])
		}
	})

	t.Run("suspended and resumed", func(t *testing.T) {
		a.ok("updateAssignment", "assignment { id }", map[string]any{"id": asg, "active": false})
		s, e := wantHistory(t, a, asg, "ASSIGNED", "UPDATED", "SUSPENDED")
		if s["status"] != "SUSPENDED" || !reflect.DeepEqual(e["changes"], map[string]any{"active": false}) {
			t.Errorf("after active:false: status %v, event %v", s["status"], e)
		}
		a.ok("updateAssignment", "assignment { id }", map[string]any{"id": asg, "active": true})
		s, e = wantHistory(t, a, asg, "ASSIGNED", "UPDATED", "SUSPENDED", "RESUMED")
		if s["status"] != "ACTIVE" || !reflect.DeepEqual(e["changes"], map[string]any{"active": true}) {
			t.Errorf("after active:true: status %v, event %v", s["status"], e)
		}
	})

	t.Run("no event without a change", func(t *testing.T) {
		stale := jsonAt(t, created, "assignment", "updatedAt")
		a.ok("updateAssignment", "assignment { id }", map[string]any{"id": asg, "active": true})
		a.ok("updateAssignment", "assignment { id }", map[string]any{"id": asg, "active": false, "dryRun": true})
		a.fails("updateAssignment", "STALE_WRITE", map[string]any{"id": asg, "active": false, "expectedUpdatedAt": stale})
		a.fails("updateAssignment", "INVALID", map[string]any{"id": asg, "active": false, "redirectTo": "nowhere"})
		wantHistory(t, a, asg, "ASSIGNED", "UPDATED", "SUSPENDED", "RESUMED")
	})

	var waiting string
	t.Run("waitlisted, revoked, promoted", func(t *testing.T) {
		waiting = idAt(t, a.ok("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": ben, "waitlist": true}),
			"assignment", "id")
		_, w := wantHistory(t, a, waiting, "WAITLISTED")
		a.ok("revokeAssignment", "assignment { id }", map[string]any{"id": asg, "reason": "left the company"})
		s, e := wantHistory(t, a, asg, "ASSIGNED", "UPDATED", "SUSPENDED", "RESUMED", "REVOKED")
		if e["actor"] != "test-user" || !reflect.DeepEqual(e["changes"], map[string]any{"reason": "left the company"}) {
			t.Errorf("REVOKED event = %v, want by test-user with the reason", e)
		}
		if s["status"] != "REVOKED" || s["revokeReason"] != "left the company" || s["revokedBy"] != "test-user" {
			t.Errorf("revoked assignment = %v", s)
		}
		_, p := wantHistory(t, a, waiting, "WAITLISTED", "PROMOTED")
		if timeAfter(t, w["occurredAt"], p["occurredAt"]) {
			t.Errorf("PROMOTED at %v, before WAITLISTED at %v", p["occurredAt"], w["occurredAt"])
		}
	})

	t.Run("invitation fulfilled", func(t *testing.T) {
		open := a.license("Slack", 0)
		inv := idAt(t, a.assign(open, map[string]any{"email": "new@example.com"}), "assignment", "id")
		_, e := wantHistory(t, a, inv, "ASSIGNED")
		if jsonAt(t, e, "changes", "email") != "new@example.com" || jsonAt(t, e, "changes", "fulfilled") != false {
			t.Errorf("invitation's ASSIGNED changes = %v", e["changes"])
		}
		person := idAt(t, a.ok("createPerson", "person { id }", map[string]any{"email": "new@example.com"}), "person", "id")
		_, e = wantHistory(t, a, inv, "ASSIGNED", "FULFILLED")
		if jsonAt(t, e, "changes", "personId") != person {
			t.Errorf("FULFILLED changes = %v, want personId %s", e["changes"], person)
		}
	})

	t.Run("inherited through a group", func(t *testing.T) {
		open := a.license("Jira", 0)
		cy := a.person("cy@example.com")
		grp := a.group("Eng")
		a.assign(open, map[string]any{"groupId": grp})
		a.ok("addGroupMembers", "changed", map[string]any{"groupId": grp, "personIds": []string{cy}})
		inh := idAt(t, a.query(`query($g: ID!) { assignments(filter: {viaGroupId: $g}) { nodes { id } } }`,
			map[string]any{"g": grp}), "assignments", "nodes", 0, "id")
		_, e := wantHistory(t, a, inh, "ASSIGNED")
		if jsonAt(t, e, "changes", "viaGroupId") != grp {
			t.Errorf("inherited ASSIGNED changes = %v, want viaGroupId %s", e["changes"], grp)
		}
		a.ok("removeGroupMembers", "changed", map[string]any{"groupId": grp, "personIds": []string{cy}})
		wantHistory(t, a, inh, "ASSIGNED", "REVOKED")
	})

	t.Run("person deleted", func(t *testing.T) {
		a.ok("deletePerson", "person { id }", map[string]any{"id": ben})
		// A deleted assignment is read by an admin with includeDeleted.
		d := a.query(`query($p: [ID!]) { assignments(filter: {assigneeIds: $p, includeDeleted: true}) {
			nodes { id isDeleted deletedBy history(last: 1) { nodes { type actor changes } } } } }`, map[string]any{"p": []string{ben}})
		n := jsonAt(t, d, "assignments", "nodes", 0)
		e := jsonAt(t, n, "history", "nodes", 0)
		if jsonAt(t, n, "id") != waiting || jsonAt(t, n, "isDeleted") != true || jsonAt(t, e, "type") != "DELETED" ||
			jsonAt(t, e, "actor") != "test-user" || jsonAt(t, e, "changes", "reason") != "person deleted" {
			t.Errorf("ben's assignment after deletePerson = %v", n)
		}
	})

	t.Run("expired by the job", func(t *testing.T) {
		open := a.license("Zoom", 0)
		// Microseconds: what PostgreSQL keeps.
		soon := time.Now().Add(1500 * time.Millisecond).UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
		exp := idAt(t, a.ok("assignLicense", "assignment { id }", map[string]any{"licenseId": open,
			"personId": a.person("dee@example.com"), "expiresAt": soon}), "assignment", "id")
		time.Sleep(1600 * time.Millisecond)
		if n, err := licensing.ExpireDue(context.Background(), srv.DB); err != nil || n < 1 {
			t.Fatalf("ExpireDue = %d, %v", n, err)
		}
		s, e := wantHistory(t, a, exp, "ASSIGNED", "EXPIRED")
		if s["status"] != "EXPIRED" || e["actorType"] != "SYSTEM" || e["actor"] == "test-user" || e["actor"] == "" {
			t.Errorf("expired assignment %v, event %v: want EXPIRED by the server's job", s["status"], e)
		}
		if !sameInstant(t, jsonAt(t, e, "changes", "expiresAt"), soon) {
			t.Errorf("EXPIRED changes = %v, want expiresAt %s", e["changes"], soon)
		}
	})

	// The API's history is the table's, row for row.
	u, _ := gid.Assignment.Parse(asg)
	if n := sqlScalarInt(t, db, "SELECT count(*) FROM assignment_events WHERE tenant_id = $1 AND assignment_id = $2", tenant, u); n != 5 {
		t.Errorf("%d assignment_events rows for ada's assignment, want 5", n)
	}
}

// TestAssignmentHistoryPagination pages an assignment's history forwards
// and backwards.
func TestAssignmentHistoryPagination(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("history-pages"))
	lic := a.license("Figma", 0)
	asg := idAt(t, a.assign(lic, map[string]any{"personId": a.person("ada@example.com")}), "assignment", "id")
	for _, active := range []bool{false, true, false, true} {
		a.ok("updateAssignment", "assignment { id }", map[string]any{"id": asg, "active": active})
	}
	a.ok("revokeAssignment", "assignment { id }", map[string]any{"id": asg})
	_, all := readHistory(a, asg)
	want := []string{"ASSIGNED", "SUSPENDED", "RESUMED", "SUSPENDED", "RESUMED", "REVOKED"}
	if got := eventTypes(all); !slices.Equal(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
	ids := make([]string, len(all))
	for i, e := range all {
		ids[i] = e["id"].(string)
	}

	page := func(args map[string]any) (ids []string, info map[string]any) {
		t.Helper()
		vars := map[string]any{"id": asg}
		for k, v := range args {
			vars[k] = v
		}
		d := a.query(`query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { assignment(id: $id) {
			history(first: $first, after: $after, last: $last, before: $before) {
				totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`, vars)
		h := jsonAt(t, d, "assignment", "history")
		for _, e := range jsonList(t, h, "edges") {
			ids = append(ids, jsonAt(t, e, "node", "id").(string))
		}
		if n := jsonInt(t, h, "totalCount"); n != len(all) {
			t.Errorf("totalCount = %d on a page, want %d", n, len(all))
		}
		return ids, jsonAt(t, h, "pageInfo").(map[string]any)
	}

	var got []string
	var after any
	for range len(all) {
		p, info := page(map[string]any{"first": 4, "after": after})
		got = append(got, p...)
		if info["hasNextPage"] != true {
			break
		}
		after = info["endCursor"]
	}
	if !slices.Equal(got, ids) {
		t.Errorf("paging forward by 4: %v, want %v", got, ids)
	}

	got = nil
	var before any
	for range len(all) {
		p, info := page(map[string]any{"last": 4, "before": before})
		got = append(p, got...)
		if info["hasPreviousPage"] != true {
			break
		}
		before = info["startCursor"]
	}
	if !slices.Equal(got, ids) {
		t.Errorf("paging backward by 4: %v, want %v", got, ids)
	}

	if p, info := page(map[string]any{"last": 1}); !slices.Equal(p, ids[5:]) || info["hasPreviousPage"] != true || info["hasNextPage"] != false {
		t.Errorf("last: 1 = %v %v, want the REVOKED event with earlier ones before it", p, info)
	}
	if p, info := page(map[string]any{"first": 2}); !slices.Equal(p, ids[:2]) || info["hasNextPage"] != true || info["hasPreviousPage"] != false {
		t.Errorf("first: 2 = %v %v, want the first two events", p, info)
	}

	r := srv.Do(t, a.tok, `query($id: ID!) { assignment(id: $id) { history(first: 101) { totalCount } } }`, map[string]any{"id": asg})
	if codes := r.Codes(); len(codes) == 0 || codes[0] != "BAD_USER_INPUT" {
		t.Errorf("history(first: 101): errors %v, want BAD_USER_INPUT: %s", codes, r.Raw)
	}
}

const recordFields = "id tenantId appId createdAt updatedAt createdBy updatedBy source sourceType isDeleted deletedAt deletedBy schemaVersion"

// TestRecordStamps: every write stamps the Record fields from the caller
// and the server, never from input, except the provenance the input gives.
func TestRecordStamps(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("stamps")
	a := newAPI(t, srv, tenant)
	auditor := &api{t: t, srv: srv, tok: apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "auditor"})}
	db := apitest.DB(t).SQL(t)

	lic := a.license("Figma", 0)
	person := a.person("ada@example.com")
	kinds := []struct {
		create, update, object string
		input                  map[string]any
		change                 func(id string) map[string]any
	}{
		{"createLicense", "updateLicense", "license", map[string]any{"name": "Miro"},
			func(id string) map[string]any { return map[string]any{"id": id, "name": "Miro Business"} }},
		{"createPerson", "updatePerson", "person", map[string]any{"email": "ben@example.com"},
			func(id string) map[string]any { return map[string]any{"id": id, "name": "Ben"} }},
		{"createGroup", "updateGroup", "group", map[string]any{"name": "Design"},
			func(id string) map[string]any { return map[string]any{"id": id, "description": "Designers"} }},
		{"assignLicense", "updateAssignment", "assignment", map[string]any{"licenseId": lic, "personId": person},
			func(id string) map[string]any { return map[string]any{"id": id, "metadata": map[string]any{"x": 1}} }},
	}
	for _, k := range kinds {
		t.Run(k.object, func(t *testing.T) {
			rec := jsonAt(t, a.ok(k.create, k.object+" { "+recordFields+" }", k.input), k.object).(map[string]any)
			want := map[string]any{"tenantId": tenant, "appId": nil, "createdBy": "test-user", "updatedBy": "test-user",
				"source": "edm", "sourceType": "API", "isDeleted": false, "deletedAt": nil, "deletedBy": nil}
			for f, v := range want {
				if rec[f] != v {
					t.Errorf("new %s: %s = %v, want %v", k.object, f, rec[f], v)
				}
			}
			if !sameInstant(t, rec["createdAt"], rec["updatedAt"]) || jsonInt(t, rec, "schemaVersion") < 1 {
				t.Errorf("new %s: createdAt %v, updatedAt %v, schemaVersion %v", k.object, rec["createdAt"], rec["updatedAt"], rec["schemaVersion"])
			}
			if c, _ := time.Parse(time.RFC3339Nano, rec["createdAt"].(string)); time.Since(c) > time.Minute || time.Since(c) < 0 {
				t.Errorf("new %s: createdAt %v is not now", k.object, rec["createdAt"])
			}
			id := rec["id"].(string)
			kind, _, err := gid.Parse(id)
			if err != nil || string(kind) != map[string]string{"license": "lic", "person": "per", "group": "grp", "assignment": "asg"}[k.object] {
				t.Errorf("new %s: id %q is not a TypeID of its kind", k.object, id)
			}

			upd := jsonAt(t, auditor.ok(k.update, k.object+" { "+recordFields+" }", k.change(id)), k.object).(map[string]any)
			if upd["updatedBy"] != "auditor" || upd["createdBy"] != "test-user" || !sameInstant(t, upd["createdAt"], rec["createdAt"]) ||
				!timeAfter(t, upd["updatedAt"], rec["updatedAt"]) || upd["source"] != "edm" || upd["tenantId"] != tenant {
				t.Errorf("%s updated by auditor = %v (was %v)", k.object, upd, rec)
			}

			// The input names its provenance.
			in := map[string]any{"source": "hr-sync", "sourceType": "BACKEND"}
			for f, v := range k.input {
				in[f] = v
			}
			if k.create == "createPerson" {
				in["email"] = "cy@example.com"
			}
			if k.create == "assignLicense" {
				in["licenseId"] = a.license("Slack", 0)
			}
			rec = jsonAt(t, a.ok(k.create, k.object+" { "+recordFields+" }", in), k.object).(map[string]any)
			if rec["source"] != "hr-sync" || rec["sourceType"] != "BACKEND" || rec["createdBy"] != "test-user" {
				t.Errorf("%s with provenance = %v", k.object, rec)
			}
		})
	}

	// The tenant and creator come from the token, never from input.
	r := tryMutation(a, "createLicense", "license { id }", map[string]any{"name": "X", "tenantId": "other"})
	wantGraphQLError(t, r, "createLicense", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT")
	r = tryMutation(a, "createPerson", "person { id }", map[string]any{"email": "x@example.com", "createdBy": "someone"})
	wantGraphQLError(t, r, "createPerson", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT")
	if n := sqlScalarInt(t, db, "SELECT count(*) FROM licenses WHERE tenant_id = 'other'"); n != 0 {
		t.Errorf("%d licenses written to tenant other", n)
	}

	// A delete stamps who and when.
	d := auditor.ok("deletePerson", "person { "+recordFields+" }", map[string]any{"id": person})
	p := jsonAt(t, d, "person").(map[string]any)
	if p["isDeleted"] != true || p["deletedBy"] != "auditor" || p["deletedAt"] == nil || p["updatedBy"] != "auditor" ||
		!sameInstant(t, p["deletedAt"], p["updatedAt"]) {
		t.Errorf("deleted person = %v", p)
	}
	u, _ := gid.Person.Parse(person)
	if n := sqlScalarInt(t, db, `SELECT count(*) FROM people WHERE tenant_id = $1 AND id = $2 AND is_deleted
		AND deleted_by = 'auditor' AND created_by = 'test-user'`, tenant, u); n != 1 {
		t.Error("the people row does not record the delete")
	}
}
