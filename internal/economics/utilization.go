package economics

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// The utilisation intervals: a bucket is a UTC day, an ISO week (Monday
// to Sunday) or a calendar month.
const (
	Day   = "DAY"
	Week  = "WEEK"
	Month = "MONTH"
)

// MaxBuckets bounds the buckets one utilisation series may have.
const MaxBuckets = 400

// UtilizationArgs select a utilisation series: the days from From to To
// (UTC days; To defaults to today and is capped at it), in buckets of
// Interval (DAY unless told otherwise).
type UtilizationArgs struct {
	From     time.Time
	To       *time.Time
	Interval *string
}

// Bucket is one bucket of a utilisation series. Its figures are those of
// its last day with a value (a day's snapshot, or today's live counters);
// PeakUsed is the most seats used on any of its days.
type Bucket struct {
	Start, End time.Time
	// Total is nil when unlimited (tenant-wide: the limited licenses' sum).
	Total      *int
	Used       int
	Pending    int
	Waitlisted int
	Active     int
	PeakUsed   int
	Days       int
}

// dayRow is one day's figures of one license (or of the tenant).
type dayRow struct {
	LicenseID  uuid.UUID `bun:"license_id"`
	Day        time.Time `bun:"day"`
	Total      *int      `bun:"total"`
	Used       int       `bun:"used"`
	Pending    int       `bun:"pending"`
	Waitlisted int       `bun:"waitlisted"`
	Active     int       `bun:"active"`
}

// Utilization reads the utilisation series of each license in ids the
// caller may read, in one statement: the snapshots of the days before
// today and, when the range reaches today, the live counters.
func Utilization(ctx context.Context, sess *store.Session, ids []uuid.UUID, a UtilizationArgs) (map[uuid.UUID][]*Bucket, error) {
	return series(ctx, sess, a, func(s store.Scope, from, to, day time.Time) *bun.SelectQuery {
		snap := s.Select((*models.LicenseSnapshot)(nil)).
			ColumnExpr("ls.license_id, ls.day, ls.seats_total AS total, ls.seats_used AS used, ls.seats_pending AS pending").
			ColumnExpr("ls.seats_waitlisted AS waitlisted, ls.holders_active AS active").
			Where("ls.license_id IN (?)", licenseIDs(s, ids, true)).
			Where("ls.day >= ?::date AND ls.day <= ?::date AND ls.day < ?::date", date(from), date(to), date(day))
		if to.Before(day) {
			return snap
		}
		lic := licenseIDs(s, ids, false)
		live := s.Select((*models.License)(nil)).
			Join("LEFT JOIN (?) AS act ON act.license_id = l.id", activeHolders(s, lic, since(ActiveDays))).
			ColumnExpr("l.id AS license_id, ?::date AS day, l.total_seats AS total, l.seats_used AS used", date(day)).
			ColumnExpr("l.seats_pending AS pending, l.seats_waitlisted AS waitlisted, coalesce(act.n, 0) AS active").
			Where("l.id IN (?)", bun.List(ids)).Where("NOT l.is_deleted")
		return snap.UnionAll(live)
	})
}

// TenantUtilization is the utilisation series of every license the caller
// may read, summed per day (deleted licenses count on the days they had
// snapshots). Total sums the limited licenses' seats only.
func TenantUtilization(ctx context.Context, sess *store.Session, a UtilizationArgs) ([]*Bucket, error) {
	m, err := series(ctx, sess, a, func(s store.Scope, from, to, day time.Time) *bun.SelectQuery {
		snap := s.Select((*models.LicenseSnapshot)(nil)).
			ColumnExpr("?::uuid AS license_id, ls.day, sum(ls.seats_total)::int AS total, sum(ls.seats_used)::int AS used", uuid.Nil).
			ColumnExpr("sum(ls.seats_pending)::int AS pending, sum(ls.seats_waitlisted)::int AS waitlisted").
			ColumnExpr("sum(ls.holders_active)::int AS active").
			Where("ls.license_id IN (?)", licenseIDs(s, nil, true)).
			Where("ls.day >= ?::date AND ls.day <= ?::date AND ls.day < ?::date", date(from), date(to), date(day)).
			GroupExpr("ls.day")
		if to.Before(day) {
			return snap
		}
		lic := licenseIDs(s, nil, false)
		live := s.Select((*models.License)(nil)).
			Join("LEFT JOIN (?) AS act ON act.license_id = l.id", activeHolders(s, lic, since(ActiveDays))).
			ColumnExpr("?::uuid AS license_id, ?::date AS day, sum(l.total_seats)::int AS total", uuid.Nil, date(day)).
			ColumnExpr("sum(l.seats_used)::int AS used, sum(l.seats_pending)::int AS pending").
			ColumnExpr("sum(l.seats_waitlisted)::int AS waitlisted, coalesce(sum(act.n), 0)::int AS active").
			Where("NOT l.is_deleted").
			Having("count(*) > 0")
		return snap.UnionAll(live)
	})
	return m[uuid.Nil], err
}

// series checks the arguments, reads the day rows the query built by rows
// gives (from, to: the range's first and last UTC day; day: today), and
// folds each license's rows into buckets.
func series(ctx context.Context, sess *store.Session, a UtilizationArgs,
	rows func(s store.Scope, from, to, day time.Time) *bun.SelectQuery) (map[uuid.UUID][]*Bucket, error) {
	interval := Day
	if a.Interval != nil {
		interval = *a.Interval
	}
	var out map[uuid.UUID][]*Bucket
	err := sess.Read(ctx, func(s store.Scope) error {
		day, _, err := today(ctx, s)
		if err != nil {
			return err
		}
		from, to := utcDay(a.From), day
		if a.To != nil && utcDay(*a.To).Before(day) {
			to = utcDay(*a.To)
		}
		if err := checkRange(from, to, interval); err != nil {
			return err
		}
		var days []dayRow
		q := s.Compose().TableExpr("(?) AS r", rows(s, from, to, day)).ColumnExpr("r.*").OrderExpr("r.license_id, r.day")
		if err := q.Scan(ctx, &days); err != nil {
			return err
		}
		out = fold(days, interval)
		return nil
	})
	return out, err
}

// checkRange refuses a range of days that is reversed, or that has more
// than MaxBuckets buckets of interval.
func checkRange(from, to time.Time, interval string) error {
	if to.Before(from) {
		return problem.New(problem.Invalid, "from", "must not be after to (nor after today)")
	}
	n := 0
	for b := bucketStart(from, interval); !b.After(to); b = bucketEnd(b, interval) {
		if n++; n > MaxBuckets {
			return problem.New(problem.Invalid, "from", "the range has more than %d %s buckets: narrow it or use a longer interval", MaxBuckets, interval)
		}
	}
	return nil
}

// fold folds day rows (ordered by license, then day) into each license's
// buckets; buckets without a day of data are left out.
func fold(rows []dayRow, interval string) map[uuid.UUID][]*Bucket {
	out := map[uuid.UUID][]*Bucket{}
	for _, r := range rows {
		list := out[r.LicenseID]
		start := bucketStart(r.Day.UTC(), interval)
		if n := len(list); n == 0 || !list[n-1].Start.Equal(start) {
			list = append(list, &Bucket{Start: start, End: bucketEnd(start, interval)})
		}
		b := list[len(list)-1]
		b.Total, b.Used, b.Pending, b.Waitlisted, b.Active = r.Total, r.Used, r.Pending, r.Waitlisted, r.Active
		b.PeakUsed = max(b.PeakUsed, r.Used)
		b.Days++
		out[r.LicenseID] = list
	}
	return out
}

// date is a UTC day as SQL reads a date, whatever the session's time zone.
func date(day time.Time) string { return day.Format(time.DateOnly) }

// utcDay is the UTC day t falls on, at midnight.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// bucketStart is the first day of the bucket of interval holding day.
func bucketStart(day time.Time, interval string) time.Time {
	switch interval {
	case Week:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case Month:
		return time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

// bucketEnd is the first day after the bucket of interval starting at start.
func bucketEnd(start time.Time, interval string) time.Time {
	switch interval {
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}
