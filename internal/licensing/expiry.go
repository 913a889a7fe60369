package licensing

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"seatgraph/internal/store"
)

// expiryLock is the advisory lock key that makes one server replica at a
// time run the expiry job.
const expiryLock = 7_406_221_001

// ExpireDue ends, in every tenant, the live grants whose end (or whose
// license's end) has passed: it records EXPIRED events and gives the
// freed seats to the waitlists. Only one replica runs it at a time; the
// others return at once. It returns how many assignments expired.
func ExpireDue(ctx context.Context, db *store.DB) (int, error) {
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var locked bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", expiryLock).Scan(&locked); err != nil || !locked {
		return 0, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", expiryLock) //nolint:errcheck

	var tenants []string
	if err := db.Bun().NewSelect().Table("tenants").Column("tenant_id").Order("tenant_id").Scan(ctx, &tenants); err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, tenant := range tenants {
		// One tenant failing must not stop the others' seats from expiring.
		n, err := ExpireTenant(ctx, db, tenant)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tenant, err))
		}
		total += n
	}
	return total, errors.Join(errs...)
}

// ExpireTenant is ExpireDue for one tenant, without the advisory lock.
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
