package licensing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/store"
)

// expiryLease is the job_leases row that lets one server replica at a
// time run the expiry job. A lease is a row rather than an advisory lock so
// that it holds whichever node of a Citus cluster each replica reaches.
// leaseTTL bounds how long a replica that died mid-run holds up the
// others; a run longer than that keeps its lease by renewing it (see
// jobLease.keep), so two replicas never run the job at once.
const (
	expiryLease = "expiry"
	leaseTTL    = 60 * time.Second
)

// ErrLeaseHeld is ExpireDue's answer when another replica holds the
// job's lease: this run did nothing, and is no sign that the job works.
var ErrLeaseHeld = errors.New("another replica holds the expiry job's lease")

// ErrLeaseLost is returned by a run that found its lease taken over by
// another replica (it outlived the lease without renewing it in time, for
// example while the database was unreachable) and stopped.
var ErrLeaseLost = errors.New("the job's lease was taken over by another replica; run stopped")

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
	lease := &jobLease{db: db, job: expiryLease, holder: holderName(), ttl: leaseTTL, renewAfter: renewAfter}
	if got, err := lease.take(ctx); err != nil || !got {
		if err == nil {
			err = ErrLeaseHeld
		}
		return 0, err
	}
	defer lease.release(ctx)

	var tenants []string
	if err := db.Bun().NewSelect().Table("tenants").Column("tenant_id").Order("tenant_id").Scan(ctx, &tenants); err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, tenant := range tenants {
		if before != nil {
			before(tenant)
		}
		if err := lease.keep(ctx); err != nil {
			return total, errors.Join(append(errs, err)...)
		}
		// One tenant failing must not stop the others' seats from expiring.
		n, err := ExpireTenant(ctx, db, tenant)
		if err == nil {
			err = pruneEmailLocks(ctx, db, tenant)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tenant, err))
		}
		total += n
	}
	return total, errors.Join(errs...)
}

// holderName names this replica's run in job_leases: host, process and a
// random part (two runs of one process never share a name).
func holderName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8])
}

// jobLease is one run's hold on a job_leases row. Its statements go
// through the store's bun handle, so they are counted and traced like the
// rest; the database's clock decides every expiry.
type jobLease struct {
	db         *store.DB
	job        string
	holder     string
	ttl        time.Duration
	renewAfter time.Duration
	renewed    time.Time // when the lease was last taken or renewed (this process's clock)
}

// take takes the lease unless another holder's has not expired yet. (The
// condition compares with the new row's taken_at rather than now(): Citus
// wants no function but IMMUTABLE ones in an ON CONFLICT's WHERE.)
func (l *jobLease) take(ctx context.Context) (bool, error) {
	var got string
	err := l.db.Bun().QueryRowContext(ctx, `INSERT INTO job_leases AS l (job, holder, taken_at, expires_at)
		VALUES (?, ?, now(), now() + make_interval(secs => ?))
		ON CONFLICT (job) DO UPDATE
		SET holder = excluded.holder, taken_at = excluded.taken_at, expires_at = excluded.expires_at
		WHERE l.expires_at <= excluded.taken_at
		RETURNING l.holder`, l.job, l.holder, l.ttl.Seconds()).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	l.renewed = time.Now()
	return err == nil, err
}

// keep renews the lease for another ttl once renewAfter has passed since
// it was last taken or renewed; it returns ErrLeaseLost when the lease is
// no longer this run's.
func (l *jobLease) keep(ctx context.Context) error {
	if time.Since(l.renewed) < l.renewAfter {
		return nil
	}
	res, err := l.db.Bun().ExecContext(ctx, `UPDATE job_leases SET expires_at = now() + make_interval(secs => ?)
		WHERE job = ? AND holder = ?`, l.ttl.Seconds(), l.job, l.holder)
	if err != nil {
		return fmt.Errorf("renew the %s lease: %w", l.job, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return ErrLeaseLost
	}
	l.renewed = time.Now()
	return nil
}

// release gives the lease back, even when ctx has ended (the server
// waits for its jobs before closing the pool); a lease not given back
// expires after ttl.
func (l *jobLease) release(ctx context.Context) {
	_, _ = l.db.Bun().ExecContext(context.WithoutCancel(ctx),
		"DELETE FROM job_leases WHERE job = ? AND holder = ?", l.job, l.holder)
}

// ExpireTenant is ExpireDue for one tenant, without the lease.
func ExpireTenant(ctx context.Context, db *store.DB, tenant string) (int, error) {
	n := 0
	err := Write(ctx, db, system(tenant), nil, func(t *Tx) error {
		due, _, err := t.lockGrants(t.s, func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
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
