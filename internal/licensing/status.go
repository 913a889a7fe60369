package licensing

import (
	"time"

	"seatgraph/models"
)

// Status derives an assignment's status at time now, in the order of SPEC
// §2: revoked (a deleted grant counts as revoked: it holds no seat),
// expired (the grant's or the license's end has passed), waitlisted,
// suspended, pending (not yet fulfilled), active.
func Status(a *models.Assignment, now time.Time) models.Status {
	switch {
	case a.RevokedAt != nil || a.IsDeleted:
		return models.StatusRevoked
	case a.ExpiredAt != nil || passed(a.ExpiresAt, now) || passed(a.LicenseExpiresAt, now):
		return models.StatusExpired
	case a.WaitlistedAt != nil:
		return models.StatusWaitlisted
	case !a.Active:
		return models.StatusSuspended
	case !a.Fulfilled:
		return models.StatusPending
	default:
		return models.StatusActive
	}
}

// HoldsSeat says whether an assignment in status st occupies a seat.
func HoldsSeat(st models.Status) bool {
	return st == models.StatusPending || st == models.StatusActive || st == models.StatusSuspended
}

// statusSQL is Status as an SQL expression over assignments a joined with
// their license l; the two must always agree.
const statusSQL = `CASE
	WHEN a.revoked_at IS NOT NULL OR a.is_deleted THEN 'REVOKED'
	WHEN a.expired_at IS NOT NULL OR a.expires_at <= now() OR l.expires_at <= now() THEN 'EXPIRED'
	WHEN a.waitlisted_at IS NOT NULL THEN 'WAITLISTED'
	WHEN NOT a.active THEN 'SUSPENDED'
	WHEN NOT a.fulfilled THEN 'PENDING'
	ELSE 'ACTIVE' END`

func passed(t *time.Time, now time.Time) bool { return t != nil && !t.After(now) }
