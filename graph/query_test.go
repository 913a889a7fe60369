package graph_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
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
		l           *models.License
		vendor, key string
		expiresIn   time.Duration // 0: no end
	}{
		{full, "Acme Corp", "ACME-1", 0},
		{roomy, "acme corp", "BETA", 0},
		{unlimited, "Other", "X_ACME", 0},
		{soon, "Other", "DELTA", 10 * 24 * time.Hour},
		{later, "Other", "EPS", 100 * 24 * time.Hour},
	} {
		var expires *time.Time
		if u.expiresIn > 0 {
			e := time.Now().Add(u.expiresIn).UTC()
			expires = &e
		}
		sqlExec(t, db, `UPDATE licenses SET vendor = $3, program_key = $4, expires_at = $5
			WHERE tenant_id = $1 AND id = $2`, tenant, u.l.ID, u.vendor, u.key, expires)
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

// TestDeferIfFalseAnswersWhole: @defer(if: false) defers nothing, so it is
// accepted (a deferring @defer is refused, internal/httpapi TestBadInput)
// and the fragment's fields come back in the answer.
func TestDeferIfFalseAnswersWhole(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("deferfalse")
	a := newAPI(t, srv, tenant)
	lic := a.license("Deferred", 0)
	out := a.query(`query($id: ID!, $d: Boolean!) { license(id: $id) { name ... @defer(if: $d) { vendor } ...F @defer(if: false) } }
		fragment F on License { seats { total } }`, map[string]any{"id": lic, "d": false})
	l := out["license"].(map[string]any)
	if l["vendor"] == nil || l["seats"] == nil {
		t.Errorf("license = %v, want vendor and seats answered", l)
	}
}
