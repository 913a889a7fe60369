package licensing_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/apitest"
	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// reclaimSetup gives a new tenant a license of seats seats held by n
// people unused for 60 days, a waitlist of n more, and a REVOKE policy
// (30 days, 7 days of grace). It returns the tenant and license.
func reclaimSetup(t *testing.T, db *store.DB, super *sql.DB, prefix string, n int) (string, *models.License) {
	t.Helper()
	tenant := apitest.Tenant(prefix)
	f := apitest.NewFixture(t, db, tenant)
	l := f.License("Reclaimed", n)
	f.Assign(l, f.People("holder", n)...)
	ctx := context.Background()
	actor := licensing.Actor{Tenant: store.Tenant{ID: tenant}, Subject: "admin", SourceType: models.SourceAPI}
	yes := true
	for _, p := range f.People("waiting", n) {
		id := gid.Person.Format(p.ID)
		if _, err := licensing.Assign(ctx, db, actor, licensing.AssignInput{LicenseID: gid.License.Format(l.ID), PersonID: &id, Waitlist: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
		"UPDATE assignments SET assigned_at = now() - interval '60 days' WHERE tenant_id = $1 AND waitlisted_at IS NULL",
	} {
		if _, err := super.Exec(q, tenant); err != nil {
			t.Fatal(err)
		}
	}
	_, err := licensing.SetReclaimPolicy(ctx, db, actor, licensing.ReclaimPolicyInput{LicenseID: gid.License.Format(l.ID),
		InactiveDays: 30, GraceDays: 7, Action: models.ReclaimRevoke})
	if err != nil {
		t.Fatal(err)
	}
	return tenant, l
}

// reclaimCounts counts the tenant's reclaim history rows and events, its
// pending warnings, and its live waitlisted grants.
func reclaimCounts(t *testing.T, super *sql.DB, tenant string) string {
	t.Helper()
	var warned, revoked, promoted, events, warnings, waiting int
	err := super.QueryRow(`SELECT
		(SELECT count(*) FROM assignment_events WHERE tenant_id = $1 AND type = 'RECLAIM_WARNING'),
		(SELECT count(*) FROM assignment_events WHERE tenant_id = $1 AND type = 'REVOKED'),
		(SELECT count(*) FROM assignment_events WHERE tenant_id = $1 AND type = 'PROMOTED'),
		(SELECT count(*) FROM events WHERE tenant_id = $1 AND type IN ('assignment.reclaim_warning', 'assignment.revoked', 'assignment.promoted')),
		(SELECT count(*) FROM reclaim_warnings WHERE tenant_id = $1),
		(SELECT count(*) FROM assignments WHERE tenant_id = $1 AND waitlisted_at IS NOT NULL AND revoked_at IS NULL)`,
		tenant).Scan(&warned, &revoked, &promoted, &events, &warnings, &waiting)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("warned %d revoked %d promoted %d events %d pending %d waiting %d", warned, revoked, promoted, events, warnings, waiting)
}

// Two replicas running the job at once never act twice: with the lease
// (one of them finds it held, or they run one after the other), and
// without it (as when a lease ran out mid-run), since each license's run
// locks the license and reads its plan under the lock.
func TestReclaimTwoReplicasActOnce(t *testing.T) {
	d := apitest.DB(t)
	pools := []*store.DB{d.Open(t), d.Open(t)}
	super := d.SQL(t)
	const n = 20
	tenant, _ := reclaimSetup(t, pools[0], super, "reclaim-replicas", n)
	ctx := context.Background()

	both := func(run func(db *store.DB) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, db := range pools {
			wg.Go(func() { errs[i] = run(db) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	// With the lease: the whole job, on both replicas at once.
	both(func(db *store.DB) error {
		_, err := licensing.ReclaimDue(ctx, db)
		if errors.Is(err, licensing.ErrLeaseHeld) {
			return nil
		}
		return err
	})
	if got, want := reclaimCounts(t, super, tenant), fmt.Sprintf("warned %d revoked 0 promoted 0 events %d pending %d waiting %d", n, n, n, n); got != want {
		t.Errorf("after two replicas' runs: %s, want %s", got, want)
	}
	// Without the lease, eight days later (the runs' clock), twice each.
	later := time.Now().Add(8 * 24 * time.Hour)
	for range 2 {
		both(func(db *store.DB) error {
			_, err := licensing.ReclaimTenantRun(ctx, db, tenant, later, nil)
			return err
		})
	}
	if got, want := reclaimCounts(t, super, tenant), fmt.Sprintf("warned %d revoked %d promoted %d events %d pending 0 waiting 0", n, n, n, 3*n); got != want {
		t.Errorf("after concurrent runs past the grace period: %s, want %s", got, want)
	}
}

// A run that fails midway (an error after a license's work, or its
// context cancelled before commit) leaves nothing half-done: no warning,
// history row, event, revocation or promotion of that run remains.
func TestReclaimFailedRunLeavesNothing(t *testing.T) {
	d := apitest.DB(t)
	db, super := d.Open(t), d.SQL(t)
	const n = 5
	tenant, _ := reclaimSetup(t, db, super, "reclaim-fail", n)
	ctx := context.Background()
	before := reclaimCounts(t, super, tenant)
	boom := errors.New("crash after the license's work")
	fail := func(uuid.UUID) error { return boom }
	if _, err := licensing.ReclaimTenantRun(ctx, db, tenant, time.Time{}, fail); !errors.Is(err, boom) {
		t.Fatalf("failing warn run: %v", err)
	}
	if got := reclaimCounts(t, super, tenant); got != before {
		t.Errorf("after a failed warning run: %s, want %s", got, before)
	}
	if _, err := licensing.ReclaimTenantRun(ctx, db, tenant, time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	warned := reclaimCounts(t, super, tenant)
	later := time.Now().Add(8 * 24 * time.Hour)
	if _, err := licensing.ReclaimTenantRun(ctx, db, tenant, later, fail); !errors.Is(err, boom) {
		t.Fatalf("failing revoke run: %v", err)
	}
	if got := reclaimCounts(t, super, tenant); got != warned {
		t.Errorf("after a failed revoking run: %s, want %s", got, warned)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err := licensing.ReclaimTenantRun(cctx, db, tenant, later, func(uuid.UUID) error { cancel(); return nil })
	if err == nil {
		t.Fatal("a run whose context was cancelled before commit succeeded")
	}
	if got := reclaimCounts(t, super, tenant); got != warned {
		t.Errorf("after a cancelled revoking run: %s, want %s", got, warned)
	}
	if _, err := licensing.ReclaimTenantRun(ctx, db, tenant, later, nil); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("warned %d revoked %d promoted %d events %d pending 0 waiting 0", n, n, n, 3*n)
	if got := reclaimCounts(t, super, tenant); got != want {
		t.Errorf("after the run that succeeded: %s, want %s", got, want)
	}
}

// A run's work per license is bounded: 500 warnings a run, the rest at the
// next run.
func TestReclaimBatchBound(t *testing.T) {
	d := apitest.DB(t)
	db, super := d.Open(t), d.SQL(t)
	tenant := apitest.Tenant("reclaim-batch")
	f := apitest.NewFixture(t, db, tenant)
	l := f.License("Wide", 0)
	f.Assign(l, f.People("many", 501)...)
	for _, q := range []string{
		"INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
		"UPDATE assignments SET assigned_at = now() - interval '60 days' WHERE tenant_id = $1",
	} {
		if _, err := super.Exec(q, tenant); err != nil {
			t.Fatal(err)
		}
	}
	actor := licensing.Actor{Tenant: store.Tenant{ID: tenant}, Subject: "admin", SourceType: models.SourceAPI}
	ctx := context.Background()
	if _, err := licensing.SetReclaimPolicy(ctx, db, actor, licensing.ReclaimPolicyInput{LicenseID: gid.License.Format(l.ID),
		InactiveDays: 30, GraceDays: 7, Action: models.ReclaimSuspend}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{500, 1, 0} {
		if n, err := licensing.ReclaimTenantRun(ctx, db, tenant, time.Time{}, nil); err != nil || n != want {
			t.Errorf("run %d: %d seats changed (%v), want %d", i+1, n, err, want)
		}
	}
}
