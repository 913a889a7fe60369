package licensing

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/lease"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// expiryLease is the job_leases row that lets one server replica at a
// time run the expiry job. A lease is a row rather than an advisory lock so
// that it holds whichever node of a Citus cluster each replica reaches.
// leaseTTL bounds how long a replica that died mid-run holds up the
// others; a run longer than that keeps its lease by renewing it (see
// lease.Keep), so two replicas never run the job at once.
const (
	expiryLease = "expiry"
	leaseTTL    = 60 * time.Second
)

// ErrLeaseHeld is ExpireDue's answer when another replica holds the
// job's lease: this run did nothing, and is no sign that the job works.
var ErrLeaseHeld = lease.ErrHeld

// ErrLeaseLost is returned by a run that found its lease taken over by
// another replica (it outlived the lease without renewing it in time, for
// example while the database was unreachable) and stopped.
var ErrLeaseLost = lease.ErrLost

// ExpireDue ends, in every tenant, the live grants whose end (or whose
// license's end) has passed: it records EXPIRED events and gives the
// freed seats to the waitlists; it also prunes the tenant's unused email
// locks. Only one replica runs it at a time; the others return
// ErrLeaseHeld at once. It returns how many assignments expired.
func ExpireDue(ctx context.Context, db *store.DB) (int, error) {
	return expireDue(ctx, db, leaseTTL/2, nil)
}

// expireDue is ExpireDue renewing the lease before a tenant once renewAfter
// has passed since it was taken or last renewed; before, when set, is
// called before each tenant (tests use it to act in the middle of a run).
func expireDue(ctx context.Context, db *store.DB, renewAfter time.Duration, before func(tenant string)) (int, error) {
	l, err := lease.Take(ctx, db, expiryLease, lease.Holder(), leaseTTL, renewAfter)
	if err != nil {
		return 0, err
	}
	defer l.Release(ctx)

	return lease.EachTenant(ctx, db, func(ctx context.Context, tenant string) (int, error) {
		if before != nil {
			before(tenant)
		}
		if err := l.Keep(ctx); err != nil {
			return 0, err
		}
		n, err := ExpireTenant(ctx, db, tenant)
		if err == nil {
			err = pruneEmailLocks(ctx, db, tenant)
		}
		return n, err
	})
}

// ExpireTenant is ExpireDue for one tenant, without the lease.
//
// The due grants are found by two index-driven queries rather than one
// OR across the join (which no index serves): grants whose own end has
// passed (assignments_due_at_idx), and the live grants of licenses that
// have ended and still have any (licenses_expires_idx; a license still has
// live grants exactly when its counters count a holder or a waiting grant,
// or it has a live group grant (assignments_live_group_key) or a live
// grant of a deactivated person, which holds no seat
// (assignments_live_deactivated_idx): the trigger's rules, migrations).
func ExpireTenant(ctx context.Context, db *store.DB, tenant string) (int, error) {
	n := 0
	err := Write(ctx, db, system(tenant), nil, func(t *Tx) error {
		own := t.s.Select((*models.Assignment)(nil)).Column("a.id").Where(liveSQL).Where(endedSQL("a.expires_at"), t.now)
		byLicense := joinLicenses(t.s).Column("a.id").Where(liveSQL).
			Where("coalesce(l.expires_at, 'infinity'::timestamptz) <= ?", t.now).
			// (The subqueries compare tenant_id with the tenant's value, not
			// with l.tenant_id: Citus then finds their one shard; else the
			// query ran on every shard.)
			Where(`(l.seats_used > 0 OR l.seats_waitlisted > 0
				OR EXISTS (SELECT FROM assignments AS g WHERE g.tenant_id = ? AND g.license_id = l.id
				   AND g.group_id IS NOT NULL AND NOT g.is_deleted AND g.revoked_at IS NULL AND g.expired_at IS NULL)
				OR EXISTS (SELECT FROM assignments AS d WHERE d.tenant_id = ? AND d.license_id = l.id
				   AND d.deactivated_at IS NOT NULL AND NOT d.is_deleted AND d.revoked_at IS NULL AND d.expired_at IS NULL))`,
				tenant, tenant)
		var ids []uuid.UUID
		if err := own.Union(byLicense).Scan(t.ctx, &ids); err != nil || len(ids) == 0 {
			return err
		}
		due, _, err := t.lockGrants(t.s, func(q *bun.SelectQuery) *bun.SelectQuery {
			// Still due under the locks: a writer may have ended some meanwhile.
			return q.Where("a.id = ANY(?)", store.UUIDs(ids)).WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Where(endedSQL("a.expires_at"), t.now).WhereOr(endedSQL("l.expires_at"), t.now)
			})
		})
		if err != nil {
			return err
		}
		n = len(due)
		return t.expire(due)
	})
	return n, err
}

// pruneEmailLocks deletes, a batch at a time, the tenant's email_locks
// rows that no transaction holds. A row there is only a lock while a
// transaction holds it (LockEmail); between transactions it means
// nothing, and LockEmail inserts it again when the address is next
// locked. SKIP LOCKED leaves the held rows alone, and a LockEmail that
// meets a row this deletes waits for the delete, then inserts its own row
// (PostgreSQL retries an ON CONFLICT whose conflicting row went away), so
// pruning never lets two transactions hold one address.
func pruneEmailLocks(ctx context.Context, db *store.DB, tenant string) error {
	return db.Write(ctx, store.Tenant{ID: tenant}, func(s store.Scope) error {
		_, err := s.Exec(ctx, `WITH unused AS (
			SELECT tenant_id, email FROM email_locks WHERE tenant_id = ? ORDER BY email LIMIT 1000 FOR UPDATE SKIP LOCKED)
			DELETE FROM email_locks e USING unused
			WHERE e.tenant_id = ? AND e.tenant_id = unused.tenant_id AND e.email = unused.email`, tenant, tenant)
		return err
	})
}
