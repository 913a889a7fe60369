package graph_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
)

// outboxEvent is an events row as a test reads it (superuser).
type outboxEvent struct {
	Seq     int64
	ID      string
	Type    string
	Actor   string
	Object  map[string]any
	Changes map[string]any
	Prev    map[string]any
}

// outbox reads tenant's events with seq above after, in order.
func outbox(t *testing.T, db *sql.DB, tenant string, after int64) []outboxEvent {
	t.Helper()
	rows, err := db.Query(`SELECT seq, id, type, actor, data FROM events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq`, tenant, after)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxEvent
	for rows.Next() {
		var e outboxEvent
		var data []byte
		if err := rows.Scan(&e.Seq, &e.ID, &e.Type, &e.Actor, &data); err != nil {
			t.Fatal(err)
		}
		var d struct {
			Object   map[string]any `json:"object"`
			Changes  map[string]any `json:"changes"`
			Previous map[string]any `json:"previous"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		e.Object, e.Changes, e.Prev = d.Object, d.Changes, d.Previous
		out = append(out, e)
	}
	return out
}

func types(evs []outboxEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func lastSeq(t *testing.T, db *sql.DB, tenant string) int64 {
	t.Helper()
	return int64(sqlInt(t, db, `SELECT coalesce(max(seq), 0) FROM events WHERE tenant_id = $1`, tenant))
}

// expectEvents runs do and checks the event types it wrote, in order.
func expectEvents(t *testing.T, db *sql.DB, tenant string, want []string, do func()) []outboxEvent {
	t.Helper()
	before := lastSeq(t, db, tenant)
	do()
	evs := outbox(t, db, tenant, before)
	if !slices.Equal(types(evs), want) {
		t.Fatalf("events: got %v, want %v", types(evs), want)
	}
	for i, e := range evs {
		if e.Seq != before+int64(i)+1 {
			t.Fatalf("event %d has seq %d, want %d (no gaps)", i, e.Seq, before+int64(i)+1)
		}
	}
	return evs
}

func TestOutboxEventPerMutation(t *testing.T) {
	srv := apitest.NewServer(t)
	db := apitest.DB(t).SQL(t)
	tenant := apitest.Tenant("outbox")
	a := newAPI(t, srv, tenant)

	var lic, ada, bob, team, grant string
	evs := expectEvents(t, db, tenant, []string{"license.created"}, func() {
		lic = a.ok("createLicense", "license { id }", map[string]any{"name": "Figma", "totalSeats": 3,
			"lowSeatsThreshold": 1})["license"].(map[string]any)["id"].(string)
	})
	if o := evs[0].Object; o["id"] != lic || o["name"] != "Figma" || o["lowSeatsThreshold"] != 1.0 ||
		o["seats"].(map[string]any)["available"] != 3.0 || evs[0].Actor != "test-user" {
		t.Fatalf("license.created: %+v", evs[0])
	}
	evs = expectEvents(t, db, tenant, []string{"license.updated"}, func() {
		a.ok("updateLicense", "license { id }", map[string]any{"id": lic, "name": "Figma Pro"})
	})
	if evs[0].Changes["name"] != "Figma Pro" || evs[0].Prev["name"] != "Figma" || len(evs[0].Changes) != 1 {
		t.Fatalf("license.updated says what changed: %+v / %+v", evs[0].Changes, evs[0].Prev)
	}
	var other string
	evs = expectEvents(t, db, tenant, []string{"license.created"}, func() { other = a.license("Other? $1 '?'", 0) })
	if evs[0].Object["name"] != "Other? $1 '?'" {
		t.Fatalf("a name with placeholders and quotes: %v", evs[0].Object["name"])
	}
	expectEvents(t, db, tenant, []string{"person.created"}, func() { ada = a.person("ada@outbox.example") })
	expectEvents(t, db, tenant, []string{"person.created"}, func() { bob = a.person("bob@outbox.example") })
	evs = expectEvents(t, db, tenant, []string{"person.updated"}, func() {
		a.ok("updatePerson", "person { id }", map[string]any{"id": bob, "name": "Bob"})
	})
	if evs[0].Object["name"] != "Bob" || evs[0].Changes["name"] != "Bob" {
		t.Fatalf("person.updated: %+v", evs[0])
	}
	expectEvents(t, db, tenant, []string{"group.created"}, func() { team = a.group("Team") })
	expectEvents(t, db, tenant, []string{"group.updated"}, func() {
		a.ok("updateGroup", "group { id }", map[string]any{"id": team, "description": "the team"})
	})

	evs = expectEvents(t, db, tenant, []string{"assignment.created"}, func() {
		grant = a.assign(lic, map[string]any{"personId": ada})["assignment"].(map[string]any)["id"].(string)
	})
	if o := evs[0].Object; o["id"] != grant || evs[0].ID == "" || o["status"] != "ACTIVE" || o["licenseId"] != lic ||
		o["assigneeId"] != ada || o["assigneeType"] != "PERSON" {
		t.Fatalf("assignment.created: %+v", evs[0].Object)
	}
	// A group grant gives Bob (joining later) an inherited seat; 3 seats,
	// threshold 1: the second seat taken leaves 1 available, and says so once.
	expectEvents(t, db, tenant, []string{"assignment.created"}, func() {
		a.assign(lic, map[string]any{"groupId": team})
	})
	expectEvents(t, db, tenant, []string{"group.members_changed", "assignment.created", "license.seats_low"}, func() {
		a.ok("addGroupMembers", "group { id }", map[string]any{"groupId": team, "personIds": []string{bob}})
	})
	expectEvents(t, db, tenant, []string{"assignment.suspended"}, func() {
		a.ok("updateAssignment", "assignment { id }", map[string]any{"id": grant, "active": false})
	})
	expectEvents(t, db, tenant, []string{"assignment.resumed"}, func() {
		a.ok("updateAssignment", "assignment { id }", map[string]any{"id": grant, "active": true})
	})
	evs = expectEvents(t, db, tenant, []string{"assignment.updated"}, func() {
		a.ok("updateAssignment", "assignment { id }", map[string]any{"id": grant, "metadata": map[string]any{"k": "v"}})
	})
	if evs[0].Object["metadata"].(map[string]any)["k"] != "v" {
		t.Fatalf("assignment.updated object: %+v", evs[0].Object)
	}
	// Still low: no second seats_low until the seats rise above it again.
	expectEvents(t, db, tenant, []string{"assignment.created"}, func() {
		a.assign(lic, map[string]any{"email": "cy@outbox.example"})
	})
	evs = expectEvents(t, db, tenant, []string{"assignment.revoked"}, func() {
		a.ok("revokeAssignment", "assignment { id }", map[string]any{"id": grant, "reason": "left"})
	})
	if evs[0].Object["status"] != "REVOKED" || evs[0].Object["revokeReason"] != "left" {
		t.Fatalf("assignment.revoked: %+v", evs[0].Object)
	}
	// The invitation binds when Cy joins.
	var cy string
	expectEvents(t, db, tenant, []string{"person.created", "assignment.fulfilled"}, func() { cy = a.person("cy@outbox.example") })

	// Bulk assignment: one event per grant, in one transaction.
	extra := []string{a.person("dee@outbox.example"), a.person("eve@outbox.example")}
	expectEvents(t, db, tenant, []string{"assignment.created", "assignment.created"}, func() {
		a.ok("assignLicenses", "assignments { id }", map[string]any{"items": []any{
			map[string]any{"licenseId": other, "personId": extra[0]}, map[string]any{"licenseId": other, "personId": extra[1]}}})
	})
	expectEvents(t, db, tenant, []string{"assignment.revoked", "assignment.revoked"}, func() {
		a.ok("reclaimUnusedSeats", "count", map[string]any{"licenseId": other, "unusedSince": time.Now().UTC().Format(time.RFC3339Nano)})
	})
	// Recorded use is telemetry, not a change: no event.
	expectEvents(t, db, tenant, nil, func() {
		a.ok("recordUsage", "updated", map[string]any{"licenseId": lic, "personId": cy})
	})

	// Dry runs and refused writes emit nothing.
	expectEvents(t, db, tenant, nil, func() {
		a.ok("deleteLicense", "license { id }", map[string]any{"id": lic, "force": true, "dryRun": true})
		a.fails("updateLicense", "CONFLICT", map[string]any{"id": lic, "totalSeats": 1})
		a.ok("updateLicense", "license { id }", map[string]any{"id": lic, "totalSeats": 9, "dryRun": true})
	})
	// Removing Bob ends his inherited seat; 1 of 3 held again: above the
	// threshold, so the next fall is announced again.
	expectEvents(t, db, tenant, []string{"group.members_changed", "assignment.revoked"}, func() {
		a.ok("removeGroupMembers", "group { id }", map[string]any{"groupId": team, "personIds": []string{bob}})
	})
	expectEvents(t, db, tenant, []string{"assignment.created", "license.seats_low"}, func() {
		a.assign(lic, map[string]any{"personId": bob})
	})
	expectEvents(t, db, tenant, []string{"assignment.revoked", "group.deleted"}, func() {
		a.ok("deleteGroup", "group { id }", map[string]any{"id": team})
	})
	expectEvents(t, db, tenant, []string{"assignment.revoked", "person.deleted"}, func() {
		a.ok("deletePerson", "person { id }", map[string]any{"id": bob})
	})
	expectEvents(t, db, tenant, []string{"assignment.revoked", "license.deleted"}, func() {
		a.ok("deleteLicense", "license { id }", map[string]any{"id": lic, "force": true})
	})
}

func TestOutboxJobs(t *testing.T) {
	srv := apitest.NewServer(t)
	db := apitest.DB(t).SQL(t)
	tenant := apitest.Tenant("outbox-jobs")
	a := newAPI(t, srv, tenant)
	ctx := context.Background()
	in := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

	lic := a.ok("createLicense", "license { id }", map[string]any{"name": "Jira", "totalSeats": 1,
		"expiresAt": in(48 * time.Hour)})["license"].(map[string]any)["id"].(string)
	ada, bob, cy := a.person("ada@jobs.example"), a.person("bob@jobs.example"), a.person("cy@jobs.example")
	soon := a.assign(lic, map[string]any{"personId": ada, "expiresAt": in(24 * time.Hour)})["assignment"].(map[string]any)["id"].(string)
	a.ok("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": bob, "waitlist": true})
	later := a.ok("createLicense", "license { id }", map[string]any{"name": "Later"})["license"].(map[string]any)["id"].(string)
	a.assign(later, map[string]any{"personId": cy, "expiresAt": in(30 * 24 * time.Hour)})

	// Once per expiresAt, notice before it.
	notice := func() {
		if _, err := licensing.NoticeTenant(ctx, srv.DB, tenant, 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	evs := expectEvents(t, db, tenant, []string{"license.expiring_soon", "assignment.expiring_soon"}, notice)
	if evs[0].Object["id"] != lic || evs[1].Object["id"] != soon || evs[1].Actor != "system" {
		t.Fatalf("notices: %+v", evs)
	}
	expectEvents(t, db, tenant, nil, notice)
	a.ok("updateAssignment", "assignment { id }", map[string]any{"id": soon, "expiresAt": in(36 * time.Hour)})
	expectEvents(t, db, tenant, []string{"assignment.expiring_soon"}, notice)

	// The expiry job's consequences are events too: Ada's seat ends, Bob
	// is promoted, by the system.
	if _, err := db.Exec(`UPDATE assignments SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND person_id = $2`,
		tenant, mustUUID(t, ada)); err != nil {
		t.Fatal(err)
	}
	evs = expectEvents(t, db, tenant, []string{"assignment.expired", "assignment.promoted"}, func() {
		if _, err := licensing.ExpireTenant(ctx, srv.DB, tenant); err != nil {
			t.Fatal(err)
		}
	})
	if evs[0].Actor != "system" || evs[1].Object["status"] != "ACTIVE" || evs[1].Object["assigneeId"] != bob {
		t.Fatalf("expiry events: %+v", evs)
	}

	// Retention: old events are pruned.
	if _, err := db.Exec(`UPDATE events SET occurred_at = now() - interval '2 hours' WHERE tenant_id = $1 AND seq <= 3`, tenant); err != nil {
		t.Fatal(err)
	}
	if n, err := licensing.PruneTenant(ctx, srv.DB, tenant, time.Hour); err != nil || n != 3 {
		t.Fatalf("pruned %d (%v), want 3", n, err)
	}
	if n := sqlInt(t, db, `SELECT count(*) FROM events WHERE tenant_id = $1 AND seq <= 3`, tenant); n != 0 {
		t.Fatalf("%d old events left", n)
	}
}

func mustUUID(t *testing.T, typeID string) string {
	t.Helper()
	_, u, err := gid.Parse(typeID)
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// Seat rule 9: deactivating a person is person.deactivated, and each of
// their grants says it was deactivated; the freed seat promotes the
// waitlist; reactivating restores the grant.
func TestOutboxDeactivation(t *testing.T) {
	srv := apitest.NewServer(t)
	db := apitest.DB(t).SQL(t)
	tenant := apitest.Tenant("outbox-deact")
	a := newAPI(t, srv, tenant)
	lic := a.license("Notion", 1)
	ada, bob := a.person("ada@deact.example"), a.person("bob@deact.example")
	a.assign(lic, map[string]any{"personId": ada})
	a.ok("assignLicense", "assignment { id }", map[string]any{"licenseId": lic, "personId": bob, "waitlist": true})
	evs := expectEvents(t, db, tenant, []string{"person.deactivated", "assignment.deactivated", "assignment.promoted"}, func() {
		a.ok("updatePerson", "person { id }", map[string]any{"id": ada, "active": false})
	})
	if evs[0].Object["active"] != false || evs[0].Changes["active"] != false || evs[1].Object["status"] != "DEACTIVATED" ||
		evs[2].Object["assigneeId"] != bob {
		t.Fatalf("deactivation events: %+v", evs)
	}
	evs = expectEvents(t, db, tenant, []string{"person.updated", "assignment.waitlisted"}, func() {
		a.ok("updatePerson", "person { id }", map[string]any{"id": ada, "active": true})
	})
	if evs[1].Object["status"] != "WAITLISTED" || evs[0].Changes["active"] != true {
		t.Fatalf("reactivated on a full license: %+v", evs)
	}
}
