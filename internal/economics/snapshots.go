package economics

import (
	"context"
	"time"

	"seatgraph/internal/lease"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// The snapshot job's lease, and how far back it fills days it missed.
const (
	snapshotLease = "snapshots"
	leaseTTL      = 60 * time.Second
	// MaxCatchUpDays bounds the days one run fills after an outage.
	MaxCatchUpDays = 400
)

// TakeSnapshots records, in every tenant, each license's seats for today
// (the UTC day of the database's clock) and fills the days the job missed
// since each license's last snapshot. Only one replica runs it at a time
// (a job_leases lease); the others return lease.ErrHeld at once. Run again the same
// day, it overwrites today's rows with the newer counters, so each day's
// row is its last observation; running it twice in a row changes nothing.
// It returns how many snapshot rows it wrote.
func TakeSnapshots(ctx context.Context, db *store.DB) (int, error) {
	return lease.Run(ctx, db, snapshotLease, leaseTTL, func(ctx context.Context, l *lease.Lease) (int, error) {
		return lease.EachTenant(ctx, db, func(ctx context.Context, tenant string) (int, error) {
			if err := l.Keep(ctx); err != nil {
				return 0, err
			}
			return SnapshotTenant(ctx, db, tenant)
		})
	})
}

// SnapshotTenant is TakeSnapshots for one tenant, without the lease, in
// one transaction of that tenant.
//
// A day the job missed (the server was down) repeats the last snapshot
// before it: the counters changed at some unknown moment of the gap, and
// the last value seen is the best statement of it. The first run after the
// gap records the counters of its own day.
func SnapshotTenant(ctx context.Context, db *store.DB, tenant string) (int, error) {
	written := 0
	err := db.Write(ctx, store.Tenant{ID: tenant}, func(s store.Scope) error {
		day, now, err := today(ctx, s)
		if err != nil {
			return err
		}
		live := s.Select((*models.License)(nil)).Column("l.id").Where("NOT l.is_deleted")

		// Missed days: each license's last snapshot before today, repeated
		// on every day after it up to yesterday.
		last := s.Select((*models.LicenseSnapshot)(nil)).
			Where("ls.license_id = lic.id").Where("ls.day < ?::date", date(day)).
			OrderExpr("ls.day DESC").Limit(1)
		fill := s.Compose().
			TableExpr("(?) AS lic", live).
			Join("CROSS JOIN LATERAL (?) AS prev", last).
			Join("CROSS JOIN LATERAL generate_series(greatest(prev.day + 1, ?::date - ?), ?::date - 1, interval '1 day') AS d(day)",
				date(day), MaxCatchUpDays, date(day)).
			ColumnExpr("prev.tenant_id, prev.license_id, d.day::date, prev.seats_total, prev.seats_used, prev.seats_pending, " +
				"prev.seats_waitlisted, prev.holders_active, prev.taken_at")
		res, err := s.Exec(ctx, `INSERT INTO license_snapshots (tenant_id, license_id, day, seats_total, seats_used,
			seats_pending, seats_waitlisted, holders_active, taken_at) ? ON CONFLICT DO NOTHING`, fill)
		if err != nil {
			return err
		}
		written += affected(res)

		// Today: the license counters and the holders active in the last
		// ActiveDays days.
		current := s.Select((*models.License)(nil)).
			Join("LEFT JOIN (?) AS act ON act.license_id = l.id", activeHolders(s, live, now.Add(-days(ActiveDays)))).
			Where("NOT l.is_deleted").
			ColumnExpr("l.tenant_id, l.id, ?::date, l.total_seats, l.seats_used, l.seats_pending, l.seats_waitlisted, "+
				"coalesce(act.n, 0), ?", date(day), now)
		res, err = s.Exec(ctx, `INSERT INTO license_snapshots (tenant_id, license_id, day, seats_total, seats_used,
			seats_pending, seats_waitlisted, holders_active, taken_at) ?
			ON CONFLICT (tenant_id, license_id, day) DO UPDATE SET seats_total = excluded.seats_total,
			seats_used = excluded.seats_used, seats_pending = excluded.seats_pending,
			seats_waitlisted = excluded.seats_waitlisted, holders_active = excluded.holders_active,
			taken_at = excluded.taken_at`, current)
		if err != nil {
			return err
		}
		written += affected(res)
		return nil
	})
	return written, err
}

func affected(res interface{ RowsAffected() (int64, error) }) int {
	n, _ := res.RowsAffected()
	return int(n)
}
