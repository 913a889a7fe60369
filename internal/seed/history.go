package seed

import (
	"context"

	"seatgraph/internal/store"
)

// historyDays is how many days of utilisation history the demo tenant
// gets, so that the playground shows trends at once.
const historyDays = 180

// backfill writes the daily utilisation snapshots the server's job would
// have taken over the last days days (up to yesterday, from each license's
// creation), rebuilt from the seeded grants' own times: a holder held a
// seat on a day when a grant of theirs had been assigned by its end and
// not yet revoked or ended; a grant still waitlisted waited from its
// waitlisted_at. Each grant keeps only its last use, so a holder counts
// as active on a day when that last use is less than 30 days before the
// day's end or after it (a user who used the seat lately is taken to have
// used it all along): believable for a demo, and written only by the seed.
func backfill(ctx context.Context, db *store.DB, tenant string, days int) error {
	return db.Write(ctx, store.Tenant{ID: tenant}, func(s store.Scope) error {
		_, err := s.Exec(ctx, `
INSERT INTO license_snapshots (tenant_id, license_id, day, seats_total, seats_used, seats_pending,
                               seats_waitlisted, holders_active, taken_at)
SELECT l.tenant_id, l.id, d.day, l.total_seats,
       count(DISTINCT h.holder) FILTER (WHERE h.waiting IS NULL),
       count(DISTINCT h.holder) FILTER (WHERE h.waiting IS NULL AND NOT h.fulfilled),
       count(*) FILTER (WHERE h.waiting IS NOT NULL),
       count(DISTINCT h.holder) FILTER (WHERE h.waiting IS NULL AND h.last_used_at >= d.ends - interval '30 days'),
       d.ends - interval '1 minute'
  FROM licenses l
 CROSS JOIN LATERAL (
       SELECT g::date AS day, (g::date + 1)::timestamp AT TIME ZONE 'UTC' AS ends
         FROM generate_series(greatest((l.created_at AT TIME ZONE 'UTC')::date,
                                       (now() AT TIME ZONE 'UTC')::date - ?),
                              (now() AT TIME ZONE 'UTC')::date - 1, interval '1 day') AS g) AS d
  LEFT JOIN LATERAL (
       SELECT coalesce(a.person_id::text, 'email:' || lower(a.email)) AS holder, a.fulfilled, a.last_used_at,
              a.waitlisted_at AS waiting
         FROM assignments a
        WHERE a.tenant_id = l.tenant_id AND a.license_id = l.id AND a.group_id IS NULL AND NOT a.is_deleted
          AND a.assigned_at < d.ends
          AND (a.waitlisted_at IS NULL OR a.waitlisted_at < d.ends)
          AND (a.revoked_at IS NULL OR a.revoked_at >= d.ends)
          AND (a.expired_at IS NULL OR a.expired_at >= d.ends)
          AND (a.deactivated_at IS NULL OR a.deactivated_at >= d.ends)
          AND (a.expires_at IS NULL OR a.expires_at >= d.ends)
          AND (l.expires_at IS NULL OR l.expires_at >= d.ends)) AS h ON true
 WHERE l.tenant_id = ? AND NOT l.is_deleted
 GROUP BY l.tenant_id, l.id, d.day, d.ends, l.total_seats
ON CONFLICT DO NOTHING`, days, tenant)
		return err
	})
}
