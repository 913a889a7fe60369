// Package lease lets one server replica at a time run a job for every
// tenant (the expiry job, the snapshot job): a lease is a row of job_leases (a table, not an advisory lock,
// so that it holds whichever node of a Citus cluster a replica reaches;
// see docs/scale-out.md). A replica that dies holding a lease loses it
// when it expires; the database's clock decides.
package lease

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/store"
)

// ErrHeld is Run's answer when another replica holds the job's lease:
// this run did nothing, and is no sign that the job works.
var ErrHeld = errors.New("another replica holds the job's lease")

// Run runs fn when this replica can take the lease on job for ttl, and
// gives the lease back when fn returns; when another replica holds an
// unexpired lease it returns ErrHeld at once without running fn.
func Run(ctx context.Context, db *store.DB, job string, ttl time.Duration, fn func(context.Context) (int, error)) (int, error) {
	holder := uuid.NewString()
	got, err := take(ctx, db, job, holder, ttl)
	if err == nil && !got {
		err = ErrHeld
	}
	if err != nil {
		return 0, err
	}
	defer db.SQL().ExecContext(context.WithoutCancel(ctx), //nolint:errcheck // an unreturned lease expires
		"DELETE FROM job_leases WHERE job = $1 AND holder = $2", job, holder)
	return fn(ctx)
}

// take takes the lease on job for holder unless another holder's has not
// expired yet. (The condition compares with the new row's taken_at, not
// now(): Citus accepts only IMMUTABLE functions in an ON CONFLICT's WHERE.)
func take(ctx context.Context, db *store.DB, job, holder string, ttl time.Duration) (bool, error) {
	var got string
	err := db.SQL().QueryRowContext(ctx, `INSERT INTO job_leases AS l (job, holder, taken_at, expires_at)
		VALUES ($1, $2, now(), now() + make_interval(secs => $3))
		ON CONFLICT (job) DO UPDATE
		SET holder = excluded.holder, taken_at = excluded.taken_at, expires_at = excluded.expires_at
		WHERE l.expires_at <= excluded.taken_at
		RETURNING l.holder`, job, holder, ttl.Seconds()).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
