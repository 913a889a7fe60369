package graph_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
)

// replicas are two server instances, each with its own handler and pool,
// on one database: what two replicas behind a gateway are.
func replicas(t *testing.T, tenant string) [2]*api {
	return [2]*api{newAPI(t, apitest.NewServer(t), tenant), newAPI(t, apitest.NewServer(t), tenant)}
}

// race runs n calls of do concurrently (spread over both replicas) and
// counts those that succeeded and those refused with SEAT_LIMIT_REACHED.
func race(t *testing.T, n int, do func(i int) (payload map[string]any)) (ok, limited int) {
	var okN, limN atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := do(i)
			errs := p["userErrors"].([]any)
			switch {
			case len(errs) == 0:
				okN.Add(1)
			case errs[0].(map[string]any)["code"] == "SEAT_LIMIT_REACHED":
				limN.Add(1)
			default:
				t.Errorf("call %d: unexpected userErrors %v", i, errs)
			}
		}()
	}
	wg.Wait()
	return int(okN.Load()), int(limN.Load())
}

// TestRaceAssign: 100 concurrent assignLicense calls for distinct people on
// a 10-seat license, across two replicas: exactly 10 succeed.
func TestRaceAssign(t *testing.T) {
	tenant := apitest.Tenant("race-assign")
	r := replicas(t, tenant)
	lic := r[0].license("Ten seats", 10)
	people := make([]string, 100)
	for i := range people {
		people[i] = r[0].person(fmt.Sprintf("p%d@example.com", i))
	}
	ok, limited := race(t, 100, func(i int) map[string]any {
		return r[i%2].mutate("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": people[i]})
	})
	db := apitest.DB(t).SQL(t)
	held := sqlInt(t, db, "SELECT count(*) FROM seat_holders WHERE tenant_id = $1", tenant)
	rows := sqlInt(t, db, "SELECT count(*) FROM assignments WHERE tenant_id = $1", tenant)
	t.Logf("assignLicense: 100 attempts, %d succeeded, %d SEAT_LIMIT_REACHED, %d seats held, %d rows", ok, limited, held, rows)
	if ok != 10 || limited != 90 || held != 10 || rows != 10 || num(r[1].seats(lic)["used"]) != 10 {
		t.Fatalf("want 10 successes, 90 refusals, 10 seats and 10 rows")
	}
}

// TestRaceAssignUnlimited: concurrent assignLicense calls on an unlimited
// license (which takes no exclusive license lock), each person asked for
// four times at once, interleaved with raising and setting a limit: every call
// answers without an error, each person holds one grant, and the counters
// equal a recount.
func TestRaceAssignUnlimited(t *testing.T) {
	tenant := apitest.Tenant("race-unlimited")
	r := replicas(t, tenant)
	lic := r[0].license("Unlimited", 0)
	people := make([]string, 30)
	for i := range people {
		people[i] = r[0].person(fmt.Sprintf("u%d@example.com", i))
	}
	created := atomic.Int64{}
	const calls = 4 // per person, at once
	ok, limited := race(t, calls*len(people), func(i int) map[string]any {
		p := r[i%2].mutate("assignLicense", "created assignment { id }", map[string]any{"licenseId": lic, "personId": people[i/calls]})
		if p["created"] == true {
			created.Add(1)
		}
		return p
	})
	db := apitest.DB(t).SQL(t)
	rows := sqlInt(t, db, "SELECT count(*) FROM assignments WHERE tenant_id = $1", tenant)
	if ok != calls*len(people) || limited != 0 || int(created.Load()) != len(people) || rows != len(people) {
		t.Errorf("%d calls: %d answered, %d refused, %d created, %d rows; want all answered, %d created and rows",
			calls*len(people), ok, limited, created.Load(), rows, len(people))
	}
	if used := num(r[1].seats(lic)["used"]); used != len(people) {
		t.Errorf("seats.used = %v, want %d", used, len(people))
	}
	// A limit set while grants go on: the writes queue behind it, and the
	// counters still agree with the rows.
	more := make([]string, 20)
	for i := range more {
		more[i] = r[0].person(fmt.Sprintf("v%d@example.com", i))
	}
	race(t, len(more)+1, func(i int) map[string]any {
		if i == len(more) {
			return r[0].mutate("updateLicense", "license { id }", map[string]any{"id": lic, "totalSeats": 60})
		}
		return r[i%2].mutate("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": more[i]})
	})
	if used := num(r[1].seats(lic)["used"]); used > 60 {
		t.Errorf("seats.used = %v over the limit of 60 set meanwhile", used)
	}
	checkInvariants(t, tenant)
}

// TestRaceAddMembers: 100 concurrent addGroupMembers calls, each adding one
// person to a group granted a 10-seat license: exactly 10 succeed.
func TestRaceAddMembers(t *testing.T) {
	tenant := apitest.Tenant("race-members")
	r := replicas(t, tenant)
	lic := r[0].license("Ten seats", 10)
	grp := r[0].group("Everyone")
	r[0].assign(lic, map[string]any{"groupId": grp})
	people := make([]string, 100)
	for i := range people {
		people[i] = r[0].person(fmt.Sprintf("m%d@example.com", i))
	}
	ok, limited := race(t, 100, func(i int) map[string]any {
		return r[i%2].mutate("addGroupMembers", "changed", map[string]any{"groupId": grp, "personIds": []string{people[i]}})
	})
	db := apitest.DB(t).SQL(t)
	held := sqlInt(t, db, "SELECT count(*) FROM seat_holders WHERE tenant_id = $1", tenant)
	members := sqlInt(t, db, "SELECT count(*) FROM group_members WHERE tenant_id = $1", tenant)
	t.Logf("addGroupMembers: 100 attempts, %d succeeded, %d SEAT_LIMIT_REACHED, %d seats held, %d members", ok, limited, held, members)
	if ok != 10 || limited != 90 || held != 10 || members != 10 {
		t.Fatalf("want 10 successes, 90 refusals, 10 seats, 10 members")
	}
}

// TestRaceMixedWaitlist: assigns with waitlist, revokes and membership
// changes race on a 5-seat license; afterwards seats are never
// oversubscribed and no one waits while a seat is free.
func TestRaceMixedWaitlist(t *testing.T) {
	tenant := apitest.Tenant("race-mixed")
	r := replicas(t, tenant)
	lic := r[0].license("Five seats", 5)
	grp := r[0].group("Team")
	r[0].assign(lic, map[string]any{"groupId": grp})
	people := make([]string, 40)
	for i := range people {
		people[i] = r[0].person(fmt.Sprintf("x%d@example.com", i))
	}
	var wg sync.WaitGroup
	var ops atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 99))
			a := r[w%2]
			for range 25 {
				p := people[rnd.IntN(len(people))]
				switch rnd.IntN(4) {
				case 0, 1:
					a.mutate("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": p, "waitlist": true})
				case 2:
					a.mutate("addGroupMembers", "changed", map[string]any{"groupId": grp, "personIds": []string{p}, "waitlist": true})
				case 3:
					a.mutate("removeGroupMembers", "changed", map[string]any{"groupId": grp, "personIds": []string{p}})
					revokeOneOf(a, lic, p)
				}
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	checkInvariants(t, tenant)
	t.Logf("mixed: %d operations by 8 workers on 2 replicas", ops.Load())
}

// revokeOneOf revokes p's direct grant of lic, if there is one.
func revokeOneOf(a *api, lic, p string) {
	d := a.query(`query($l: [ID!], $p: [ID!]) { assignments(filter: {licenseIds: $l, assigneeIds: $p, direct: true, status: [ACTIVE, WAITLISTED]}) { nodes { id } } }`,
		map[string]any{"l": []string{lic}, "p": []string{p}})
	for _, n := range d["assignments"].(map[string]any)["nodes"].([]any) {
		a.mutate("revokeAssignment", "assignment { id }", map[string]any{"id": n.(map[string]any)["id"]})
	}
}

// checkInvariants recounts every license of tenant from its assignment rows:
// the counters agree, never exceed totalSeats, every person counts once, no
// one waits while a seat is free, and promotions followed the queue order.
func checkInvariants(t *testing.T, tenant string) {
	t.Helper()
	db := apitest.DB(t).SQL(t)
	rows, err := db.Query(`
		WITH live AS (
			SELECT a.* FROM assignments a
			 WHERE a.tenant_id = $1 AND NOT a.is_deleted AND a.revoked_at IS NULL AND a.expired_at IS NULL),
		holders AS (
			SELECT license_id, count(DISTINCT coalesce(person_id::text, 'email:' || lower(email))) AS n
			  FROM live WHERE waitlisted_at IS NULL AND group_id IS NULL GROUP BY license_id),
		waiting AS (SELECT license_id, count(*) AS n FROM live WHERE waitlisted_at IS NOT NULL GROUP BY license_id)
		SELECT l.name, l.total_seats, l.seats_used, l.seats_waitlisted,
		       coalesce(h.n, 0), coalesce(w.n, 0)
		  FROM licenses l LEFT JOIN holders h ON h.license_id = l.id LEFT JOIN waiting w ON w.license_id = l.id
		 WHERE l.tenant_id = $1`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var total *int
		var used, waitlisted, recount, rewait int
		if err := rows.Scan(&name, &total, &used, &waitlisted, &recount, &rewait); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: total %v, used %d (recount %d), waitlisted %d (recount %d)", name, deref(total), used, recount, waitlisted, rewait)
		if used != recount || waitlisted != rewait {
			t.Errorf("%s: counters %d/%d disagree with the rows %d/%d", name, used, waitlisted, recount, rewait)
		}
		if total != nil && used > *total {
			t.Errorf("%s: %d seats used of %d", name, used, *total)
		}
		// A waitlisted person who could take a free seat should have been promoted.
		if total != nil && waitlisted > 0 && used < *total {
			t.Errorf("%s: %d waiting while %d of %d seats are used", name, waitlisted, used, *total)
		}
	}
	// Promotions follow the queue: by promotion order, the times people
	// joined the waitlist never go backwards.
	out := sqlInt(t, db, `
		WITH p AS (
			SELECT a.license_id AS license, e.occurred_at AS promoted_at, e.id AS promoted_id,
			       w.occurred_at AS queued_at, w.id AS queued_id
			  FROM assignment_events e
			  JOIN assignments a ON a.tenant_id = e.tenant_id AND a.id = e.assignment_id
			  JOIN assignment_events w ON w.tenant_id = e.tenant_id AND w.assignment_id = e.assignment_id AND w.type = 'WAITLISTED'
			 WHERE e.tenant_id = $1 AND e.type = 'PROMOTED')
		SELECT count(*) FROM p p1 JOIN p p2 ON p1.license = p2.license
		 WHERE (p1.promoted_at, p1.promoted_id) < (p2.promoted_at, p2.promoted_id)
		   AND (p1.queued_at, p1.queued_id) > (p2.queued_at, p2.queued_id)`, tenant)
	if out != 0 {
		t.Errorf("%d pairs of promotions out of queue order", out)
	}
	// Inherited grants exist only for current members of a granted group.
	if n := sqlInt(t, db, `SELECT count(*) FROM assignments a WHERE a.tenant_id = $1 AND a.via_group_id IS NOT NULL
		AND NOT a.is_deleted AND a.revoked_at IS NULL AND NOT EXISTS (SELECT FROM group_members gm
		WHERE gm.tenant_id = a.tenant_id AND gm.group_id = a.via_group_id AND gm.person_id = a.person_id)`, tenant); n != 0 {
		t.Errorf("%d live inherited grants of people no longer in the group", n)
	}
}

func deref(p *int) any {
	if p == nil {
		return "unlimited"
	}
	return *p
}

// TestRandomisedInvariant: workers apply random operations for a few
// seconds; afterwards SQL recounts agree with license.seats and no license
// is oversubscribed.
func TestRandomisedInvariant(t *testing.T) {
	if testing.Short() {
		t.Skip("randomised test skipped in -short mode")
	}
	tenant := apitest.Tenant("random")
	r := replicas(t, tenant)
	lics := []string{r[0].license("Small", 3), r[0].license("Medium", 8), r[0].license("Unlimited", 0)}
	people := make([]string, 30)
	for i := range people {
		people[i] = r[0].person(fmt.Sprintf("r%d@example.com", i))
	}
	groups := []string{r[0].group("G1", people[:6]...), r[0].group("G2", people[4:12]...)}
	var ops atomic.Int64
	deadline := time.Now().Add(4 * time.Second)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			a := r[w%2]
			for time.Now().Before(deadline) {
				lic, p, g := lics[rnd.IntN(len(lics))], people[rnd.IntN(len(people))], groups[rnd.IntN(len(groups))]
				wait := rnd.IntN(2) == 0
				switch rnd.IntN(9) {
				case 0, 1:
					a.mutate("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": p, "waitlist": wait})
				case 2:
					a.mutate("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "groupId": g, "waitlist": wait})
				case 3:
					a.mutate("addGroupMembers", "changed", map[string]any{"groupId": g, "personIds": []string{p}, "waitlist": wait})
				case 4:
					a.mutate("removeGroupMembers", "changed", map[string]any{"groupId": g, "personIds": []string{p}})
				case 5:
					revokeOneOf(a, lic, p)
				case 6:
					a.mutate("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": p, "active": rnd.IntN(2) == 0})
				case 7:
					seats := 2 + rnd.IntN(8)
					a.mutate("updateLicense", "license { id }", map[string]any{"id": lic, "totalSeats": seats})
				case 8:
					a.mutate("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "email": fmt.Sprintf("inv%d@example.com", rnd.IntN(5)), "waitlist": wait})
				}
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Logf("randomised: %d operations by 8 workers on 2 replicas in 4s", ops.Load())
	checkInvariants(t, tenant)
	// What the API shows is what the rows say.
	db := apitest.DB(t).SQL(t)
	// The outbox numbered every event without a gap.
	events, last := sqlInt(t, db, `SELECT count(*) FROM events WHERE tenant_id = $1`, tenant),
		sqlInt(t, db, `SELECT coalesce(max(seq), 0) FROM events WHERE tenant_id = $1`, tenant)
	if events != last {
		t.Errorf("outbox: %d events numbered up to %d", events, last)
	}
	t.Logf("outbox: %d events in 4s (%.0f events/s)", events, float64(events)/4)
	for _, lic := range lics {
		d := r[1].query(`query($id: ID!) { license(id: $id) { name seats { used waitlisted total } } }`, map[string]any{"id": lic})
		l := d["license"].(map[string]any)
		s := l["seats"].(map[string]any)
		recount := sqlInt(t, db, `SELECT count(DISTINCT coalesce(a.person_id::text, lower(a.email))) FROM assignments a
			JOIN licenses l ON l.tenant_id = a.tenant_id AND l.id = a.license_id
			WHERE a.tenant_id = $1 AND l.name = $2 AND NOT a.is_deleted AND a.revoked_at IS NULL
			  AND a.expired_at IS NULL AND a.waitlisted_at IS NULL AND a.group_id IS NULL`, tenant, l["name"])
		if num(s["used"]) != recount {
			t.Errorf("%s: license.seats.used %v, rows say %d", l["name"], s["used"], recount)
		}
		if s["total"] != nil && num(s["used"]) > num(s["total"]) {
			t.Errorf("%s: license.seats %v is oversubscribed", l["name"], s)
		}
	}
}

// Inviting an address while a person is created with it, concurrently:
// whichever wins, the invitation ends bound to the person, never as a
// second seat.
func TestInviteRacesCreatePerson(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("invite-race"))
	lic := a.license("L", 50)
	for i := range 20 {
		email := "race" + string(rune('a'+i)) + "@example.com"
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			a.mutate("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "email": email})
		}()
		go func() { defer wg.Done(); a.mutate("createPerson", "person { id }", map[string]any{"email": email}) }()
		wg.Wait()
	}
	s := a.seats(lic)
	if num(s["used"]) != 20 || num(s["pending"]) != 0 {
		t.Fatalf("after 20 invite/create races: seats %v, want 20 used and none pending", s)
	}
}

// stall runs statements as superuser in a transaction kept open (holding
// their locks) until release is called, to make a race happen in a chosen
// order. Each statement is SQL followed by its arguments.
func stall(t *testing.T, statements ...[]any) (release func()) {
	t.Helper()
	tx, err := apitest.DB(t).SQL(t).Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range statements {
		if _, err := tx.Exec(st[0].(string), st[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	return func() { _ = tx.Commit() }
}

func rawID(t *testing.T, k gid.Kind, s string) string {
	u, err := k.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// Revoking or updating a grant deleted while the caller waited for its
// license is NOT_FOUND, not a crash.
func TestChangeOfGrantDeletedMeanwhile(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("deleted-meanwhile")
	a := newAPI(t, srv, tenant)
	for _, op := range []string{"revokeAssignment", "updateAssignment"} {
		lic := a.license("L-"+op, 5)
		asg := a.assign(lic, map[string]any{"personId": a.person(op + "@x.com")})["assignment"].(map[string]any)["id"].(string)
		release := stall(t, []any{`SELECT 1 FROM licenses WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenant, rawID(t, gid.License, lic)},
			[]any{`UPDATE assignments SET is_deleted = true, deleted_at = now(), deleted_by = 'other'
				WHERE tenant_id = $1 AND id = $2`, tenant, rawID(t, gid.Assignment, asg)})
		done := make(chan map[string]any)
		go func() {
			in := map[string]any{"id": asg, "metadata": map[string]any{"k": 1}}
			if op == "revokeAssignment" {
				in = map[string]any{"id": asg}
			}
			done <- a.mutate(op, "assignment { id }", in)
		}()
		time.Sleep(300 * time.Millisecond)
		release()
		p := <-done
		if errs := p["userErrors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["code"] != "NOT_FOUND" {
			t.Fatalf("%s of a grant deleted meanwhile = %v, want NOT_FOUND", op, p)
		}
	}
}

// A group grant made while a member is being deleted gives the deleted
// person no seat.
func TestGroupGrantWhileMemberDeleted(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("grant-vs-delete")
	a := newAPI(t, srv, tenant)
	lic := a.license("L", 10)
	p := a.person("leaving@x.com")
	other, grp := a.group("Other", p), a.group("G", p)
	// deletePerson stops at this membership row, after it locked the person.
	release := stall(t, []any{`SELECT 1 FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND person_id = $3 FOR UPDATE`,
		tenant, rawID(t, gid.Group, other), rawID(t, gid.Person, p)})
	deleted := make(chan map[string]any)
	go func() { deleted <- a.mutate("deletePerson", "person { id }", map[string]any{"id": p}) }()
	time.Sleep(300 * time.Millisecond)
	granted := make(chan map[string]any)
	go func() {
		granted <- a.mutate("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "groupId": grp})
	}()
	time.Sleep(300 * time.Millisecond)
	release()
	<-deleted
	<-granted
	n := sqlInt(t, apitest.DB(t).SQL(t), `SELECT count(*) FROM assignments a JOIN people p ON p.tenant_id = a.tenant_id AND p.id = a.person_id
		WHERE a.tenant_id = $1 AND p.is_deleted AND NOT a.is_deleted AND a.revoked_at IS NULL AND a.expired_at IS NULL`, tenant)
	if n != 0 || num(a.seats(lic)["used"]) != 0 {
		t.Fatalf("%d live grants of a deleted person, seats %v", n, a.seats(lic))
	}
}
