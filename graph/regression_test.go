package graph_test

import (
	"sync"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/auth"
	"seatgraph/internal/gid"
)

// Binding an invitation to a person who already holds the license frees
// the invitation's seat, and the waitlist gets it in the same transaction.
func TestBindingPromotesWaitlist(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("bind-promote"))
	lic := a.license("Two seats", 2)
	ada := a.person("ada@example.com")
	a.assign(lic, map[string]any{"groupId": a.group("Team", ada)})
	a.assign(lic, map[string]any{"email": "inv@example.com"})
	bob := a.ok("assignLicense", "assignment { id status }", map[string]any{"licenseId": lic, "personId": a.person("bob@example.com"), "waitlist": true})
	a.ok("updatePerson", "person { id }", map[string]any{"id": ada, "email": "inv@example.com"})
	st := a.query(`query($id: ID!) { assignment(id: $id) { status } }`, map[string]any{"id": bob["assignment"].(map[string]any)["id"]})
	if s := st["assignment"].(map[string]any)["status"]; s != "ACTIVE" {
		t.Fatalf("waitlisted person is %v after binding freed a seat, want ACTIVE (seats %v)", s, a.seats(lic))
	}
}

// A grant past its expiresAt ends before the next write on its license,
// without waiting for the expiry job: assigning again creates a new grant,
// and the old grant's seat is free for someone else.
func TestExpiredGrantEndsBeforeWrite(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("expire-on-write"))
	lic := a.license("One seat", 1)
	ada, ben := a.person("ada@example.com"), a.person("ben@example.com")
	soon := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	a.ok("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": ada, "expiresAt": soon})
	time.Sleep(1100 * time.Millisecond)
	p := a.ok("assignLicense", "assignment { status } created", map[string]any{"licenseId": lic, "personId": ben})
	if p["created"] != true || p["assignment"].(map[string]any)["status"] != "ACTIVE" {
		t.Fatalf("assign after the only seat expired = %v", p)
	}
	again := a.mutate("assignLicense", "assignment { status } created", map[string]any{"licenseId": lic, "personId": ada, "waitlist": true})
	if again["created"] != true || again["assignment"].(map[string]any)["status"] != "WAITLISTED" {
		t.Fatalf("assigning the expired grantee again = %v, want a new WAITLISTED grant", again)
	}
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

// Two mutations in one request: the second payload's nested reads see the
// first mutation's write and its own.
func TestMutationsInOneRequestReadFresh(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("fresh"))
	lic := a.license("L", 5)
	p1, p2 := a.person("a@example.com"), a.person("b@example.com")
	d := a.query(`mutation($l: ID!, $a: ID!, $b: ID!) {
	  x: assignLicense(input: {licenseId: $l, personId: $a}) { assignment { license { seats { used } } } }
	  y: assignLicense(input: {licenseId: $l, personId: $b}) { seats { used } assignment { license { seats { used } } } }
	}`, map[string]any{"l": lic, "a": p1, "b": p2})
	y := d["y"].(map[string]any)
	nested := num(y["assignment"].(map[string]any)["license"].(map[string]any)["seats"].(map[string]any)["used"])
	if num(y["seats"].(map[string]any)["used"]) != 2 || nested != 2 {
		t.Fatalf("second mutation's payload = %v, want 2 seats used everywhere", y)
	}
}

// A request whose strings hold U+0000 is refused clearly, not failed inside.
func TestNULRefused(t *testing.T) {
	srv := apitest.NewServer(t)
	tok := apitest.Token(t, apitest.Tenant("nul"))
	r := srv.Do(t, tok, `query($s: String) { licenses(filter: {search: $s}) { totalCount } }`, map[string]any{"s": "a\x00b"})
	if r.Status != 400 || len(r.Errors) == 0 {
		t.Fatalf("NUL in a variable: %d %s", r.Status, r.Raw)
	}
	for _, q := range []string{`{ licenses(filter: {search: "a\u0000b"}) { totalCount } }`,
		`{ licenses(filter: {search: "a\u{0}b"}) { totalCount } }`,
		`mutation { createLicense(input: {name: "x\u0000"}) { license { id } } }`} {
		if r := srv.Do(t, tok, q, nil); r.Status != 200 || len(r.Codes()) != 1 || r.Codes()[0] != "BAD_USER_INPUT" {
			t.Errorf("NUL in a literal, %s: %d %s", q, r.Status, r.Raw)
		}
	}
	// An escaped backslash followed by "u0000" is no NUL.
	if r := srv.Do(t, tok, `{ licenses(filter: {search: "C:\\u0000dir"}) { totalCount } }`, nil); len(r.Errors) > 0 {
		t.Errorf("an escaped backslash was refused: %s", r.Raw)
	}
	if r := srv.Do(t, tok, `{ licenses { totalCount } }`, nil); r.Status != 200 {
		t.Fatalf("server stopped serving: %s", r.Raw)
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

// Seats freed because a grant's end passed go to the waitlist before the
// write that noticed can take them.
func TestExpiredSeatGoesToWaitlistFirst(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("expire-fifo"))
	lic := a.license("One", 1)
	soon := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	a.ok("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": a.person("ada@x.com"), "expiresAt": soon})
	carl := a.ok("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": a.person("carl@x.com"), "waitlist": true})
	time.Sleep(1100 * time.Millisecond)
	ben := a.person("ben@x.com")
	a.fails("assignLicense", "SEAT_LIMIT_REACHED", map[string]any{"licenseId": lic, "personId": ben})
	b := a.ok("assignLicense", "assignment { status }", map[string]any{"licenseId": lic, "personId": ben, "waitlist": true})
	if s := b["assignment"].(map[string]any)["status"]; s != "WAITLISTED" {
		t.Fatalf("the newcomer is %v, want WAITLISTED behind the queue", s)
	}
	st := a.query(`query($id: ID!) { assignment(id: $id) { status } }`, map[string]any{"id": carl["assignment"].(map[string]any)["id"]})
	if s := st["assignment"].(map[string]any)["status"]; s != "ACTIVE" {
		t.Fatalf("the waitlisted person is %v, want ACTIVE: the newcomer must not jump the queue", s)
	}
}

// Revoking or updating a grant deleted while the caller waited for its
// license is NOT_FOUND, not a crash.
func TestChangeOfGrantDeletedMeanwhile(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("deleted-meanwhile"))
	for _, op := range []string{"revokeAssignment", "updateAssignment"} {
		lic := a.license("L-"+op, 5)
		asg := a.assign(lic, map[string]any{"personId": a.person(op + "@x.com")})["assignment"].(map[string]any)["id"].(string)
		release := stall(t, []any{`SELECT 1 FROM licenses WHERE id = $1 FOR UPDATE`, rawID(t, gid.License, lic)},
			[]any{`UPDATE assignments SET is_deleted = true, deleted_at = now(), deleted_by = 'other' WHERE id = $1`,
				rawID(t, gid.Assignment, asg)})
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
	release := stall(t, []any{`SELECT 1 FROM group_members WHERE group_id = $1 AND person_id = $2 FOR UPDATE`,
		rawID(t, gid.Group, other), rawID(t, gid.Person, p)})
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
