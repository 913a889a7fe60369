package graph_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
	"seatgraph/internal/seed"
	"seatgraph/models"
)

// filtered lists, sorted, the ids of the assignments matching filter and
// checks that totalCount agrees.
func filtered(t *testing.T, srv *apitest.Server, tok string, filter map[string]any) []string {
	t.Helper()
	data := srv.MustDo(t, tok, `query($f: AssignmentFilter) {
	  assignments(first: 100, filter: $f) { totalCount nodes { id } } }`, map[string]any{"f": filter})
	ids := nodeIDs(t, data, "assignments")
	if n := jsonInt(t, data, "assignments", "totalCount"); n != len(ids) {
		t.Errorf("filter %v: totalCount %d, but %d nodes", filter, n, len(ids))
	}
	slices.Sort(ids)
	return ids
}

// licensesMatching lists, sorted, the names of the licenses matching filter.
func licensesMatching(t *testing.T, srv *apitest.Server, tok string, filter map[string]any) []string {
	t.Helper()
	data := srv.MustDo(t, tok, `query($f: LicenseFilter) {
	  licenses(first: 100, filter: $f) { totalCount nodes { name } } }`, map[string]any{"f": filter})
	var names []string
	for _, n := range jsonList(t, data, "licenses", "nodes") {
		names = append(names, jsonAt(t, n, "name").(string))
	}
	if n := jsonInt(t, data, "licenses", "totalCount"); n != len(names) {
		t.Errorf("filter %v: totalCount %d, but %d nodes", filter, n, len(names))
	}
	slices.Sort(names)
	return names
}

// asgIDs formats assignments' ids, sorted.
func asgIDs(as ...*models.Assignment) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = gid.Assignment.Format(a.ID)
	}
	slices.Sort(out)
	return out
}

// inheritedOf reads the id of the seat a group grant gives a member.
func inheritedOf(t *testing.T, db *sql.DB, tenant string, grant *models.Assignment, p *models.Person) *models.Assignment {
	t.Helper()
	u := sqlUUID(t, db, "SELECT id FROM assignments WHERE tenant_id = $1 AND via_assignment_id = $2 AND person_id = $3",
		tenant, grant.ID, p.ID)
	return &models.Assignment{Record: models.Record{ID: u}}
}

// wantError checks that r failed with an error of code (and, when given,
// a message containing text), and answered no data for field.
func wantError(t *testing.T, r *apitest.Response, field, code, text string) {
	t.Helper()
	if !slices.Contains(r.Codes(), code) {
		t.Errorf("got %s, want a %s error", r.Raw, code)
		return
	}
	if text != "" && !strings.Contains(string(r.Raw), text) {
		t.Errorf("the %s error does not mention %q: %s", code, text, r.Raw)
	}
	if field != "" && r.Data != nil && r.Data[field] != nil {
		t.Errorf("%s answered despite the error: %v", field, r.Data[field])
	}
}

// TestAssignmentStatus checks that every status is derived as SPEC §2 says,
// including the order in which the conditions win, and that the status
// filter returns exactly the assignments showing that status.
func TestAssignmentStatus(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("status")
	f := apitest.NewFixture(t, srv.DB, tenant)
	db := apitest.DB(t).SQL(t)
	l, ended := f.License("Status Suite", 0), f.License("Ended Suite", 0)
	p := f.People("s", 10)
	set := func(a *models.Assignment, assignments string) {
		t.Helper()
		sqlExec(t, db, "UPDATE assignments SET "+assignments+" WHERE tenant_id = $1 AND id = $2", tenant, a.ID)
	}

	want := map[string][]*models.Assignment{}
	add := func(status string, a *models.Assignment) { want[status] = append(want[status], a) }

	add("ACTIVE", f.Assign(l, p[0])[0])
	add("PENDING", f.Invite(l, "Invitee@Example.com"))
	unfulfilled := f.Assign(l, p[1])[0]
	set(unfulfilled, "fulfilled = false")
	add("PENDING", unfulfilled)
	suspended := f.Assign(l, p[2])[0]
	set(suspended, "active = false")
	add("SUSPENDED", suspended)
	expired := f.Assign(l, p[3])[0]
	set(expired, "expires_at = now() - interval '2 days', expired_at = now() - interval '2 days'")
	add("EXPIRED", expired)
	// Past its end, but the expiry job has not recorded it yet.
	lapsed := f.Assign(l, p[4])[0]
	set(lapsed, "expires_at = now() - interval '1 hour'")
	add("EXPIRED", lapsed)
	revoked := f.Assign(l, p[5])[0]
	set(revoked, "revoked_at = now(), revoked_by = 'x', revoke_reason = 'left'")
	add("REVOKED", revoked)
	waitlisted := f.Assign(l, p[6])[0]
	set(waitlisted, "waitlisted_at = now()")
	add("WAITLISTED", waitlisted)
	// Precedence: revoked over expired, expired over waitlisted,
	// waitlisted over suspended, suspended over pending.
	revokedAndExpired := f.Assign(l, p[7])[0]
	set(revokedAndExpired, "revoked_at = now(), revoked_by = 'x', expires_at = now() - interval '1 day'")
	add("REVOKED", revokedAndExpired)
	expiredAndWaiting := f.Assign(l, p[8])[0]
	set(expiredAndWaiting, "waitlisted_at = now() - interval '3 days', expires_at = now() - interval '1 day'")
	add("EXPIRED", expiredAndWaiting)
	waitingAndSuspended := f.Assign(l, p[9])[0]
	set(waitingAndSuspended, "waitlisted_at = now(), active = false")
	add("WAITLISTED", waitingAndSuspended)
	suspendedInvite := f.Invite(l, "paused@example.com")
	set(suspendedInvite, "active = false")
	add("SUSPENDED", suspendedInvite)
	// A grant on a license that has ended is expired too.
	add("EXPIRED", f.Assign(ended, p[0])[0])
	sqlExec(t, db, "UPDATE licenses SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1 AND id = $2", tenant, ended.ID)

	tok := apitest.Token(t, tenant)
	data := srv.MustDo(t, tok, `{ assignments(first: 100) { nodes { id status } } }`, nil)
	got := map[string]string{}
	for _, n := range jsonList(t, data, "assignments", "nodes") {
		got[jsonAt(t, n, "id").(string)] = jsonAt(t, n, "status").(string)
	}
	all := 0
	for status, as := range want {
		for _, a := range as {
			all++
			id := gid.Assignment.Format(a.ID)
			if got[id] != status {
				t.Errorf("assignment %s: status %q, want %s", id, got[id], status)
			}
		}
	}
	if len(got) != all {
		t.Errorf("listed %d assignments, want %d", len(got), all)
	}
	// The single-record path derives the same status.
	one := srv.MustDo(t, tok, `query($id: ID!) { assignment(id: $id) { status } }`,
		map[string]any{"id": gid.Assignment.Format(lapsed.ID)})
	if s := jsonAt(t, one, "assignment", "status"); s != "EXPIRED" {
		t.Errorf("assignment(id) of a lapsed grant: status %v, want EXPIRED", s)
	}

	for status, as := range want {
		t.Run("status filter "+status, func(t *testing.T) {
			if got, want := filtered(t, srv, tok, map[string]any{"status": []string{status}}), asgIDs(as...); !slices.Equal(got, want) {
				t.Errorf("status [%s] returns %v, want %v", status, got, want)
			}
		})
	}
	t.Run("status filter ACTIVE PENDING", func(t *testing.T) {
		got := filtered(t, srv, tok, map[string]any{"status": []string{"ACTIVE", "PENDING"}})
		if want := asgIDs(append(slices.Clone(want["ACTIVE"]), want["PENDING"]...)...); !slices.Equal(got, want) {
			t.Errorf("status [ACTIVE PENDING] returns %v, want %v", got, want)
		}
	})
	t.Run("status filter empty list", func(t *testing.T) {
		if got := filtered(t, srv, tok, map[string]any{"status": []string{}}); len(got) != 0 {
			t.Errorf("status [] returns %v, want nothing", got)
		}
	})
}

// TestAssignmentFilters checks the assignment filters a list view uses:
// by assignee type, direct or inherited, by group, by email, by use.
func TestAssignmentFilters(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("filters")
	f := apitest.NewFixture(t, srv.DB, tenant)
	db := apitest.DB(t).SQL(t)
	l, other := f.License("Filter Suite", 0), f.License("Other Suite", 0)
	p := f.People("f", 4)
	team := f.Group("Team", p[2], p[3])
	direct := f.Assign(l, p[0], p[1])
	grant := f.AssignGroup(l, team, p[2], p[3])
	in2, in3 := inheritedOf(t, db, tenant, grant, p[2]), inheritedOf(t, db, tenant, grant, p[3])
	invite := f.Invite(l, "Guest@Example.com")
	elsewhere := f.Assign(other, p[2])[0]
	used := func(a *models.Assignment, ago string) {
		sqlExec(t, db, "UPDATE assignments SET last_used_at = now() - $3::interval WHERE tenant_id = $1 AND id = $2", tenant, a.ID, ago)
	}
	used(direct[0], "10 days")
	used(in2, "1 day")
	used(elsewhere, "30 days")

	tok := apitest.Token(t, tenant)
	cutoff := time.Now().Add(-5 * 24 * time.Hour).UTC().Format(time.RFC3339Nano)
	for name, c := range map[string]struct {
		filter map[string]any
		want   []*models.Assignment
	}{
		"assigneeType PERSON": {map[string]any{"assigneeType": "PERSON"}, []*models.Assignment{direct[0], direct[1], in2, in3, elsewhere}},
		"assigneeType GROUP":  {map[string]any{"assigneeType": "GROUP"}, []*models.Assignment{grant}},
		"assigneeType EMAIL":  {map[string]any{"assigneeType": "EMAIL"}, []*models.Assignment{invite}},
		"direct":              {map[string]any{"direct": true}, []*models.Assignment{direct[0], direct[1], grant, invite, elsewhere}},
		"inherited":           {map[string]any{"direct": false}, []*models.Assignment{in2, in3}},
		"viaGroupId":          {map[string]any{"viaGroupId": gid.Group.Format(team.ID)}, []*models.Assignment{in2, in3}},
		"assigneeIds group":   {map[string]any{"assigneeIds": []string{gid.Group.Format(team.ID)}}, []*models.Assignment{grant}},
		"assigneeIds person":  {map[string]any{"assigneeIds": []string{gid.Person.Format(p[2].ID)}}, []*models.Assignment{in2, elsewhere}},
		"licenseIds":          {map[string]any{"licenseIds": []string{gid.License.Format(other.ID)}}, []*models.Assignment{elsewhere}},
		"licenseIds empty":    {map[string]any{"licenseIds": []string{}}, nil},
		// The invited address, in any case.
		"email of an invitation": {map[string]any{"email": "gUEST@example.COM"}, []*models.Assignment{invite}},
		// A person's address finds their seats, direct and inherited.
		"email of a person": {map[string]any{"email": strings.ToUpper(p[2].Email)}, []*models.Assignment{in2, elsewhere}},
		"email of nobody":   {map[string]any{"email": "nobody@example.com"}, nil},
		"neverUsed":         {map[string]any{"neverUsed": true}, []*models.Assignment{direct[1], grant, in3, invite}},
		"used":              {map[string]any{"neverUsed": false}, []*models.Assignment{direct[0], in2, elsewhere}},
		// Unused since the cutoff: last used before it, or never.
		"lastUsedBefore": {map[string]any{"lastUsedBefore": cutoff}, []*models.Assignment{direct[0], elsewhere, direct[1], grant, in3, invite}},
		"lastUsedBefore and used": {map[string]any{"lastUsedBefore": cutoff, "neverUsed": false},
			[]*models.Assignment{direct[0], elsewhere}},
		"person and direct": {map[string]any{"assigneeType": "PERSON", "direct": true, "licenseIds": []string{gid.License.Format(l.ID)}},
			[]*models.Assignment{direct[0], direct[1]}},
	} {
		t.Run(name, func(t *testing.T) {
			if got, want := filtered(t, srv, tok, c.filter), asgIDs(c.want...); !slices.Equal(got, want) {
				t.Errorf("filter %v returns\n%v\nwant\n%v", c.filter, got, want)
			}
		})
	}

	t.Run("nested", func(t *testing.T) {
		data := srv.MustDo(t, tok, `query($p: ID!, $g: ID!) {
		  person(id: $p) { all: assignments { nodes { id } } inherited: assignments(filter: { direct: false }) { nodes { id } } }
		  group(id: $g) { assignments { nodes { id } } members { totalCount } }
		}`, map[string]any{"p": gid.Person.Format(p[2].ID), "g": gid.Group.Format(team.ID)})
		check := func(path []any, want []string) {
			got := nodeIDs(t, data, path...)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%v: %v, want %v", path, got, want)
			}
		}
		check([]any{"person", "all"}, asgIDs(in2, elsewhere))
		check([]any{"person", "inherited"}, asgIDs(in2))
		check([]any{"group", "assignments"}, asgIDs(grant))
		if n := jsonInt(t, data, "group", "members", "totalCount"); n != 2 {
			t.Errorf("group has %d members, want 2", n)
		}
	})

	t.Run("fields of inherited and invited seats", func(t *testing.T) {
		data := srv.MustDo(t, tok, `query($in: ID!, $inv: ID!) {
		  in: assignment(id: $in) { direct assigneeType assigneeId email viaGroup { id } viaAssignment { id } assignee { ... on Person { id } } }
		  inv: assignment(id: $inv) { direct assigneeType assigneeId email fulfilled assignee { __typename } }
		}`, map[string]any{"in": gid.Assignment.Format(in2.ID), "inv": gid.Assignment.Format(invite.ID)})
		for path, want := range map[string]any{
			"in.direct": false, "in.assigneeType": "PERSON", "in.assigneeId": gid.Person.Format(p[2].ID),
			"in.email": p[2].Email, "in.viaGroup.id": gid.Group.Format(team.ID),
			"in.viaAssignment.id": gid.Assignment.Format(grant.ID), "in.assignee.id": gid.Person.Format(p[2].ID),
			"inv.direct": true, "inv.assigneeType": "EMAIL", "inv.assigneeId": nil, "inv.email": "Guest@Example.com",
			"inv.fulfilled": false, "inv.assignee": nil,
		} {
			var steps []any
			for _, s := range strings.Split(path, ".") {
				steps = append(steps, s)
			}
			if got := jsonAt(t, data, steps...); got != want {
				t.Errorf("%s = %v, want %v", path, got, want)
			}
		}
	})

	t.Run("bad ids in filters", func(t *testing.T) {
		for _, filter := range []map[string]any{
			{"licenseIds": []string{"garbage"}},
			{"licenseIds": []string{gid.Person.Format(p[0].ID)}},
			{"assigneeIds": []string{gid.License.Format(l.ID)}},
			{"viaGroupId": gid.Person.Format(p[0].ID)},
		} {
			r := srv.Do(t, tok, `query($f: AssignmentFilter) { assignments(filter: $f) { totalCount } }`, map[string]any{"f": filter})
			wantError(t, r, "assignments", "BAD_USER_INPUT", "")
		}
		r := srv.Do(t, tok, `{ people(filter: { groupId: "grp_nope" }) { totalCount } }`, nil)
		wantError(t, r, "people", "BAD_USER_INPUT", "")
	})
}

// TestLicenseFilters checks search, vendor, program key, seat availability
// and expiry filters of licenses.
func TestLicenseFilters(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("licfilter")
	f := apitest.NewFixture(t, srv.DB, tenant)
	db := apitest.DB(t).SQL(t)
	full := f.License("Acme 100% Cloud", 2)
	roomy := f.License("Beta Tool", 5)
	unlimited := f.License("Gamma", 0)
	soon := f.License("Delta", 3)
	later := f.License("Epsilon", 0)
	p := f.People("lf", 3)
	f.Assign(full, p[0], p[1])
	f.Assign(roomy, p[2])
	for _, u := range []struct {
		l                    *models.License
		vendor, key, expires string
	}{
		{full, "Acme Corp", "ACME-1", ""},
		{roomy, "acme corp", "BETA", ""},
		{unlimited, "Other", "X_ACME", ""},
		{soon, "Other", "DELTA", "10 days"},
		{later, "Other", "EPS", "100 days"},
	} {
		sqlExec(t, db, `UPDATE licenses SET vendor = $3, program_key = $4,
			expires_at = CASE WHEN $5 = '' THEN NULL ELSE now() + $5::interval END
			WHERE tenant_id = $1 AND id = $2`, tenant, u.l.ID, u.vendor, u.key, u.expires)
	}
	tok := apitest.Token(t, tenant)
	in30 := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	for name, c := range map[string]struct {
		filter map[string]any
		want   []string
	}{
		// Name, vendor or program key, in any case.
		"search":                   {map[string]any{"search": "aCmE"}, []string{"Acme 100% Cloud", "Beta Tool", "Gamma"}},
		"search takes % literally": {map[string]any{"search": "100%"}, []string{"Acme 100% Cloud"}},
		"search takes _ literally": {map[string]any{"search": "_"}, []string{"Gamma"}},
		"search no match":          {map[string]any{"search": "zzz"}, nil},
		"vendor":                   {map[string]any{"vendor": "ACME CORP"}, []string{"Acme 100% Cloud", "Beta Tool"}},
		"programKey":               {map[string]any{"programKey": "ACME-1"}, []string{"Acme 100% Cloud"}},
		// Unlimited licenses always have seats available.
		"hasAvailableSeats":    {map[string]any{"hasAvailableSeats": true}, []string{"Beta Tool", "Delta", "Epsilon", "Gamma"}},
		"no available seats":   {map[string]any{"hasAvailableSeats": false}, []string{"Acme 100% Cloud"}},
		"expiresBefore":        {map[string]any{"expiresBefore": in30}, []string{"Delta"}},
		"expiresAfter":         {map[string]any{"expiresAfter": in30}, []string{"Epsilon"}},
		"search and available": {map[string]any{"search": "acme", "hasAvailableSeats": true}, []string{"Beta Tool", "Gamma"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := licensesMatching(t, srv, tok, c.filter); !slices.Equal(got, c.want) {
				t.Errorf("filter %v returns %v, want %v", c.filter, got, c.want)
			}
		})
	}
}

// seatRecount counts a license's seats from its assignments as SPEC §2
// defines them: a person (or an invited address) holding at least one
// PENDING, ACTIVE or SUSPENDED grant holds one seat, pending when none of
// those grants is taken up; waitlisted counts the assignments waiting.
func seatRecount(t *testing.T, db *sql.DB, tenant string, license uuid.UUID) (used, pending, waitlisted int) {
	t.Helper()
	err := db.QueryRow(`
	WITH live AS (
	  SELECT a.* FROM assignments a JOIN licenses l ON l.tenant_id = a.tenant_id AND l.id = a.license_id
	  WHERE a.tenant_id = $1 AND a.license_id = $2 AND NOT a.is_deleted AND a.revoked_at IS NULL
	    AND a.expired_at IS NULL AND (a.expires_at IS NULL OR a.expires_at > now())
	    AND (l.expires_at IS NULL OR l.expires_at > now())
	), holders AS (
	  SELECT coalesce(person_id::text, lower(email)) AS holder, bool_or(fulfilled) AS taken_up
	  FROM live WHERE group_id IS NULL AND waitlisted_at IS NULL GROUP BY 1
	)
	SELECT (SELECT count(*) FROM holders), (SELECT count(*) FROM holders WHERE NOT taken_up),
	       (SELECT count(*) FROM live WHERE waitlisted_at IS NOT NULL)`, tenant, license).Scan(&used, &pending, &waitlisted)
	if err != nil {
		t.Fatal(err)
	}
	return used, pending, waitlisted
}

const seatsQuery = `query($id: ID!) { license(id: $id) { name seats { total used pending waitlisted available } } }`

// checkSeats compares a license's seats with the recount.
func checkSeats(t *testing.T, srv *apitest.Server, tok string, db *sql.DB, tenant string, l uuid.UUID) map[string]any {
	t.Helper()
	data := srv.MustDo(t, tok, seatsQuery, map[string]any{"id": gid.License.Format(l)})
	used, pending, waitlisted := seatRecount(t, db, tenant, l)
	seats := jsonAt(t, data, "license", "seats")
	name := jsonAt(t, data, "license", "name")
	for field, want := range map[string]int{"used": used, "pending": pending, "waitlisted": waitlisted} {
		if got := jsonInt(t, seats, field); got != want {
			t.Errorf("%s: seats.%s = %d, recount says %d", name, field, got, want)
		}
	}
	if total, ok := jsonAt(t, seats, "total").(float64); ok {
		if got := jsonInt(t, seats, "available"); got != int(total)-used {
			t.Errorf("%s: seats.available = %d, want %d - %d", name, got, int(total), used)
		}
	} else if a := jsonAt(t, seats, "available"); a != nil {
		t.Errorf("%s: unlimited, but seats.available = %v", name, a)
	}
	return seats.(map[string]any)
}

// TestSeatsAndEntitlements checks that license.seats agrees with a recount
// of the assignments (a person counts once, however many grants reach
// them) and that Person.entitlements explains every grant.
func TestSeatsAndEntitlements(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("seats")
	f := apitest.NewFixture(t, srv.DB, tenant)
	db := apitest.DB(t).SQL(t)
	l := f.License("Seat Count", 10)
	p := f.People("s", 9)
	g1, g2 := f.Group("G1", p[0], p[1]), f.Group("G2", p[0], p[2])
	own := f.Assign(l, p[0])[0]
	f.AssignGroup(l, g1, p[0], p[1])
	f.AssignGroup(l, g2, p[0], p[2])
	f.Invite(l, "Pending@Example.com")
	set := func(a *models.Assignment, assignments string) {
		t.Helper()
		sqlExec(t, db, "UPDATE assignments SET "+assignments+" WHERE tenant_id = $1 AND id = $2", tenant, a.ID)
	}
	set(f.Assign(l, p[3])[0], "fulfilled = false")
	set(f.Assign(l, p[4])[0], "active = false")
	set(f.Assign(l, p[5])[0], "revoked_at = now(), revoked_by = 'x'")
	set(f.Assign(l, p[6])[0], "waitlisted_at = now()")
	set(f.Assign(l, p[7])[0], "expires_at = now() - interval '1 day', expired_at = now() - interval '1 day'")
	set(f.Assign(l, p[8])[0], "is_deleted = true, deleted_at = now(), deleted_by = 'x'")
	tok := apitest.Token(t, tenant)

	t.Run("seats", func(t *testing.T) {
		seats := checkSeats(t, srv, tok, db, tenant, l.ID)
		// p0 (three grants), p1, p2, the invitation, p3 (unfulfilled), p4
		// (suspended); of them the invitation and p3 are pending.
		want := map[string]any{"total": 10.0, "used": 6.0, "pending": 2.0, "waitlisted": 1.0, "available": 4.0}
		for k, v := range want {
			if seats[k] != v {
				t.Errorf("seats.%s = %v, want %v", k, seats[k], v)
			}
		}
	})

	t.Run("seats of the demo data", func(t *testing.T) {
		demo := apitest.Tenant("seatsdemo")
		if _, err := seed.Run(t.Context(), srv.DB, demo); err != nil {
			t.Fatal(err)
		}
		dtok := apitest.Token(t, demo)
		// An ended license's seats are freed by the expiry job, which
		// these tests do not run; compare the licenses still running.
		ids := sqlUUIDs(t, db, "SELECT id FROM licenses WHERE tenant_id = $1 AND (expires_at IS NULL OR expires_at > now())", demo)
		if len(ids) < 10 {
			t.Fatalf("only %d running licenses in the demo data", len(ids))
		}
		for _, id := range ids {
			checkSeats(t, srv, dtok, db, demo, id)
		}
	})

	t.Run("entitlements", func(t *testing.T) {
		const q = `query($p: ID!) { person(id: $p) { entitlements {
		  license { id } holdsSeat seatGrants status grants { id direct status viaGroup { id } } } } }`
		ents := func(p *models.Person) []any {
			return jsonList(t, srv.MustDo(t, tok, q, map[string]any{"p": gid.Person.Format(p.ID)}), "person", "entitlements")
		}
		e := ents(p[0])
		if len(e) != 1 {
			t.Fatalf("p0 has %d entitlements, want 1: %v", len(e), e)
		}
		if got := jsonAt(t, e[0], "license", "id"); got != gid.License.Format(l.ID) {
			t.Errorf("entitlement of license %v, want %s", got, gid.License.Format(l.ID))
		}
		if jsonAt(t, e[0], "holdsSeat") != true || jsonInt(t, e[0], "seatGrants") != 3 || jsonAt(t, e[0], "status") != "ACTIVE" {
			t.Errorf("p0's entitlement: %v, want holdsSeat, 3 seat grants, ACTIVE", e[0])
		}
		grants := jsonList(t, e[0], "grants")
		if len(grants) != 3 {
			t.Fatalf("p0 has %d grants, want 3: %v", len(grants), grants)
		}
		if jsonAt(t, grants[0], "id") != gid.Assignment.Format(own.ID) || jsonAt(t, grants[0], "direct") != true {
			t.Errorf("first grant %v, want the direct one %s", grants[0], gid.Assignment.Format(own.ID))
		}
		var via []string
		for _, g := range grants[1:] {
			if jsonAt(t, g, "direct") != false {
				t.Errorf("grant %v after the direct one is direct", g)
			}
			via = append(via, jsonAt(t, g, "viaGroup", "id").(string))
		}
		slices.Sort(via)
		wantVia := []string{gid.Group.Format(g1.ID), gid.Group.Format(g2.ID)}
		slices.Sort(wantVia)
		if !slices.Equal(via, wantVia) {
			t.Errorf("inherited grants come via %v, want %v", via, wantVia)
		}

		for i, want := range map[int]struct {
			holds  bool
			grants int
			status string
		}{
			1: {true, 1, "ACTIVE"}, 3: {true, 1, "PENDING"}, 4: {true, 1, "SUSPENDED"}, 6: {false, 0, "WAITLISTED"},
		} {
			e := ents(p[i])
			if len(e) != 1 {
				t.Errorf("p%d has %d entitlements, want 1", i, len(e))
				continue
			}
			if jsonAt(t, e[0], "holdsSeat") != want.holds || jsonInt(t, e[0], "seatGrants") != want.grants || jsonAt(t, e[0], "status") != want.status {
				t.Errorf("p%d's entitlement: %v, want %+v", i, e[0], want)
			}
		}
		// Revoked, expired and deleted grants entitle to nothing.
		for _, i := range []int{5, 7, 8} {
			if e := ents(p[i]); len(e) != 0 {
				t.Errorf("p%d has entitlements %v, want none", i, e)
			}
		}
	})
}

// TestIncludeDeleted checks that soft-deleted records are hidden from every
// list, and shown by includeDeleted only to an admin.
func TestIncludeDeleted(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("deleted")
	f := apitest.NewFixture(t, srv.DB, tenant)
	db := apitest.DB(t).SQL(t)
	keep, gone := f.License("Kept", 0), f.License("Gone", 0)
	p := f.People("d", 3)
	g, dg := f.Group("Kept group", p[0], p[2]), f.Group("Gone group", p[0])
	live := f.Assign(keep, p[0])[0]
	dead := f.Assign(keep, p[1])[0]
	del := func(table string, id uuid.UUID) {
		sqlExec(t, db, "UPDATE "+table+" SET is_deleted = true, deleted_at = now(), deleted_by = 'x' WHERE tenant_id = $1 AND id = $2", tenant, id)
	}
	del("licenses", gone.ID)
	del("people", p[2].ID)
	del("groups", dg.ID)
	del("assignments", dead.ID)

	const q = `query($all: Boolean, $l: ID!, $g: ID!, $p: ID!) {
	  licenses(filter: { includeDeleted: $all }) { totalCount nodes { id isDeleted } }
	  people(filter: { includeDeleted: $all }) { totalCount nodes { id isDeleted } }
	  groups(filter: { includeDeleted: $all }) { totalCount nodes { id isDeleted } }
	  assignments(filter: { includeDeleted: $all }) { totalCount nodes { id isDeleted } }
	  license(id: $l) { assignments(filter: { includeDeleted: $all }) { totalCount nodes { id } } }
	  group(id: $g) { members(filter: { includeDeleted: $all }) { totalCount nodes { id } } }
	  person(id: $p) { groups(filter: { includeDeleted: $all }) { totalCount nodes { id } } }
	}`
	vars := func(all any) map[string]any {
		return map[string]any{"all": all, "l": gid.License.Format(keep.ID), "g": gid.Group.Format(g.ID), "p": gid.Person.Format(p[0].ID)}
	}
	lists := map[string][]any{
		"licenses": {"licenses"}, "people": {"people"}, "groups": {"groups"}, "assignments": {"assignments"},
		"License.assignments": {"license", "assignments"}, "Group.members": {"group", "members"},
		"Person.groups": {"person", "groups"},
	}
	// People: the fixture's admin, d-0, d-1, and the deleted d-2.
	visible := map[string][]string{
		"licenses":            {gid.License.Format(keep.ID)},
		"people":              {gid.Person.Format(f.Admin.ID), gid.Person.Format(p[0].ID), gid.Person.Format(p[1].ID)},
		"groups":              {gid.Group.Format(g.ID)},
		"assignments":         {gid.Assignment.Format(live.ID)},
		"License.assignments": {gid.Assignment.Format(live.ID)},
		"Group.members":       {gid.Person.Format(p[0].ID)},
		"Person.groups":       {gid.Group.Format(g.ID)},
	}
	deleted := map[string]string{
		"licenses": gid.License.Format(gone.ID), "people": gid.Person.Format(p[2].ID), "groups": gid.Group.Format(dg.ID),
		"assignments": gid.Assignment.Format(dead.ID), "License.assignments": gid.Assignment.Format(dead.ID),
		"Group.members": gid.Person.Format(p[2].ID), "Person.groups": gid.Group.Format(dg.ID),
	}
	check := func(t *testing.T, data map[string]any, withDeleted bool) {
		t.Helper()
		for name, path := range lists {
			want := slices.Clone(visible[name])
			if withDeleted {
				want = append(want, deleted[name])
			}
			slices.Sort(want)
			got := nodeIDs(t, data, path...)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s (includeDeleted %v): %v, want %v", name, withDeleted, got, want)
			}
			if n := jsonInt(t, data, append(path, "totalCount")...); n != len(want) {
				t.Errorf("%s (includeDeleted %v): totalCount %d, want %d", name, withDeleted, n, len(want))
			}
		}
		for _, name := range []string{"licenses", "people", "groups", "assignments"} {
			for _, n := range jsonList(t, data, name, "nodes") {
				if isDel := jsonAt(t, n, "isDeleted"); isDel != (jsonAt(t, n, "id") == deleted[name]) {
					t.Errorf("%s %v: isDeleted %v", name, jsonAt(t, n, "id"), isDel)
				}
			}
		}
	}

	reader := apitest.Token(t, tenant, auth.ScopeLicensesRead, auth.ScopeDirectoryRead)
	admin := apitest.Token(t, tenant, auth.ScopeAdmin)
	t.Run("hidden by default", func(t *testing.T) {
		check(t, srv.MustDo(t, reader, q, vars(nil)), false)
		check(t, srv.MustDo(t, reader, q, vars(false)), false)
		check(t, srv.MustDo(t, admin, q, vars(nil)), false)
	})
	t.Run("shown to an admin", func(t *testing.T) {
		check(t, srv.MustDo(t, admin, q, vars(true)), true)
	})
	t.Run("refused to others", func(t *testing.T) {
		for name, q := range map[string]string{
			"licenses":            `{ licenses(filter: { includeDeleted: true }) { totalCount } }`,
			"people":              `{ people(filter: { includeDeleted: true }) { totalCount } }`,
			"groups":              `{ groups(filter: { includeDeleted: true }) { totalCount } }`,
			"assignments":         `{ assignments(filter: { includeDeleted: true }) { totalCount } }`,
			"License.assignments": `query($l: ID!) { license(id: $l) { assignments(filter: { includeDeleted: true }) { nodes { id } } } }`,
			"Group.members":       `query($g: ID!) { group(id: $g) { members(filter: { includeDeleted: true }) { nodes { id } } } }`,
			"Person.groups":       `query($p: ID!) { person(id: $p) { groups(filter: { includeDeleted: true }) { nodes { id } } } }`,
		} {
			r := srv.Do(t, reader, q, map[string]any{"l": gid.License.Format(keep.ID), "g": gid.Group.Format(g.ID), "p": gid.Person.Format(p[0].ID)})
			if !slices.Contains(r.Codes(), "FORBIDDEN") {
				t.Errorf("%s with includeDeleted and no admin scope: got %s, want FORBIDDEN", name, r.Raw)
			}
			if strings.Contains(string(r.Raw), deleted[name]) {
				t.Errorf("%s: the refused request still shows the deleted record: %s", name, r.Raw)
			}
		}
	})
	t.Run("personByEmail skips deleted people", func(t *testing.T) {
		data := srv.MustDo(t, admin, `query($e: String!) { personByEmail(email: $e) { id } }`, map[string]any{"e": p[2].Email})
		if data["personByEmail"] != nil {
			t.Errorf("personByEmail found the deleted person: %v", data["personByEmail"])
		}
	})
}

// TestQueryErrors checks the errors a caller meets with missing, bad or
// insufficient credentials and malformed ids.
func TestQueryErrors(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("errors")
	f := apitest.NewFixture(t, srv.DB, tenant)
	l := f.License("Errors Suite", 0)
	f.Assign(l, f.People("e", 1)...)
	lid := gid.License.Format(l.ID)

	post := func(header, query string) *apitest.Response {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r := &apitest.Response{Status: resp.StatusCode}
		if err := json.NewDecoder(resp.Body).Decode(r); err != nil {
			t.Fatalf("response is not JSON: %v", err)
		}
		return r
	}

	t.Run("no token", func(t *testing.T) {
		for field, q := range map[string]string{
			"licenses": `{ licenses { totalCount } }`,
			"viewer":   `{ viewer { tenantId } }`,
			"node":     `{ node(id: "` + lid + `") { id } }`,
		} {
			r := srv.Do(t, "", q, nil)
			wantError(t, r, field, "UNAUTHENTICATED", "")
			if r.Data != nil && r.Data[field] != nil {
				t.Errorf("%s answered without a token: %v", field, r.Data)
			}
		}
	})

	t.Run("bad token", func(t *testing.T) {
		expired := apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "x", TTL: -time.Hour})
		forged, err := auth.Mint(auth.JWTConfig{Secret: []byte("not the server's secret at all, no")},
			auth.TokenRequest{Tenant: tenant, Subject: "x", Scopes: auth.AllScopes, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		for name, header := range map[string]string{
			"garbage":       "Bearer garbage",
			"expired":       "Bearer " + expired,
			"wrong secret":  "Bearer " + forged,
			"no token":      "Bearer ",
			"wrong scheme":  "Basic dXNlcjpwYXNz",
			"missing space": "Bearer" + forged,
		} {
			r := post(header, `{ licenses { totalCount } }`)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s: HTTP %d, want 401", name, r.Status)
			}
			if !slices.Contains(r.Codes(), "UNAUTHENTICATED") {
				t.Errorf("%s: codes %v, want UNAUTHENTICATED", name, r.Codes())
			}
			if r.Data != nil {
				t.Errorf("%s: data %v with bad credentials", name, r.Data)
			}
		}
	})

	t.Run("missing scope", func(t *testing.T) {
		licensesOnly := apitest.Token(t, tenant, auth.ScopeLicensesRead)
		directoryOnly := apitest.Token(t, tenant, auth.ScopeDirectoryRead)
		// The scope held works.
		data := srv.MustDo(t, licensesOnly, `{ licenses { totalCount } }`, nil)
		if jsonInt(t, data, "licenses", "totalCount") != 1 {
			t.Errorf("licenses:read token sees %v", data)
		}
		for _, c := range []struct {
			tok, field, query, scope string
		}{
			{licensesOnly, "people", `{ people { totalCount } }`, "directory:read"},
			{licensesOnly, "groups", `{ groups { totalCount } }`, "directory:read"},
			{licensesOnly, "personByEmail", `{ personByEmail(email: "x@example.com") { id } }`, "directory:read"},
			{directoryOnly, "licenses", `{ licenses { totalCount } }`, "licenses:read"},
			{directoryOnly, "assignments", `{ assignments { totalCount } }`, "licenses:read"},
			{directoryOnly, "node", `{ node(id: "` + lid + `") { id } }`, "licenses:read"},
			// Nested fields reaching data of another scope are refused too.
			{licensesOnly, "", `{ licenses { nodes { assignments { nodes { assignee { ... on Person { email } } } } } } }`, "directory:read"},
		} {
			r := srv.Do(t, c.tok, c.query, nil)
			wantError(t, r, c.field, "FORBIDDEN", c.scope)
			if c.field == "" && strings.Contains(string(r.Raw), "@") {
				t.Errorf("the refused nested field still shows an email: %s", r.Raw)
			}
		}
	})

	t.Run("bad ids", func(t *testing.T) {
		tok := apitest.Token(t, tenant)
		for field, q := range map[string]string{
			"node":       `{ node(id: "garbage") { id } }`,
			"license":    `{ license(id: "garbage") { id } }`,
			"person":     `{ person(id: "` + lid + `") { id } }`,
			"assignment": `{ assignment(id: "lic_") { id } }`,
			"group":      `{ group(id: "` + strings.Replace(lid, "lic_", "xyz_", 1) + `") { id } }`,
			"nodes":      `{ nodes(ids: ["` + lid + `", "garbage"]) { id } }`,
		} {
			r := srv.Do(t, tok, q, nil)
			wantError(t, r, field, "BAD_USER_INPUT", "")
		}
		// A well-formed id of nothing is simply null.
		data := srv.MustDo(t, tok, `query($id: ID!) { node(id: $id) { id } license(id: $id) { id } }`,
			map[string]any{"id": gid.License.Format(gid.New())})
		if data["node"] != nil || data["license"] != nil {
			t.Errorf("an id of nothing resolved: %v", data)
		}
	})
}

// A deleted grant holds no seat, and reads say so.
func TestDeletedGrantReadsRevoked(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("deleted-status"))
	lic := a.license("L", 3)
	grp := a.group("G", a.person("ada@example.com"))
	a.assign(lic, map[string]any{"groupId": grp})
	a.ok("deleteGroup", "group { id }", map[string]any{"id": grp})
	d := a.query(`{ assignments(filter: {includeDeleted: true}) { nodes { isDeleted status } } active: assignments(filter: {includeDeleted: true, status: [ACTIVE]}) { totalCount } }`, nil)
	for _, n := range d["assignments"].(map[string]any)["nodes"].([]any) {
		if n := n.(map[string]any); n["isDeleted"] != true || n["status"] != "REVOKED" {
			t.Fatalf("deleted grant reads %v, want REVOKED", n)
		}
	}
	if n := num(d["active"].(map[string]any)["totalCount"]); n != 0 {
		t.Fatalf("%d deleted grants counted as ACTIVE", n)
	}
}
