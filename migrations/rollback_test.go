package migrations_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/uptrace/bun/migrate"

	"seatgraph/internal/apitest"
	"seatgraph/internal/store"
	"seatgraph/migrations"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// counters reads every license's stored counters and recounts them from
// the grants (SPEC §2; rule 9 when the schema has it), and fails on any
// difference.
func checkCounters(t *testing.T, db *sql.DB, tenant string, rule9 bool) {
	t.Helper()
	deactivated := ""
	if rule9 {
		deactivated = "AND a.deactivated_at IS NULL"
	}
	rows, err := db.Query(`
	SELECT l.id, l.seats_used, l.seats_pending, l.seats_waitlisted,
	       (SELECT count(DISTINCT coalesce(a.person_id::text, 'email:' || lower(a.email))) FROM assignments a
	         WHERE a.tenant_id = l.tenant_id AND a.license_id = l.id AND NOT a.is_deleted AND a.revoked_at IS NULL
	           AND a.expired_at IS NULL `+deactivated+` AND a.group_id IS NULL AND a.waitlisted_at IS NULL),
	       (SELECT count(DISTINCT coalesce(a.person_id::text, 'email:' || lower(a.email))) FROM assignments a
	         WHERE a.tenant_id = l.tenant_id AND a.license_id = l.id AND NOT a.is_deleted AND a.revoked_at IS NULL
	           AND a.expired_at IS NULL `+deactivated+` AND a.group_id IS NULL AND a.waitlisted_at IS NULL
	           AND NOT a.fulfilled),
	       (SELECT count(*) FROM assignments a
	         WHERE a.tenant_id = l.tenant_id AND a.license_id = l.id AND NOT a.is_deleted AND a.revoked_at IS NULL
	           AND a.expired_at IS NULL `+deactivated+` AND a.waitlisted_at IS NOT NULL)
	  FROM licenses l WHERE l.tenant_id = $1 ORDER BY l.id`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var used, pending, waitlisted, rUsed, rPending, rWaitlisted int
		if err := rows.Scan(&id, &used, &pending, &waitlisted, &rUsed, &rPending, &rWaitlisted); err != nil {
			t.Fatal(err)
		}
		if used != rUsed || pending != rPending || waitlisted != rWaitlisted {
			t.Errorf("license %s: counters used %d pending %d waitlisted %d, recount %d %d %d",
				id, used, pending, waitlisted, rUsed, rPending, rWaitlisted)
		}
		n++
	}
	if err := rows.Err(); err != nil || n == 0 {
		t.Fatalf("licenses read: %d, %v", n, err)
	}
}

// Rolling back seat rule 9 (20261129140000) after people were deactivated
// succeeds and keeps every license's counters equal to a recount: the
// deactivated grants are revoked as of their deactivation, the rule-9
// history events become UPDATED. Migrating up again works too.
func TestRule9RollsBackAfterUse(t *testing.T) {
	ctx := context.Background()
	pdb := apitest.DB(t)
	if pdb.Citus() {
		t.Skip("migrations run on the coordinator by scripts/citus; this test migrates a plain database")
	}
	super := pdb.SQL(t)
	// The package database was migrated in one group: make rule 9 (and
	// what came after it) a group of its own, as a deployment that
	// shipped it would have.
	if _, err := super.Exec(`UPDATE bun_migrations SET group_id = group_id + 1 WHERE name >= '20261129140000'`); err != nil {
		t.Fatal(err)
	}

	srv := apitest.NewServer(t)
	tenant := apitest.Tenant("rollback")
	tok := apitest.Token(t, tenant)
	id := func(d map[string]any, path ...string) string {
		var v any = d
		for _, k := range path {
			v = v.(map[string]any)[k]
		}
		return v.(string)
	}
	person := func(email string) string {
		return id(srv.MustDo(t, tok, `mutation($e: String!) { createPerson(input: {email: $e}) { person { id } } }`,
			map[string]any{"e": email}), "createPerson", "person", "id")
	}
	license := func(name string, seats int) string {
		return id(srv.MustDo(t, tok, `mutation($n: String!, $s: Int!) { createLicense(input: {name: $n, totalSeats: $s}) { license { id } } }`,
			map[string]any{"n": name, "s": seats}), "createLicense", "license", "id")
	}
	assign := func(in map[string]any) {
		d := srv.MustDo(t, tok, `mutation($in: AssignLicenseInput!) { assignLicense(input: $in) { userErrors { code } } }`, map[string]any{"in": in})
		if errs := d["assignLicense"].(map[string]any)["userErrors"].([]any); len(errs) != 0 {
			t.Fatalf("assignLicense(%v): %v", in, errs)
		}
	}
	ann, bob, cyd := person("ann@corp.example"), person("bob@corp.example"), person("cyd@corp.example")
	ide, chat := license("IDE", 1), license("Chat", 5)
	assign(map[string]any{"licenseId": ide, "personId": ann})
	assign(map[string]any{"licenseId": ide, "personId": bob, "waitlist": true})
	grp := id(srv.MustDo(t, tok, `mutation($m: [ID!]) { createGroup(input: {name: "Eng", memberIds: $m}) { group { id } } }`,
		map[string]any{"m": []string{ann, cyd}}), "createGroup", "group", "id")
	assign(map[string]any{"licenseId": chat, "groupId": grp})
	// ann is deactivated (her IDE seat goes to bob, her Chat grant is
	// DEACTIVATED), cyd is deactivated and reactivated.
	for _, step := range []struct {
		who    string
		active bool
	}{{ann, false}, {cyd, false}, {cyd, true}} {
		srv.MustDo(t, tok, `mutation($id: ID!, $a: Boolean) { updatePerson(input: {id: $id, active: $a}) { person { id } } }`,
			map[string]any{"id": step.who, "a": step.active})
	}
	checkCounters(t, super, tenant, true)

	owner, err := store.Open(ctx, pdb.OwnerURL, store.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	group, err := migrations.Rollback(ctx, owner.Bun(), func(*migrate.MigrationGroup) error { return nil })
	if err != nil {
		t.Fatalf("rolling back rule 9 after use: %v", err)
	}
	if group.IsZero() {
		t.Fatal("nothing was rolled back")
	}
	checkCounters(t, super, tenant, false)
	var revoked int
	if err := super.QueryRow(`SELECT count(*) FROM assignments WHERE tenant_id = $1 AND revoked_by = 'system'
		AND revoke_reason = 'person deactivated (rule 9 rolled back)'`, tenant).Scan(&revoked); err != nil {
		t.Fatal(err)
	}
	var events, revokedEvents int
	if err := super.QueryRow(`SELECT count(*) FILTER (WHERE changes ? 'rolledBackType'),
		count(*) FILTER (WHERE type = 'REVOKED' AND actor = 'system') FROM assignment_events WHERE tenant_id = $1`, tenant).
		Scan(&events, &revokedEvents); err != nil {
		t.Fatal(err)
	}
	// ann's IDE and Chat grants; cyd's Chat grant was reactivated.
	if revoked != 2 || revokedEvents != 2 || events == 0 {
		t.Fatalf("after rollback: %d grants revoked (want 2), %d REVOKED events (want 2), %d rule-9 events kept as UPDATED",
			revoked, revokedEvents, events)
	}

	if _, err := migrations.Apply(ctx, owner.Bun()); err != nil {
		t.Fatalf("migrating up again: %v", err)
	}
	checkCounters(t, super, tenant, true)
	// A new server: the first one's connections cached statements over the
	// tables as they were before the rollback (later migrations change
	// licenses too), as a replica that lived through a rollback would.
	srv = apitest.NewServer(t)
	d := srv.MustDo(t, tok, `query($id: ID!) { license(id: $id) { seats { used waitlisted } } }`, map[string]any{"id": ide})
	if s := d["license"].(map[string]any)["seats"].(map[string]any); s["used"] != 1.0 || s["waitlisted"] != 0.0 {
		t.Fatalf("IDE after down and up: %v, want bob on the one seat", s)
	}
}
