package graph_test

import (
	"reflect"
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// TestMutationDryRun: a dry run answers exactly what the real call then
// answers, and writes nothing.
func TestMutationDryRun(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("dryrun")
	a := newAPI(t, srv, tenant)
	db := apitest.DB(t).SQL(t)

	lic := a.license("Figma", 3)
	ada, ben, cy, dee := a.person("ada@example.com"), a.person("ben@example.com"), a.person("cy@example.com"), a.person("dee@example.com")
	adaGrant := idAt(t, a.assign(lic, map[string]any{"personId": ada}), "assignment", "id")
	team := a.group("Team", ben)
	a.assign(lic, map[string]any{"groupId": team})
	doomed := a.license("Doomed", 0)
	a.assign(doomed, map[string]any{"personId": ada})
	a.assign(doomed, map[string]any{"groupId": team})
	idle := a.license("Idle", 0)
	for _, p := range []string{ada, cy, dee} {
		a.assign(idle, map[string]any{"personId": p})
	}
	// ada's and cy's seats of Idle are unused since mark; dee's is not.
	time.Sleep(5 * time.Millisecond)
	mark := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	a.ok("recordUsage", "updated", map[string]any{"licenseId": idle, "personId": dee})

	dry := func(in map[string]any) map[string]any {
		out := map[string]any{"dryRun": true}
		for k, v := range in {
			out[k] = v
		}
		return out
	}
	// same runs mutation dry, checks nothing changed, runs it for real
	// and checks both answered the same.
	same := func(t *testing.T, mutation string, in map[string]any) map[string]any {
		t.Helper()
		before := snapshot(t, db, tenant)
		d := tryMutation(a, mutation, dryRunFields[mutation], dry(in))
		if after := snapshot(t, db, tenant); after != before {
			t.Errorf("dry run of %s changed the database:\nbefore %s\nafter  %s", mutation, before, after)
		}
		r := tryMutation(a, mutation, dryRunFields[mutation], in)
		if len(d.Errors) > 0 || len(r.Errors) > 0 {
			t.Fatalf("%s: GraphQL errors: dry %s, real %s", mutation, d.Raw, r.Raw)
		}
		if !reflect.DeepEqual(d.Data, r.Data) {
			t.Errorf("%s: the dry run answered\n%v\nthe real call\n%v", mutation, d.Data, r.Data)
		}
		if snapshot(t, db, tenant) == before && len(userErrorsOf(t, r, mutation)) == 0 {
			t.Errorf("%s: the real call wrote nothing", mutation)
		}
		return r.Data[mutation].(map[string]any)
	}

	t.Run("assignLicense", func(t *testing.T) {
		p := same(t, "assignLicense", map[string]any{"licenseId": lic, "personId": cy})
		if jsonAt(t, p, "assignment", "status") != "ACTIVE" || jsonInt(t, p, "seats", "used") != 3 {
			t.Errorf("assign = %v, want ACTIVE with 3 seats used", p)
		}
		p = same(t, "assignLicense", map[string]any{"licenseId": lic, "personId": dee, "waitlist": true})
		if jsonAt(t, p, "assignment", "status") != "WAITLISTED" || jsonInt(t, p, "seats", "waitlisted") != 1 {
			t.Errorf("waitlisted assign = %v", p)
		}
		// A refusal is answered the same way too.
		before := snapshot(t, db, tenant)
		d := tryMutation(a, "assignLicense", dryRunFields["assignLicense"], dry(map[string]any{"licenseId": lic, "email": "eve@example.com"}))
		r := tryMutation(a, "assignLicense", dryRunFields["assignLicense"], map[string]any{"licenseId": lic, "email": "eve@example.com"})
		wantUserError(t, d, "assignLicense", "SEAT_LIMIT_REACHED", "input.licenseId")
		if !reflect.DeepEqual(d.Data, r.Data) {
			t.Errorf("refused assign: dry run %v, real %v", d.Data, r.Data)
		}
		if snapshot(t, db, tenant) != before {
			t.Error("a refused assign changed the database")
		}
	})

	t.Run("revokeAssignment", func(t *testing.T) {
		p := same(t, "revokeAssignment", map[string]any{"id": adaGrant, "reason": "left the team"})
		// The freed seat went to dee, who was waiting.
		if jsonAt(t, p, "assignment", "status") != "REVOKED" || jsonInt(t, p, "seats", "used") != 3 || jsonInt(t, p, "seats", "waitlisted") != 0 {
			t.Errorf("revoke = %v, want REVOKED, 3 used (dee promoted), none waiting", p)
		}
	})

	t.Run("assignLicenses", func(t *testing.T) {
		p := same(t, "assignLicenses", map[string]any{"items": []map[string]any{
			{"licenseId": doomed, "personId": cy}, {"licenseId": doomed, "email": "eve@example.com"}, {"licenseId": idle, "groupId": team}}})
		if n := len(jsonList(t, p, "assignments")); n != 3 {
			t.Errorf("assignLicenses made %d assignments, want 3", n)
		}
	})

	t.Run("addGroupMembers", func(t *testing.T) {
		p := same(t, "addGroupMembers", map[string]any{"groupId": team, "personIds": []string{cy, dee}, "waitlist": true})
		if jsonInt(t, p, "changed") != 2 {
			t.Errorf("addGroupMembers changed %v, want 2", p["changed"])
		}
	})

	t.Run("deleteLicense force", func(t *testing.T) {
		p := same(t, "deleteLicense", map[string]any{"id": doomed, "force": true})
		// ada's, cy's and eve's direct grants and the group grant.
		if jsonAt(t, p, "license", "isDeleted") != true || jsonInt(t, p, "revokedCount") != 4 {
			t.Errorf("forced delete = %v, want deleted with 4 grants revoked", p)
		}
	})

	t.Run("reclaimUnusedSeats", func(t *testing.T) {
		p := same(t, "reclaimUnusedSeats", map[string]any{"unusedSince": mark.Format(time.RFC3339Nano), "licenseId": idle})
		// ada's and cy's seats were never used; dee's was; the group grant
		// and the seats it gives are not reclaimed.
		if jsonInt(t, p, "count") != 2 {
			t.Errorf("reclaim = %v, want ada's and cy's 2 seats", p)
		}
	})
}
