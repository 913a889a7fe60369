package graph_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/licensing"
)

// Rule 1: a person counts once per license, however many grants reach them.
func TestSeatRulePersonCountsOnce(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("once"))
	lic := a.license("Figma", 5)
	ada := a.person("ada@example.com")
	g1, g2 := a.group("Design", ada), a.group("Product", ada)

	a.assign(lic, map[string]any{"personId": ada})
	a.assign(lic, map[string]any{"groupId": g1})
	p := a.assign(lic, map[string]any{"groupId": g2})
	if used := num(p["seats"].(map[string]any)["used"]); used != 1 {
		t.Fatalf("one person reached by a direct and two group grants uses %d seats, want 1", used)
	}
	d := a.query(`query($id: ID!) { person(id: $id) { entitlements { holdsSeat seatGrants grants { direct } } } }`, map[string]any{"id": ada})
	ents := d["person"].(map[string]any)["entitlements"].([]any)
	if len(ents) != 1 || num(ents[0].(map[string]any)["seatGrants"]) != 3 {
		t.Fatalf("entitlements = %v, want one license with 3 grants", ents)
	}
}

// Rule 2: a group grant gives members inherited seats, kept in step with
// membership, revocation and deletion; inherited seats cannot be revoked alone.
func TestSeatRuleGroupGrants(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("groups"))
	lic := a.license("Jira", 10)
	ada, ben, cy := a.person("ada@example.com"), a.person("ben@example.com"), a.person("cy@example.com")
	grp := a.group("Eng", ada, ben)
	grant := a.assign(lic, map[string]any{"groupId": grp})
	if used := num(grant["seats"].(map[string]any)["used"]); used != 2 {
		t.Fatalf("group grant to 2 members uses %d seats, want 2", used)
	}

	inherited := a.query(`query($g: ID!) { assignments(filter: {viaGroupId: $g}) { nodes { id direct assigneeId } } }`,
		map[string]any{"g": grp})["assignments"].(map[string]any)["nodes"].([]any)
	if len(inherited) != 2 || inherited[0].(map[string]any)["direct"] != false {
		t.Fatalf("inherited = %v, want 2 indirect assignments", inherited)
	}
	e := a.fails("revokeAssignment", "INVALID", map[string]any{"id": inherited[0].(map[string]any)["id"]})
	if msg := e["message"].(string); !strings.Contains(msg, "revoke the group grant") || !strings.Contains(msg, "remove the member") {
		t.Fatalf("message %q does not say how to end an inherited seat", msg)
	}

	a.ok("addGroupMembers", "changed", map[string]any{"groupId": grp, "personIds": []string{cy}})
	if used := num(a.seats(lic)["used"]); used != 3 {
		t.Fatalf("after adding a member: %d seats, want 3", used)
	}
	a.ok("removeGroupMembers", "changed", map[string]any{"groupId": grp, "personIds": []string{ada}})
	if used := num(a.seats(lic)["used"]); used != 2 {
		t.Fatalf("after removing a member: %d seats, want 2", used)
	}
	grantID := grant["assignment"].(map[string]any)["id"]
	a.ok("revokeAssignment", "assignment { status }", map[string]any{"id": grantID, "reason": "project over"})
	if used := num(a.seats(lic)["used"]); used != 0 {
		t.Fatalf("after revoking the group grant: %d seats, want 0", used)
	}

	a.assign(lic, map[string]any{"groupId": grp})
	a.ok("deleteGroup", "group { isDeleted }", map[string]any{"id": grp})
	if used := num(a.seats(lic)["used"]); used != 0 {
		t.Fatalf("after deleting the group: %d seats, want 0", used)
	}
}

// Rule 3: PENDING, ACTIVE and SUSPENDED hold seats; REVOKED, WAITLISTED,
// EXPIRED and deleted ones do not.
func TestSeatRuleWhoHoldsSeats(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("holds"))
	lic := a.license("Adobe", 3)
	ada, ben := a.person("ada@example.com"), a.person("ben@example.com")

	pending := a.assign(lic, map[string]any{"email": "new@example.com"})
	active := a.assign(lic, map[string]any{"personId": ada})
	susp := a.assign(lic, map[string]any{"personId": ben, "active": false})
	for p, want := range map[*map[string]any]string{&pending: "PENDING", &active: "ACTIVE", &susp: "SUSPENDED"} {
		if got := (*p)["assignment"].(map[string]any)["status"]; got != want {
			t.Fatalf("status %v, want %s", got, want)
		}
	}
	s := a.seats(lic)
	if num(s["used"]) != 3 || num(s["pending"]) != 1 || num(s["available"]) != 0 {
		t.Fatalf("seats %v, want 3 used (1 pending), 0 available", s)
	}
	cy := a.person("cy@example.com")
	w := a.ok("assignLicense", "assignment { status } seats { used waitlisted }", map[string]any{"licenseId": lic, "personId": cy, "waitlist": true})
	if w["assignment"].(map[string]any)["status"] != "WAITLISTED" || num(w["seats"].(map[string]any)["used"]) != 3 {
		t.Fatalf("waitlisted assign = %v", w)
	}
	a.ok("revokeAssignment", "assignment { status }", map[string]any{"id": susp["assignment"].(map[string]any)["id"]})
	// The freed seat went to the waitlist in the same transaction.
	s = a.seats(lic)
	if num(s["used"]) != 3 || num(s["waitlisted"]) != 0 {
		t.Fatalf("after revoke: seats %v, want the waitlisted person promoted", s)
	}
	a.ok("deletePerson", "person { id }", map[string]any{"id": ada})
	if used := num(a.seats(lic)["used"]); used != 2 {
		t.Fatalf("after deleting a person: %d seats, want 2", used)
	}
}

// Rule 4: SEAT_LIMIT_REACHED says what is needed and free; the waitlist is
// promoted first in, first out.
func TestSeatRuleLimitAndWaitlist(t *testing.T) {
	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("limit")
	a := newAPI(t, srv, tenant)
	lic := a.license("AutoCAD", 1)
	p := []string{a.person("a@example.com"), a.person("b@example.com"), a.person("c@example.com")}
	first := a.assign(lic, map[string]any{"personId": p[0]})

	e := a.fails("assignLicense", "SEAT_LIMIT_REACHED", map[string]any{"licenseId": lic, "personId": p[1]})
	if msg := e["message"].(string); !strings.Contains(msg, "needs 1 more seat") || !strings.Contains(msg, "0 free of 1") {
		t.Fatalf("message %q does not say seats needed and free", msg)
	}
	grp := a.group("Team", p[1], p[2])
	e = a.fails("assignLicense", "SEAT_LIMIT_REACHED", map[string]any{"licenseId": lic, "groupId": grp})
	if msg := e["message"].(string); !strings.Contains(msg, "needs 2 more seat") {
		t.Fatalf("group grant message %q does not say 2 seats are needed", msg)
	}
	if n := sqlInt(t, apitest.DB(t).SQL(t), "SELECT count(*) FROM assignments WHERE tenant_id = $1 AND (group_id IS NOT NULL OR via_group_id IS NOT NULL)", tenant); n != 0 {
		t.Fatalf("a refused group grant left %d rows", n)
	}

	second := a.ok("assignLicense", "assignment { id status }", map[string]any{"licenseId": lic, "personId": p[2], "waitlist": true})
	third := a.ok("assignLicense", "assignment { id status }", map[string]any{"licenseId": lic, "personId": p[1], "waitlist": true})
	a.ok("revokeAssignment", "assignment { id }", map[string]any{"id": first["assignment"].(map[string]any)["id"]})

	status := func(id any) string {
		return a.query(`query($id: ID!) { assignment(id: $id) { status } }`, map[string]any{"id": id})["assignment"].(map[string]any)["status"].(string)
	}
	if s := status(second["assignment"].(map[string]any)["id"]); s != "ACTIVE" {
		t.Fatalf("first in the waitlist is %s after a seat freed, want ACTIVE", s)
	}
	if s := status(third["assignment"].(map[string]any)["id"]); s != "WAITLISTED" {
		t.Fatalf("second in the waitlist is %s, want WAITLISTED", s)
	}
	// Raising totalSeats frees a seat too.
	a.ok("updateLicense", "license { id }", map[string]any{"id": lic, "totalSeats": 2})
	if s := status(third["assignment"].(map[string]any)["id"]); s != "ACTIVE" {
		t.Fatalf("after raising totalSeats the waitlisted seat is %s, want ACTIVE", s)
	}
}

// Rule 5: lowering totalSeats below use is refused; expired licenses refuse seats.
func TestSeatRuleTotalAndExpiry(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("total"))
	lic := a.license("VS", 3)
	a.assign(lic, map[string]any{"personId": a.person("a@example.com")})
	a.assign(lic, map[string]any{"personId": a.person("b@example.com")})
	a.fails("updateLicense", "CONFLICT", map[string]any{"id": lic, "totalSeats": 1})
	if total := num(a.seats(lic)["total"]); total != 3 {
		t.Fatalf("refused update changed totalSeats to %d", total)
	}
	a.ok("updateLicense", "license { id }", map[string]any{"id": lic, "totalSeats": 2})

	old := a.ok("createLicense", "license { id }", map[string]any{"name": "Old", "startsAt": "2020-01-01T00:00:00Z",
		"expiresAt": "2021-01-01T00:00:00Z"})["license"].(map[string]any)["id"]
	a.fails("assignLicense", "LICENSE_EXPIRED", map[string]any{"licenseId": old, "personId": a.person("c@example.com")})
}

// Rule 6: license.seats is read from counters: listing any number of
// licenses with their seats costs the same few statements.
func TestSeatRuleSeatsReadInConstantTime(t *testing.T) {
	srv := apitest.NewServer(t)
	counts := []int64{}
	for _, n := range []int{1, 30} {
		a := newAPI(t, srv, apitest.Tenant("o1"))
		person := a.person("p@example.com")
		for i := range n {
			lic := a.license("L"+string(rune('a'+i)), 5)
			a.assign(lic, map[string]any{"personId": person})
		}
		before := srv.DB.Statements()
		d := a.query(`{ licenses(first: 100) { nodes { seats { used available } } } }`, nil)
		counts = append(counts, srv.DB.Statements()-before)
		for _, l := range d["licenses"].(map[string]any)["nodes"].([]any) {
			if num(l.(map[string]any)["seats"].(map[string]any)["used"]) != 1 {
				t.Fatalf("seats = %v, want 1 used", l)
			}
		}
	}
	if counts[0] != counts[1] || counts[1] > 4 {
		t.Fatalf("statements for 1 and 30 licenses with seats: %v, want equal and at most 4", counts)
	}
}

// Rule 7: creating a person binds pending email invitations and fulfils them.
func TestSeatRuleInvitationsBind(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("invite"))
	lic := a.license("Copilot", 2)
	inv := a.assign(lic, map[string]any{"email": "New.Hire@Example.com"})
	if inv["assignment"].(map[string]any)["status"] != "PENDING" {
		t.Fatalf("invitation status %v, want PENDING", inv["assignment"])
	}
	p := a.ok("createPerson", "person { id } fulfilledInvitations", map[string]any{"email": "new.hire@example.com"})
	if num(p["fulfilledInvitations"]) != 1 {
		t.Fatalf("fulfilledInvitations = %v, want 1", p["fulfilledInvitations"])
	}
	d := a.query(`query($id: ID!) { assignment(id: $id) { status fulfilled assigneeType assignee { ... on Person { id } } history { nodes { type } } } }`,
		map[string]any{"id": inv["assignment"].(map[string]any)["id"]})["assignment"].(map[string]any)
	if d["status"] != "ACTIVE" || d["fulfilled"] != true || d["assigneeType"] != "PERSON" ||
		d["assignee"].(map[string]any)["id"] != p["person"].(map[string]any)["id"] {
		t.Fatalf("bound invitation = %v", d)
	}
	s := a.seats(lic)
	if num(s["used"]) != 1 || num(s["pending"]) != 0 {
		t.Fatalf("seats after binding = %v, want 1 used, 0 pending", s)
	}
}

// Rule 8: the expiry job frees seats whose time has come and promotes the waitlist.
func TestSeatRuleExpiryJob(t *testing.T) {
	srv := apitest.NewServer(t)
	a := newAPI(t, srv, apitest.Tenant("expiry"))
	lic := a.license("Tableau", 1)
	soon := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	first := a.ok("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": a.person("a@example.com"), "expiresAt": soon})
	waiting := a.ok("assignLicense", "assignment { id status }", map[string]any{"licenseId": lic, "personId": a.person("b@example.com"), "waitlist": true})
	time.Sleep(1600 * time.Millisecond)
	n, err := licensing.ExpireDue(context.Background(), srv.DB)
	if err != nil || n < 1 {
		t.Fatalf("ExpireDue = %d, %v", n, err)
	}
	d := a.query(`query($a: ID!, $b: ID!) { a: assignment(id: $a) { status history { nodes { type actor actorType } } } b: assignment(id: $b) { status } }`,
		map[string]any{"a": first["assignment"].(map[string]any)["id"], "b": waiting["assignment"].(map[string]any)["id"]})
	hist := d["a"].(map[string]any)["history"].(map[string]any)["nodes"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if d["a"].(map[string]any)["status"] != "EXPIRED" || last["type"] != "EXPIRED" || last["actorType"] != "SYSTEM" {
		t.Fatalf("expired assignment = %v", d["a"])
	}
	if d["b"].(map[string]any)["status"] != "ACTIVE" {
		t.Fatalf("waitlisted assignment is %v after the seat expired, want ACTIVE", d["b"])
	}
}

// The expiry job runs on one replica at a time: while another replica
// holds its lease, the job does nothing and says so (ErrLeaseHeld); a lease whose holder stopped
// renewing it (a replica that died) is taken over once it has expired, and
// given back when the run ends.
func TestExpiryJobLease(t *testing.T) {
	srv := apitest.NewServer(t)
	db := apitest.DB(t).SQL(t)
	a := newAPI(t, srv, apitest.Tenant("expiry-lease"))
	lic := a.license("Lease", 1)
	person := a.person("a@example.com")
	// The grant must still be ahead when assigned (a loaded machine can take
	// a while per request), and behind when the job runs.
	soon := time.Now().Add(2 * time.Second)
	grant := a.ok("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": person,
		"expiresAt": soon.UTC().Format(time.RFC3339Nano)})
	id := grant["assignment"].(map[string]any)["id"]
	status := func() string {
		d := a.query(`query($id: ID!) { assignment(id: $id) { status history { nodes { type } } } }`, map[string]any{"id": id})
		nodes := d["assignment"].(map[string]any)["history"].(map[string]any)["nodes"].([]any)
		return nodes[len(nodes)-1].(map[string]any)["type"].(string)
	}
	time.Sleep(time.Until(soon) + 100*time.Millisecond)

	sqlExec(t, db, `INSERT INTO job_leases (job, holder, taken_at, expires_at)
		VALUES ('expiry', 'other-replica', now(), now() + interval '1 minute')`)
	t.Cleanup(func() { _, _ = db.Exec("DELETE FROM job_leases WHERE job = 'expiry' AND holder = 'other-replica'") })
	// The run says it was skipped, so that it is not counted as a success.
	if n, err := licensing.ExpireDue(context.Background(), srv.DB); !errors.Is(err, licensing.ErrLeaseHeld) || n != 0 {
		t.Fatalf("ExpireDue while another replica holds the lease = %d, %v; want 0, ErrLeaseHeld", n, err)
	}
	if last := status(); last != "ASSIGNED" {
		t.Fatalf("the grant's last event is %s while another replica held the lease, want ASSIGNED", last)
	}

	sqlExec(t, db, `UPDATE job_leases SET taken_at = $1, expires_at = $2 WHERE job = 'expiry'`,
		time.Now().Add(-2*time.Minute), time.Now().Add(-time.Second))
	if n, err := licensing.ExpireDue(context.Background(), srv.DB); err != nil || n < 1 {
		t.Fatalf("ExpireDue after the other replica's lease expired = %d, %v; want at least 1", n, err)
	}
	if last := status(); last != "EXPIRED" {
		t.Fatalf("the grant's last event is %s, want EXPIRED", last)
	}
	if n := sqlScalarInt(t, db, "SELECT count(*) FROM job_leases WHERE job = 'expiry'"); n != 0 {
		t.Errorf("%d expiry leases left after the run, want it given back", n)
	}
}

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
