package licensing_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"seatgraph/internal/apitest"
	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
)

// dueGrant gives tenant (listed in tenants, as the job wants) a grant
// whose end has passed, and returns its id.
func dueGrant(t *testing.T, db *store.DB, super *sql.DB, tenant string) uuid.UUID {
	t.Helper()
	f := apitest.NewFixture(t, db, tenant)
	a := f.Assign(f.License("Due", 1), f.Person("due@"+tenant+".example"))[0]
	for _, q := range []string{
		"INSERT INTO tenants (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
		"UPDATE assignments SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1 AND id = $2",
	} {
		args := []any{tenant}
		if q[0] == 'U' {
			args = append(args, a.ID)
		}
		if _, err := super.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	return a.ID
}

func isExpired(t *testing.T, super *sql.DB, tenant string, id uuid.UUID) bool {
	t.Helper()
	var expired bool
	err := super.QueryRow("SELECT expired_at IS NOT NULL FROM assignments WHERE tenant_id = $1 AND id = $2", tenant, id).Scan(&expired)
	if err != nil {
		t.Fatal(err)
	}
	return expired
}

// A run whose lease another replica took over (because the run outlived
// it) stops before the next tenant instead of working beside the new
// holder, and leaves the new holder's lease alone.
func TestExpiryStopsWhenLeaseLost(t *testing.T) {
	d := apitest.DB(t)
	db, super := d.Open(t), d.SQL(t)
	first, second := apitest.Tenant("lease-a"), apitest.Tenant("lease-b")
	a, b := dueGrant(t, db, super, first), dueGrant(t, db, super, second)
	t.Cleanup(func() { _, _ = super.Exec("DELETE FROM job_leases WHERE job = 'expiry'") })

	_, err := licensing.ExpireDueRenewingEachTenant(context.Background(), db, func(tenant string) {
		if tenant == second { // in the middle of the run, another replica takes the lease over
			if _, err := super.Exec("UPDATE job_leases SET holder = 'other-replica' WHERE job = 'expiry'"); err != nil {
				t.Error(err)
			}
		}
	})
	if !errors.Is(err, licensing.ErrLeaseLost) {
		t.Errorf("ExpireDue after losing its lease: %v, want ErrLeaseLost", err)
	}
	if !isExpired(t, super, first, a) {
		t.Errorf("the grant of the tenant visited before the lease was lost did not expire")
	}
	if isExpired(t, super, second, b) {
		t.Errorf("the run went on after another replica took its lease: it expired a grant of a later tenant")
	}
	var holder string
	if err := super.QueryRow("SELECT holder FROM job_leases WHERE job = 'expiry'").Scan(&holder); err != nil || holder != "other-replica" {
		t.Errorf("the lease after the run: holder %q (%v), want the other replica's lease left alone", holder, err)
	}
}

// Of many replicas claiming a free lease at the same moment, exactly one
// gets it.
func TestLeaseClaimedOnce(t *testing.T) {
	d := apitest.DB(t)
	db, super := d.Open(t), d.SQL(t)
	job := fmt.Sprintf("claim-test-%s", uuid.NewString())
	t.Cleanup(func() { _, _ = super.Exec("DELETE FROM job_leases WHERE job = $1", job) })

	const n = 16
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		won   []string
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			holder := fmt.Sprintf("replica-%d", i)
			got, err := licensing.TakeLease(context.Background(), db, job, holder)
			if err != nil {
				t.Error(err)
			}
			if got {
				mu.Lock()
				won = append(won, holder)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("%d of %d concurrent claims won the lease (%v), want exactly 1", len(won), n, won)
	}
	var holder string
	if err := super.QueryRow("SELECT holder FROM job_leases WHERE job = $1", job).Scan(&holder); err != nil || holder != won[0] {
		t.Errorf("lease row holder %q (%v), want the winner %s", holder, err, won[0])
	}
}
