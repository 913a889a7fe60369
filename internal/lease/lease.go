// Package lease lets one server replica at a time run a job for every
// tenant (the expiry job, the snapshot job): a lease is a row of
// job_leases (a table, not an advisory lock, so that it holds whichever
// node of a Citus cluster a replica reaches; see docs/scale-out.md). A
// run renews its lease as it goes; a replica that dies holding one loses
// it when it expires. The database's clock decides every expiry.
package lease

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/store"
)

// ErrHeld is the answer when another replica holds the job's lease: this
// run did nothing, and is no sign that the job works.
var ErrHeld = errors.New("another replica holds the job's lease")

// ErrLost is returned by a run that found its lease taken over by another
// replica (it outlived the lease without renewing it in time, for example
// while the database was unreachable) and stopped.
var ErrLost = errors.New("the job's lease was taken over by another replica; run stopped")

// Lease is one run's hold on a job_leases row. Its statements go through
// the store's bun handle, so they are counted and traced like the rest.
type Lease struct {
	db         *store.DB
	job        string
	holder     string
	ttl        time.Duration
	renewAfter time.Duration
	renewed    time.Time // when the lease was last taken or renewed (this process's clock)
}

// Holder names this replica's runs in job_leases: host, process and a
// random part (two runs of one process never share a name).
func Holder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8])
}

// Take takes the lease on job for holder for ttl, renewed by Keep once
// renewAfter has passed; when another holder's lease has not expired it
// returns ErrHeld.
func Take(ctx context.Context, db *store.DB, job, holder string, ttl, renewAfter time.Duration) (*Lease, error) {
	l := &Lease{db: db, job: job, holder: holder, ttl: ttl, renewAfter: renewAfter}
	// The condition compares with the new row's taken_at rather than now():
	// Citus wants no function but IMMUTABLE ones in an ON CONFLICT's WHERE.
	// The claim is not cancelled in flight: pgx answers a cancelled
	// statement at once and drops its connection, and PostgreSQL may still
	// commit the claim after a release sent at once on another connection
	// found nothing to delete (a shutdown then left the lease held). It is
	// one short statement; a cancelled ctx is looked at once it is answered.
	var got string
	err := db.Bun().QueryRowContext(context.WithoutCancel(ctx), `INSERT INTO job_leases AS l (job, holder, taken_at, expires_at)
		VALUES (?, ?, now(), now() + make_interval(secs => ?))
		ON CONFLICT (job) DO UPDATE
		SET holder = excluded.holder, taken_at = excluded.taken_at, expires_at = excluded.expires_at
		WHERE l.expires_at <= excluded.taken_at
		RETURNING l.holder`, job, holder, ttl.Seconds()).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrHeld
	case err != nil:
		return nil, err
	case ctx.Err() != nil:
		// Cancelled while claiming: give back what was just taken.
		l.Release(ctx)
		return nil, ctx.Err()
	}
	l.renewed = time.Now()
	return l, nil
}

// Keep renews the lease for another ttl once renewAfter has passed since
// it was last taken or renewed; it returns ErrLost when the lease is no
// longer this run's.
func (l *Lease) Keep(ctx context.Context) error {
	if time.Since(l.renewed) < l.renewAfter {
		return nil
	}
	res, err := l.db.Bun().ExecContext(ctx, `UPDATE job_leases SET expires_at = now() + make_interval(secs => ?)
		WHERE job = ? AND holder = ?`, l.ttl.Seconds(), l.job, l.holder)
	if err != nil {
		return fmt.Errorf("renew the %s lease: %w", l.job, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return ErrLost
	}
	l.renewed = time.Now()
	return nil
}

// Release gives the lease back, even when ctx has ended (the server waits
// for its jobs before closing the pool); a lease not given back expires
// after ttl.
func (l *Lease) Release(ctx context.Context) {
	_, _ = l.db.Bun().ExecContext(context.WithoutCancel(ctx),
		"DELETE FROM job_leases WHERE job = ? AND holder = ?", l.job, l.holder)
}

// Run runs fn under the lease on job (ttl, renewed by fn's calls to Keep
// once half of it has passed) and gives the lease back when fn returns;
// when another replica holds the lease it returns ErrHeld at once.
func Run(ctx context.Context, db *store.DB, job string, ttl time.Duration, fn func(context.Context, *Lease) (int, error)) (int, error) {
	l, err := Take(ctx, db, job, Holder(), ttl, ttl/2)
	if err != nil {
		return 0, err
	}
	defer l.Release(ctx)
	return fn(ctx, l)
}

// EachTenant runs step for every tenant in tenant order, each on its own
// (one tenant failing does not stop the others: its error is kept, named
// after the tenant), and returns the sum of what the steps counted. A step
// that finds the run's lease lost (ErrLost) stops the run.
func EachTenant(ctx context.Context, db *store.DB, step func(ctx context.Context, tenant string) (int, error)) (int, error) {
	var tenants []string
	if err := db.Bun().NewSelect().Table("tenants").Column("tenant_id").Order("tenant_id").Scan(ctx, &tenants); err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, tenant := range tenants {
		n, err := step(ctx, tenant)
		total += n
		if errors.Is(err, ErrLost) {
			return total, errors.Join(append(errs, err)...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tenant, err))
		}
	}
	return total, errors.Join(errs...)
}
