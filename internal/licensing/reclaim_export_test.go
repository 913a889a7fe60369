package licensing

import (
	"context"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/store"
)

// ReclaimTenantRun runs tenant's reclaim policies once without the job's
// lease (two such runs at once stand for two replicas whose leases
// overlapped), on the clock at (zero: the database's); inside, when set,
// is called in each license's transaction after its work, before commit.
func ReclaimTenantRun(ctx context.Context, db *store.DB, tenant string, at time.Time, inside func(license uuid.UUID) error) (int, error) {
	run := reclaimRun{at: at}
	if inside != nil {
		run.inside = func(_ string, license uuid.UUID) error { return inside(license) }
	}
	return reclaimTenant(ctx, db, tenant, run, func(context.Context) error { return nil })
}
