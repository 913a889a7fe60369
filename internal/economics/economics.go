// Package economics answers what seats cost and how they are used (SPEC
// §9): a license's utilisation over time, from the daily snapshots its
// job keeps; usage and wasted spend; renewals with a suggested seat
// count; and the assignments export. Reads go through store sessions, so
// they are tenant- and app-scoped like every other read; money is
// computed by PostgreSQL's exact numeric type and handed on as decimal
// strings, never as floats.
package economics

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"seatgraph/internal/licensing"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// ActiveDays is the window of the utilisation series' active holders:
// holders with usage recorded in the 30 days before the bucket's end.
const ActiveDays = 30

// holderSQL is the seat holder of an assignment a (its person, or its
// invited address), as the seat trigger keys seat_holders; its Go twin is
// models.Assignment.Holder.
const holderSQL = "coalesce(a.person_id::text, 'email:' || lower(a.email))"

// today reads the database's clock: the UTC day and the instant every
// figure of a report is computed at (SPEC: the database's clock decides).
func today(ctx context.Context, s store.Scope) (day, now time.Time, err error) {
	err = s.Compose().ColumnExpr("(now() AT TIME ZONE 'UTC')::date, now()").Scan(ctx, &day, &now)
	return day.UTC(), now, err
}

// holdingGrants starts a query over the seat-holding grants of the
// licenses whose ids licenses selects, compared with licenseCol
// (a.license_id, or licensing.LastUseLicense once the query joins
// assignment_use); tenant-wide, because a license's figures count every
// holder whichever app assigned them (as its seats counters do).
func holdingGrants(s store.Scope, licenseCol string, licenses *bun.SelectQuery) *bun.SelectQuery {
	return s.Tenantwide().Select((*models.Assignment)(nil)).
		Where(licenseCol+" IN (?)", licenses).Where(licensing.HoldsSeatSQL)
}

// activeHolders counts, per license among licenses, the holders with
// usage recorded since cutoff (a time, or an SQL expression from since):
// a range of assignment_use_license_idx per license, the licenses
// compared on assignment_use alone (licensing.LastUseJoin says why).
func activeHolders(s store.Scope, licenses *bun.SelectQuery, cutoff any) *bun.SelectQuery {
	return holdingGrants(s, licensing.LastUseLicense, licenses).Join(licensing.LastUseJoin).
		ColumnExpr("a.license_id, count(DISTINCT "+holderSQL+") AS n").
		Where(licensing.LastUseSQL+" >= ?", cutoff).
		GroupExpr("a.license_id")
}

// licenseIDs selects the ids of the licenses the scope may read among ids
// (every license of the scope when ids is nil), deleted ones included
// when deleted is true.
func licenseIDs(s store.Scope, ids []uuid.UUID, deleted bool) *bun.SelectQuery {
	q := s.Select((*models.License)(nil)).Column("l.id")
	if ids != nil {
		q = q.Where("l.id IN (?)", bun.List(ids))
	}
	if !deleted {
		q = q.Where("NOT l.is_deleted")
	}
	return q
}

// since is the SQL instant n days before the transaction's now().
func since(n int) schema.QueryAppender { return bun.SafeQuery("now() - make_interval(days => ?)", n) }

// days is n days.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
