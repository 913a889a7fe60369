package licensing

import (
	"time"

	"seatgraph/models"
)

// This file holds the seat rules of SPEC §2, each defined once. Where a
// rule is needed in SQL too, its SQL twin sits beside it, and
// rules_test.go proves over every combination of inputs that the two agree.

// Ended says whether a moment that ends something (an assignment's or a
// license's expiresAt) has come by now. Its SQL twin is endedSQL.
func Ended(end *time.Time, now time.Time) bool { return end != nil && !end.After(now) }

// endedSQL is Ended in SQL for the column col, compared with a time
// argument: "col <= ?" (NULL, an end never set, is never ended).
func endedSQL(col string) string { return col + " <= ?" }

// Expired says whether a license has ended and so grants no new seats
// (rule 5) and ends the seats it gave (rule 8).
func Expired(l *models.License, now time.Time) bool { return Ended(l.ExpiresAt, now) }

// FirstEnd is when an assignment ends: its own end or its license's,
// whichever comes first.
func FirstEnd(a *models.Assignment) *time.Time {
	if a.ExpiresAt == nil || (a.LicenseExpiresAt != nil && a.LicenseExpiresAt.Before(*a.ExpiresAt)) {
		return a.LicenseExpiresAt
	}
	return a.ExpiresAt
}

// Live says whether an assignment still stands: not deleted, revoked or
// ended by the expiry job. A live assignment can be changed, holds a seat
// or waits for one. Its SQL twins are liveSQL and the old_live/new_live
// tests of the assignments_seats trigger.
func Live(a *models.Assignment) bool {
	return !a.IsDeleted && a.RevokedAt == nil && a.ExpiredAt == nil
}

// liveSQL is Live over assignments aliased a.
const liveSQL = "NOT a.is_deleted AND a.revoked_at IS NULL AND a.expired_at IS NULL"

// Status derives an assignment's status at time now, in the order of SPEC
// §2: revoked (a deleted grant counts as revoked: it holds no seat),
// expired (the grant's or the license's end has passed), waitlisted,
// suspended, pending (not yet fulfilled), active. Its SQL twin is
// statusSQL.
func Status(a *models.Assignment, now time.Time) models.Status {
	switch {
	case a.RevokedAt != nil || a.IsDeleted:
		return models.StatusRevoked
	case a.ExpiredAt != nil || Ended(a.ExpiresAt, now) || Ended(a.LicenseExpiresAt, now):
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

// statusSQL is Status as an SQL expression over assignments a joined with
// their license l, at the statement's now().
const statusSQL = `CASE
	WHEN a.revoked_at IS NOT NULL OR a.is_deleted THEN 'REVOKED'
	WHEN a.expired_at IS NOT NULL OR a.expires_at <= now() OR l.expires_at <= now() THEN 'EXPIRED'
	WHEN a.waitlisted_at IS NOT NULL THEN 'WAITLISTED'
	WHEN NOT a.active THEN 'SUSPENDED'
	WHEN NOT a.fulfilled THEN 'PENDING'
	ELSE 'ACTIVE' END`

// SeatStatus says whether an assignment in status st occupies a seat
// (rule 3): pending, active and suspended grants do.
func SeatStatus(st models.Status) bool {
	return st == models.StatusPending || st == models.StatusActive || st == models.StatusSuspended
}

// HoldsSeat says whether assignment a occupies a seat of its license at
// now. A group grant holds none itself: its members' inherited grants do.
// The assignments_seats trigger (migrations, domain) is its SQL twin,
// which keeps seat_holders and the license counters; it counts a grant
// until the expiry job (or a write to the license) ends it, so the two
// agree for every grant whose end has not come.
func HoldsSeat(a *models.Assignment, now time.Time) bool {
	return a.GroupID == nil && SeatStatus(Status(a, now))
}

// Free is how many seats of l are free; nil when l is unlimited.
func Free(l *models.License) *int {
	if l.TotalSeats == nil {
		return nil
	}
	n := max(*l.TotalSeats-l.SeatsUsed, 0)
	return &n
}
