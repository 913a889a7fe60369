package graph_test

import (
	"database/sql"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
)

func init() { inputType["recordUsages"] = "RecordUsagesInput" }

const usagesFields = "results { index assignmentIds updated error { field message code } } updated failed"

// usages sends recordUsages with items and returns its payload (no
// userErrors allowed).
func (a *api) usages(items ...map[string]any) map[string]any {
	a.t.Helper()
	if items == nil {
		items = []map[string]any{}
	}
	return a.ok("recordUsages", usagesFields, map[string]any{"items": items})
}

// result is item i's result in a recordUsages payload.
func result(t *testing.T, p map[string]any, i int) map[string]any {
	t.Helper()
	r := jsonAt(t, p, "results", i).(map[string]any)
	if num(r["index"]) != i {
		t.Fatalf("results[%d].index = %v", i, r["index"])
	}
	return r
}

// lastUsed is a grant's lastUsedAt as the database holds it (zero: never).
func lastUsed(t *testing.T, db *sql.DB, tenant, assignment string) time.Time {
	t.Helper()
	u, err := gid.Assignment.Parse(assignment)
	if err != nil {
		t.Fatal(err)
	}
	var at sql.NullTime
	if err := db.QueryRow("SELECT last_used_at FROM assignments WHERE tenant_id = $1 AND id = $2", tenant, u).Scan(&at); err != nil {
		t.Fatal(err)
	}
	return at.Time
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// TestRecordUsages: a batch of every kind of item, good and bad: each
// good item is applied, each bad one answered with its own error, in one
// call that fails for none of them; the database holds exactly what the
// results say.
func TestRecordUsages(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("usages")
	a := newAPI(t, srv, tenant)
	db := apitest.DB(t).SQL(t)
	lic := a.license("Copilot", 0)
	other := a.license("Figma", 0)
	ada, bob, cy, dee := a.person("ada@usages.example"), a.person("bob@usages.example"), a.person("cy@usages.example"), a.person("dee@usages.example")
	adaGrant := idAt(t, a.assign(lic, map[string]any{"personId": ada}), "assignment", "id")
	bobGrant := idAt(t, a.assign(lic, map[string]any{"personId": bob}), "assignment", "id")
	eveInvite := idAt(t, a.assign(lic, map[string]any{"email": "eve@usages.example"}), "assignment", "id")
	// Dee holds the license twice: directly and through a group.
	deeGrant := idAt(t, a.assign(lic, map[string]any{"personId": dee}), "assignment", "id")
	a.assign(lic, map[string]any{"groupId": a.group("Design", dee)})
	deeInherited := sqlInt(t, db, `SELECT count(*) FROM assignments WHERE tenant_id = $1 AND via_group_id IS NOT NULL`, tenant)
	if deeInherited != 1 {
		t.Fatalf("%d inherited grants, want 1", deeInherited)
	}
	cyRevoked := idAt(t, a.assign(other, map[string]any{"personId": cy}), "assignment", "id")
	a.ok("revokeAssignment", "assignment { id }", map[string]any{"id": cyRevoked})

	events := sqlInt(t, db, `SELECT count(*) FROM assignment_events WHERE tenant_id = $1`, tenant)
	t1 := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	items := []map[string]any{
		{"assignmentId": adaGrant, "usedAt": rfc(t1)},                        // 0
		{"licenseId": lic, "personId": bob, "usedAt": rfc(t1)},               // 1
		{"licenseId": lic, "email": "EVE@usages.example"},                    // 2: the invitation, now
		{"assignmentId": "asg_nope"},                                         // 3
		{"assignmentId": unknownID(gid.Assignment)},                          // 4
		{"licenseId": lic, "personId": cy},                                   // 5: no seat
		{"assignmentId": bobGrant, "usedAt": rfc(time.Now().Add(time.Hour))}, // 6
		{"assignmentId": cyRevoked},                                          // 7: not live
		{},                                                                   // 8
		{"licenseId": lic, "email": "Dee@Usages.example", "usedAt": rfc(t1)}, // 9: direct and inherited
		{"licenseId": lic, "personId": ada, "email": "ada@usages.example"},   // 10: both
		{"licenseId": lic, "email": "not an address"},                        // 11
		{"licenseId": lic, "email": "nobody@usages.example"},                 // 12
	}
	p := a.usages(items...)
	want := []struct {
		ids     int
		updated int
		code    string
		field   string
	}{
		{1, 1, "", ""}, {1, 1, "", ""}, {1, 1, "", ""},
		{0, 0, "INVALID", "input.items[3].assignmentId"},
		{0, 0, "NOT_FOUND", "input.items[4]"},
		{0, 0, "NOT_FOUND", "input.items[5]"},
		{0, 0, "INVALID", "input.items[6].usedAt"},
		{0, 0, "NOT_FOUND", "input.items[7]"},
		{0, 0, "INVALID", "input.items[8].assignmentId"},
		{2, 2, "", ""},
		{0, 0, "INVALID", "input.items[10].assignmentId"},
		{0, 0, "INVALID", "input.items[11].email"},
		{0, 0, "NOT_FOUND", "input.items[12]"},
	}
	if n := len(jsonAt(t, p, "results").([]any)); n != len(items) {
		t.Fatalf("%d results for %d items", n, len(items))
	}
	failed, updated := 0, 0
	for i, w := range want {
		r := result(t, p, i)
		if got := len(r["assignmentIds"].([]any)); got != w.ids || num(r["updated"]) != w.updated {
			t.Errorf("item %d: %d grants, updated %v; want %d, %d (%v)", i, got, r["updated"], w.ids, w.updated, r)
		}
		e, _ := r["error"].(map[string]any)
		switch {
		case w.code == "" && e != nil:
			t.Errorf("item %d: unexpected error %v", i, e)
		case w.code != "" && (e == nil || e["code"] != w.code || e["field"] != w.field || e["message"] == ""):
			t.Errorf("item %d: error %v, want %s on %s", i, e, w.code, w.field)
		case w.code != "":
			failed++
		}
		updated += w.updated
	}
	if num(p["failed"]) != failed || num(p["updated"]) != updated {
		t.Errorf("failed %v, updated %v; want %d, %d", p["failed"], p["updated"], failed, updated)
	}
	if got := jsonAt(t, p, "results", 0, "assignmentIds", 0); got != adaGrant {
		t.Errorf("item 0 names %v, want %s", got, adaGrant)
	}
	if got := jsonAt(t, p, "results", 2, "assignmentIds", 0); got != eveInvite {
		t.Errorf("item 2 (the invited address) names %v, want the invitation %s", got, eveInvite)
	}
	for _, g := range []string{adaGrant, bobGrant, deeGrant} {
		if got := lastUsed(t, db, tenant, g); !got.Equal(t1) {
			t.Errorf("%s: lastUsedAt %v, want %v", g, got, t1)
		}
	}
	if got := lastUsed(t, db, tenant, eveInvite); time.Since(got) > 10*time.Minute || got.Before(t1) {
		t.Errorf("the invitation used now: lastUsedAt %v", got)
	}
	if n := sqlInt(t, db, `SELECT count(*) FROM assignments WHERE tenant_id = $1 AND last_used_at IS NOT NULL`, tenant); n != 5 {
		t.Errorf("%d grants have a lastUsedAt, want 5 (ada, bob, eve, dee twice)", n)
	}
	if n := sqlInt(t, db, `SELECT count(*) FROM assignment_events WHERE tenant_id = $1`, tenant); n != events {
		t.Errorf("recordUsages wrote %d history rows", n-events)
	}

	// Idempotent: the same batch again changes nothing and says so.
	before := snapshot(t, db, tenant)
	good := []map[string]any{items[0], items[1], items[9]}
	p = a.usages(good...)
	if num(p["updated"]) != 0 || num(p["failed"]) != 0 {
		t.Errorf("the same batch again: updated %v, failed %v; want 0, 0", p["updated"], p["failed"])
	}
	if snapshot(t, db, tenant) != before {
		t.Error("the same batch again changed the database")
	}
	// Monotonic: older uses do not move lastUsedAt back.
	older := []map[string]any{
		{"assignmentId": adaGrant, "usedAt": rfc(t1.Add(-time.Minute))},
		{"licenseId": lic, "email": "dee@usages.example", "usedAt": rfc(t1.Add(-time.Hour))},
	}
	if p = a.usages(older...); num(p["updated"]) != 0 || num(p["failed"]) != 0 {
		t.Errorf("older uses: updated %v, failed %v; want 0, 0", p["updated"], p["failed"])
	}
	if snapshot(t, db, tenant) != before {
		t.Error("older uses changed the database")
	}

	// Duplicates collapse to the latest time: only its item says updated.
	t2, t3 := t1.Add(time.Minute), t1.Add(2*time.Minute)
	p = a.usages(
		map[string]any{"assignmentId": adaGrant, "usedAt": rfc(t2)},
		map[string]any{"licenseId": lic, "personId": ada, "usedAt": rfc(t3)},
		map[string]any{"assignmentId": adaGrant, "usedAt": rfc(t2)},
	)
	if got := lastUsed(t, db, tenant, adaGrant); !got.Equal(t3) {
		t.Errorf("duplicates: lastUsedAt %v, want the latest %v", got, t3)
	}
	for i, w := range []int{0, 1, 0} {
		if r := result(t, p, i); num(r["updated"]) != w || jsonAt(t, r, "assignmentIds", 0) != adaGrant {
			t.Errorf("duplicate item %d: %v, want updated %d of %s", i, r, w, adaGrant)
		}
	}
	if num(p["updated"]) != 1 {
		t.Errorf("three items naming one grant: updated %v, want 1", p["updated"])
	}

	// recordUsage takes an email too (one implementation).
	if p := a.ok("recordUsage", "updated", map[string]any{"licenseId": lic, "email": "bob@usages.example"}); num(p["updated"]) != 1 {
		t.Errorf("recordUsage by email: updated %v, want 1", p["updated"])
	}
}

// TestRecordUsagesLimits: more than 1,000 items is refused as a whole,
// with nothing written and no statement sent; an empty batch sends none
// either; and a batch costs the same statements whatever its size.
func TestRecordUsagesLimits(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("usagelimits")
	a := newAPI(t, srv, tenant)
	db := apitest.DB(t).SQL(t)
	lic := a.license("Copilot", 0)
	var grants, people []string
	for i := range 4 {
		people = append(people, a.person(fmt.Sprintf("p%d@limits.example", i)))
		grants = append(grants, idAt(t, a.assign(lic, map[string]any{"personId": people[i]}), "assignment", "id"))
	}
	// batch mixes every way of naming a grant, and unknown ids.
	batch := func(n int, at time.Time) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			k := i % 4
			switch i % 5 {
			case 0:
				out[i] = map[string]any{"assignmentId": grants[k]}
			case 1:
				out[i] = map[string]any{"licenseId": lic, "personId": people[k]}
			case 2:
				out[i] = map[string]any{"licenseId": lic, "email": fmt.Sprintf("P%d@limits.example", k)}
			case 3:
				out[i] = map[string]any{"assignmentId": unknownID(gid.Assignment)}
			default:
				out[i] = map[string]any{"licenseId": lic, "personId": unknownID(gid.Person)}
			}
			out[i]["usedAt"] = rfc(at.Add(time.Duration(i) * time.Millisecond))
		}
		return out
	}
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)

	before := snapshot(t, db, tenant)
	n := srv.DB.Statements()
	e := a.fails("recordUsages", "INVALID", map[string]any{"items": batch(1001, base)})
	if e["field"] != "input.items" {
		t.Errorf("1,001 items: error on %v, want input.items", e["field"])
	}
	p := a.mutate("recordUsages", usagesFields, map[string]any{"items": batch(1001, base)})
	if len(p["results"].([]any)) != 0 {
		t.Errorf("a refused call answered %d results", len(p["results"].([]any)))
	}
	if d := srv.DB.Statements() - n; d != 0 {
		t.Errorf("refused calls ran %d statements", d)
	}
	if snapshot(t, db, tenant) != before {
		t.Error("a refused call changed the database")
	}
	n = srv.DB.Statements()
	if p := a.usages(); len(p["results"].([]any)) != 0 || srv.DB.Statements() != n {
		t.Errorf("an empty batch: %v, %d statements", p, srv.DB.Statements()-n)
	}

	// It needs usage:write, as recordUsage does; licenses:write is not it.
	n = srv.DB.Statements()
	writer := apitest.Token(t, tenant, auth.ScopeLicensesRead, auth.ScopeLicensesWrite, auth.ScopeDirectoryRead)
	r := srv.Do(t, writer, `mutation($input: RecordUsagesInput!) { recordUsages(input: $input) { updated } }`,
		map[string]any{"input": map[string]any{"items": batch(3, base)}})
	if codes := r.Codes(); len(codes) != 1 || codes[0] != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "usage:write") {
		t.Errorf("recordUsages without usage:write: %s", r.Raw)
	}
	if d := srv.DB.Statements() - n; d != 0 || snapshot(t, db, tenant) != before {
		t.Errorf("a forbidden call ran %d statements or changed the database", d)
	}
	// A caller with usage:write alone may.
	usageOnly := &api{t: t, srv: srv, tok: apitest.Token(t, tenant, auth.ScopeUsageWrite)}
	if p := usageOnly.usages(batch(1, base)...); num(p["updated"]) != 1 {
		t.Errorf("with usage:write: updated %v, want 1", p["updated"])
	}

	// The statements of one call do not grow with its size.
	var counts []int64
	for k, size := range []int{1, 10, 1000} {
		n := srv.DB.Statements()
		p := a.usages(batch(size, base.Add(time.Duration(k+1)*time.Minute))...)
		counts = append(counts, srv.DB.Statements()-n)
		if size == 1000 {
			if num(p["failed"]) != 400 || num(p["updated"]) != 4 {
				t.Errorf("1,000 items: failed %v, updated %v; want 400, 4", p["failed"], p["updated"])
			}
		}
	}
	for i, c := range counts {
		if c < 1 || c > 3 || c != counts[0] {
			t.Errorf("statements per call of 1, 10, 1000 items: %v; want one (on Citus with BEGIN and COMMIT), the same for every size (%d)", counts, i)
			break
		}
	}
	// Each grant holds its latest use of the 1,000.
	for k, g := range grants {
		last := -1
		for i := range 1000 {
			if i%4 == k && i%5 < 3 {
				last = i
			}
		}
		want := base.Add(3*time.Minute + time.Duration(last)*time.Millisecond)
		if got := lastUsed(t, db, tenant, g); !got.Equal(want) {
			t.Errorf("grant %d: lastUsedAt %v, want %v", k, got, want)
		}
	}
}

// TestRecordUsagesWalls: an application's items reach only its own grants
// (by id, by person, by email), another tenant's items reach none; what
// they name outside is NOT_FOUND exactly as an unknown id, and untouched.
func TestRecordUsagesWalls(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant, otherTenant := apitest.Tenant("usagewall"), apitest.Tenant("usagewall-b")
	db := apitest.DB(t).SQL(t)
	admin := newAPI(t, srv, tenant)
	billing := &api{t: t, srv: srv, tok: apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "billing-bot", App: "billing"})}
	crm := &api{t: t, srv: srv, tok: apitest.TokenFor(t, auth.TokenRequest{Tenant: tenant, Subject: "crm-bot", App: "crm"})}
	outsider := newAPI(t, srv, otherTenant)

	ada := admin.person("ada@wall.example")
	lic := admin.license("Tenant Suite", 0)
	tenantGrant := idAt(t, admin.assign(lic, map[string]any{"personId": ada}), "assignment", "id")
	bill := billing.person("bill@wall.example")
	blic := billing.license("Billing Suite", 0)
	billGrant := idAt(t, billing.assign(blic, map[string]any{"personId": bill}), "assignment", "id")
	// A tenant-wide grant of the app's license to the tenant's person.
	adaOnBilling := idAt(t, admin.assign(blic, map[string]any{"personId": ada}), "assignment", "id")

	foreign := []map[string]any{
		{"assignmentId": tenantGrant},
		{"licenseId": lic, "personId": ada},
		{"licenseId": lic, "email": "ada@wall.example"},
		{"assignmentId": adaOnBilling},
		{"licenseId": blic, "email": "ada@wall.example"},
		{"assignmentId": billGrant},
		{"licenseId": blic, "personId": bill},
		{"licenseId": blic, "email": "bill@wall.example"},
	}
	check := func(who string, a *api, items []map[string]any, own map[int]bool) {
		t.Helper()
		before := snapshot(t, db, tenant)
		p := a.usages(items...)
		for i := range items {
			r := result(t, p, i)
			e, _ := r["error"].(map[string]any)
			if own[i] {
				if e != nil {
					t.Errorf("%s, item %d (its own grant): %v", who, i, e)
				}
				continue
			}
			if e == nil || e["code"] != "NOT_FOUND" || len(r["assignmentIds"].([]any)) != 0 {
				t.Errorf("%s, item %d (not its grant): %v, want NOT_FOUND", who, i, r)
			}
		}
		if len(own) == 0 && snapshot(t, db, tenant) != before {
			t.Errorf("%s changed grants it cannot see", who)
		}
	}
	check("another tenant", outsider, foreign, nil)
	check("another app", crm, foreign, nil)
	check("the billing app", billing, foreign, map[int]bool{5: true, 6: true, 7: true})
	// One item a call (one grant by id is a path of its own).
	for i, item := range foreign {
		check("another tenant, alone", outsider, foreign[i:i+1], nil)
		check("another app, alone", crm, foreign[i:i+1], nil)
		check("the billing app, alone", billing, []map[string]any{item}, map[int]bool{0: i >= 5})
	}
	for _, g := range []string{tenantGrant, adaOnBilling} {
		if got := lastUsed(t, db, tenant, g); !got.IsZero() {
			t.Errorf("%s, not the app's: lastUsedAt %v", g, got)
		}
	}
	if got := lastUsed(t, db, tenant, billGrant); got.IsZero() {
		t.Error("the app's own grant was not used")
	}
}

// TestRecordUsagesOutOfRange: a usedAt the database cannot hold (before
// year 1 in UTC) is its item's error, not the whole call's.
func TestRecordUsagesOutOfRange(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("usagerange")
	a := newAPI(t, srv, tenant)
	db := apitest.DB(t).SQL(t)
	lic := a.license("Copilot", 0)
	grant := idAt(t, a.assign(lic, map[string]any{"personId": a.person("ada@range.example")}), "assignment", "id")

	for _, at := range []string{"0000-06-01T00:00:00Z", "0001-01-01T00:00:00+01:00"} {
		p := a.usages(map[string]any{"assignmentId": grant, "usedAt": at}, map[string]any{"assignmentId": grant})
		e, _ := result(t, p, 0)["error"].(map[string]any)
		if e == nil || e["code"] != "INVALID" || e["field"] != "input.items[0].usedAt" {
			t.Errorf("usedAt %s: item 0 error %v, want INVALID on input.items[0].usedAt", at, e)
		}
		if r := result(t, p, 1); r["error"] != nil || len(r["assignmentIds"].([]any)) != 1 {
			t.Errorf("usedAt %s: the good item 1 was not applied: %v", at, r)
		}
		// recordUsage (a batch of one) says the same, as a userError.
		if e := a.fails("recordUsage", "INVALID", map[string]any{"assignmentId": grant, "usedAt": at}); e["field"] != "input.usedAt" {
			t.Errorf("recordUsage, usedAt %s: error on %v, want input.usedAt", at, e["field"])
		}
	}
	if lastUsed(t, db, tenant, grant).IsZero() {
		t.Error("the good items did not record a use")
	}
}

// TestRecordUsagesSameTime: items naming one grant at the same, latest
// time count one move (payload.updated is grants moved), not one each.
func TestRecordUsagesSameTime(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("usagesame")
	a := newAPI(t, srv, tenant)
	lic := a.license("Copilot", 0)
	ada := a.person("ada@same.example")
	grant := idAt(t, a.assign(lic, map[string]any{"personId": ada}), "assignment", "id")

	at := rfc(time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond))
	p := a.usages(map[string]any{"assignmentId": grant, "usedAt": at},
		map[string]any{"licenseId": lic, "personId": ada, "usedAt": at},
		map[string]any{"licenseId": lic, "email": "ADA@same.example", "usedAt": at})
	total := 0
	for i := range 3 {
		total += num(result(t, p, i)["updated"])
	}
	if num(p["updated"]) != 1 || total != 1 {
		t.Errorf("three items, one grant, one time: updated %v, items' sum %d; want 1, 1 (one grant moved once)", p["updated"], total)
	}
}

// TestRecordUsagesConcurrent: batches naming the same grants in different
// orders, sent at once, each commit in one statement: none deadlocks
// with another (a deadlock is retried, so it shows as extra statements),
// and every grant ends at the latest use sent.
func TestRecordUsagesConcurrent(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("usageconc")
	a := newAPI(t, srv, tenant)
	db := apitest.DB(t).SQL(t)
	lic := a.license("Copilot", 0)
	var grants []string
	for i := range 300 {
		p := a.person(fmt.Sprintf("p%d@conc.example", i))
		grants = append(grants, idAt(t, a.assign(lic, map[string]any{"personId": p}), "assignment", "id"))
	}
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	const workers, calls = 4, 20
	n := srv.DB.Statements()
	a.usages(map[string]any{"assignmentId": grants[0], "usedAt": rfc(base)})
	perCall := srv.DB.Statements() - n

	var wg sync.WaitGroup
	failures := make(chan string, workers*calls)
	n = srv.DB.Statements()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w)))
			for k := range calls {
				// Odd workers send every grant (PostgreSQL scans the
				// table), even ones a few (it looks them up by id).
				order := r.Perm(len(grants))
				if w%2 == 0 {
					order = order[:4]
				}
				items := make([]map[string]any, len(order))
				for i, j := range order {
					items[i] = map[string]any{"assignmentId": grants[j], "usedAt": rfc(base.Add(time.Duration(k*workers+w) * time.Second))}
				}
				resp := srv.Do(t, a.tok, `mutation($input: RecordUsagesInput!) { recordUsages(input: $input) { failed } }`,
					map[string]any{"input": map[string]any{"items": items}})
				if p, _ := resp.Data["recordUsages"].(map[string]any); len(resp.Errors) > 0 || p == nil || p["failed"] != 0.0 {
					failures <- string(resp.Raw)
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	if got, want := srv.DB.Statements()-n, int64(workers*calls)*perCall; got != want {
		t.Errorf("%d calls ran %d statements, want %d: some deadlocked and ran again", workers*calls, got, want)
	}
	if n := sqlInt(t, db, `SELECT count(*) FROM assignments WHERE tenant_id = $1 AND last_used_at < $2`, tenant,
		base.Add(time.Duration((calls-1)*workers)*time.Second)); n != 0 {
		t.Errorf("%d grants are behind the last full batch", n)
	}
}
