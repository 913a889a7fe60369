package licensing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"seatgraph/internal/lease"
	"seatgraph/internal/store"
)

// expiryLease is the job_leases row that lets one server replica at a
// time run the expiry job. A lease is a row rather than an advisory lock so
// that it holds whichever node of a Citus cluster each replica reaches;
// leaseTTL bounds how long a replica that died mid-run holds up the others
// (a second runner would be harmless, only wasted work).
const (
	expiryLease = "expiry"
	leaseTTL    = 5 * time.Minute
)

// ErrLeaseHeld is ExpireDue's answer when another replica holds the
// job's lease: this run did nothing, and is no sign that the job works.
var ErrLeaseHeld = lease.ErrHeld

// ExpireDue ends, in every tenant, the live grants whose end (or whose
// license's end) has passed: it records EXPIRED events and gives the
// freed seats to the waitlists. Only one replica runs it at a time; the
// others return ErrLeaseHeld at once. It returns how many assignments
// expired.
func ExpireDue(ctx context.Context, db *store.DB) (int, error) {
	return lease.Run(ctx, db, expiryLease, leaseTTL, func(ctx context.Context) (int, error) {
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
	})
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
