package licensing

import (
	"time"

	"seatgraph/models"
)

// This file holds the seat rules of SPEC §2, each defined once. Where a
// rule is needed in SQL too, its SQL twin sits beside it, and
// rules_sql_test.go proves over every combination of inputs that the two agree.

// ended says whether a moment that ends something (an assignment's or a
// license's expiresAt) has come by now. Its SQL twin is endedSQL.
func ended(end *time.Time, now time.Time) bool { return end != nil && !end.After(now) }

// endedSQL is ended in SQL for the column col, compared with a time
// argument: "col <= ?" (NULL, an end never set, is never ended).
func endedSQL(col string) string { return col + " <= ?" }

// Expired says whether a license has ended and so grants no new seats
// (rule 5) and ends the seats it gave (rule 8).
func Expired(l *models.License, now time.Time) bool { return ended(l.ExpiresAt, now) }

// firstEnd is when an assignment ends: its own end or its license's,
// whichever comes first.
func firstEnd(a *models.Assignment) *time.Time {
	if a.ExpiresAt == nil || (a.LicenseExpiresAt != nil && a.LicenseExpiresAt.Before(*a.ExpiresAt)) {
		return a.LicenseExpiresAt
	}
	return a.ExpiresAt
}

// live says whether an assignment still stands: not deleted, revoked or
// ended by the expiry job. A live assignment can be changed, holds a seat
// or waits for one. Its SQL twins are liveSQL and the old_live/new_live
// tests of the assignments_seats trigger.
func live(a *models.Assignment) bool {
	return !a.IsDeleted && a.RevokedAt == nil && a.ExpiredAt == nil
}

// liveSQL is live over assignments aliased a.
const liveSQL = "NOT a.is_deleted AND a.revoked_at IS NULL AND a.expired_at IS NULL"

// Status derives an assignment's status at time now, in the order of SPEC
// §2: revoked (a deleted grant counts as revoked: it holds no seat),
// expired (the grant's or the license's end has passed), deactivated (the
// assignee person is deactivated, seat rule 9: the engine keeps
// deactivatedAt in step with the person), waitlisted, suspended, pending
// (not yet fulfilled), active. Its SQL twin is statusSQL.
func Status(a *models.Assignment, now time.Time) models.Status {
	switch {
	case a.RevokedAt != nil || a.IsDeleted:
		return models.StatusRevoked
	case a.ExpiredAt != nil || ended(a.ExpiresAt, now) || ended(a.LicenseExpiresAt, now):
		return models.StatusExpired
	case a.DeactivatedAt != nil:
		return models.StatusDeactivated
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
	WHEN a.deactivated_at IS NOT NULL THEN 'DEACTIVATED'
	WHEN a.waitlisted_at IS NOT NULL THEN 'WAITLISTED'
	WHEN NOT a.active THEN 'SUSPENDED'
	WHEN NOT a.fulfilled THEN 'PENDING'
	ELSE 'ACTIVE' END`

// holdsSeat says whether assignment a occupies a seat of its license, as
// stored (rule 3): it is live and not waiting, it is not a group grant (a
// group grant holds none itself: its members' inherited grants do), and
// its person is not deactivated (rule 9: a deactivated grant neither holds
// a seat nor waits for one). A grant whose end has passed keeps its seat
// until the expiry job, or the next write to its license, ends it; reads
// show it EXPIRED meanwhile, and nothing can take that seat before it is
// freed. The assignments_seats trigger (migrations: domain, then
// person_active) is its SQL twin.
func holdsSeat(a *models.Assignment) bool {
	return live(a) && a.WaitlistedAt == nil && a.GroupID == nil && a.DeactivatedAt == nil
}

// HoldsSeatSQL is holdsSeat over assignments a, for the reports that
// count seat holders (internal/economics); TestHoldsSeatAgreesWithTrigger
// proves it agrees with holdsSeat and the trigger.
const HoldsSeatSQL = liveSQL + " AND a.waitlisted_at IS NULL AND a.group_id IS NULL AND a.deactivated_at IS NULL"

// hasFreeSQL says, over licenses l, that a seat is free: License.Free is nil or
// above zero.
const hasFreeSQL = "(l.total_seats IS NULL OR l.seats_used < l.total_seats)"
