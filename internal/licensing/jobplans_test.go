package licensing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"seatgraph/internal/apitest"
	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
)

// A plan for any values (store.GenericPlans, the server's pool) estimates
// a range bounded by a value as a third of the rows; the jobs' statements
// must still read what is due, not every row that could be due some day.

// TestExpiryReadsDueGrants: the expiry job (every 30 s, in every tenant),
// on the jobs' pool as the server opens it (store.JobPlans), reads the
// grants whose end has passed, not every grant that has an end, also once
// PostgreSQL has weighed a plan for any values (after five runs).
func TestExpiryReadsDueGrants(t *testing.T) {
	d := apitest.DB(t)
	if d.Citus() {
		// Every pool plans as PostgreSQL chooses on Citus (store.Open), and
		// the coordinator refuses the fixture's spread of ends (a function
		// of a column in a distributed UPDATE).
		t.Skip("no generic plans on Citus")
	}
	sent := &apitest.Statements{}
	// One connection, whose prepared statements say how each was planned.
	db := d.OpenWith(t, d.AppURL, store.Options{MaxConns: 1, PlanCacheMode: store.JobPlans, Hooks: []bun.QueryHook{sent}})
	super := d.SQL(t)
	tenant := apitest.Tenant("expiryplan")
	f := apitest.NewFixture(t, db, tenant)
	later := f.License("Later", 0)
	for i := range 5 {
		f.Assign(later, f.People(fmt.Sprint("later", i), 1000)...)
	}
	if _, err := super.Exec(`UPDATE assignments SET expires_at = now() + interval '1 day' + (abs(hashtext(id::text)) % 25920000) * interval '1 second'
		WHERE tenant_id = $1 AND person_id IS NOT NULL`, tenant); err != nil {
		t.Fatal(err)
	}
	due := f.Assign(f.License("Due", 1), f.Person("due@"+tenant+".example"))[0].ID
	if _, err := super.Exec("UPDATE assignments SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1 AND id = $2",
		tenant, due); err != nil {
		t.Fatal(err)
	}
	if _, err := super.Exec("ANALYZE assignments"); err != nil {
		t.Fatal(err)
	}
	for run := range 8 {
		want := 0
		if run == 0 {
			want = 1 // the due grant; then nothing is due
		}
		n, err := licensing.ExpireTenant(context.Background(), db, tenant)
		if err != nil || n != want {
			t.Fatalf("run %d expired %d grants (%v); want %d", run+1, n, err, want)
		}
	}
	if !isExpired(t, super, tenant, due) {
		t.Fatal("the due grant did not expire")
	}
	found := sent.Matching("UNION")
	if len(found) == 0 {
		t.Fatal("no statement looked for due grants")
	}
	// A plan for any values would read every grant with an end; the
	// statement must be planned for its time.
	r := d.Reads(t, tenant, found[0])
	if custom, generic := apitest.Planned(t, db, found[0]); r.Generic > 2*r.Custom+20 && generic > 0 {
		t.Errorf("the look for due grants ran %d times with the plan for any values (%d for its values), "+
			"which read %d pages, against %d planned for its values:\n%s", generic, custom, r.Generic, r.Custom, r.Plan)
	}
}

// TestPruneReadsOldEvents: the events job's prune reads the events older
// than the retention, not the tenant's whole outbox.
func TestPruneReadsOldEvents(t *testing.T) {
	d := apitest.DB(t)
	sent := &apitest.Statements{}
	db, super := d.OpenWith(t, d.AppURL, store.Options{MaxConns: 1, Hooks: []bun.QueryHook{sent}}), d.SQL(t)
	tenant := apitest.Tenant("pruneplan")
	// 20,000 recent events and one past the retention.
	if _, err := super.Exec(`INSERT INTO events (tenant_id, seq, id, type, occurred_at, actor, actor_type, subject_id, data)
		SELECT $1, n, gen_random_uuid(), 'license.updated', now() - CASE WHEN n = 1 THEN interval '40 days' ELSE interval '1 hour' END,
		'test', 'SYSTEM', gen_random_uuid(), '{}' FROM generate_series(1, 20000) AS n`, tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := super.Exec("ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	if n, err := licensing.PruneTenant(context.Background(), db, tenant, 30*24*time.Hour); err != nil || n != 1 {
		t.Fatalf("pruned %d events (%v); want the old one", n, err)
	}
	found := sent.Matching(`DELETE FROM "events"`)
	if len(found) != 1 {
		t.Fatalf("%d statements prune events; want 1", len(found))
	}
	r := d.Reads(t, tenant, found[0])
	if custom, generic := apitest.Planned(t, db, found[0]); r.Generic > 2*r.Custom+20 && generic > 0 {
		t.Errorf("the prune ran %d times with the plan for any values (%d for its values), "+
			"which read %d pages, against %d planned for its values:\n%s", generic, custom, r.Generic, r.Custom, r.Plan)
	}
}
