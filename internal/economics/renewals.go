package economics

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"seatgraph/internal/money"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// The renewal rules, in one place (README "Seat economics" repeats them):
const (
	// PeakDays is how far back the suggested seat count looks for the
	// busiest day.
	PeakDays = 90
	// A license is over-allocated when someone waits for a seat, or when
	// its seats used reach OverAllocatedPercent of its seats bought (a
	// license of 0 seats only when someone waits).
	OverAllocatedPercent = 90
	// MaxWithinDays bounds a renewal window (about five years).
	MaxWithinDays = 1830
)

// Renewal is a license's seats and cost ahead of its renewal.
type Renewal struct {
	License *models.License
	// SeatsActive: holders with usage recorded in the last ActiveDays days.
	SeatsActive int
	// PeakUsed is the most seats used on any day of the last PeakDays days
	// (the snapshots, and today's counters).
	PeakUsed int
	// SuggestedSeats is the seat count to renew with: PeakUsed plus
	// everyone waitlisted now, so that the busiest recent day and the
	// queue fit.
	SuggestedSeats int
	// CostAtRenewal is the cost per seat × the seats bought (× seats used
	// when unlimited) for one billing period; SuggestedCost the same for
	// SuggestedSeats. Nil without a cost.
	CostAtRenewal *money.Money
	SuggestedCost *money.Money
	OverAllocated bool
}

// RenewsAt is when the license renews.
func (r Renewal) RenewsAt() *time.Time { return r.License.RenewsAt }

// SeatsBought is the license's totalSeats; nil when unlimited.
func (r Renewal) SeatsBought() *int { return r.License.TotalSeats }

// SeatsUsed is the seats held now.
func (r Renewal) SeatsUsed() int { return r.License.SeatsUsed }

// Waitlisted is how many wait for a seat now.
func (r Renewal) Waitlisted() int { return r.License.SeatsWaitlisted }

// RenewalReport answers renewals(within).
type RenewalReport struct {
	// Renewals are the licenses renewing from now until now + within,
	// soonest first.
	Renewals []Renewal
	// OverAllocated are all the licenses (renewing soon or not) that are
	// over-allocated now, by name; deleted and expired licenses are left out.
	OverAllocated []Renewal
}

type renewalRow struct {
	models.License `bun:",extend"`
	Active         int     `bun:"active"`
	PeakUsed       int     `bun:"peak_used"`
	CostAtRenewal  *string `bun:"cost_at_renewal"`
	SuggestedCost  *string `bun:"suggested_cost"`
	InWindow       bool    `bun:"in_window"`
	OverAllocated  bool    `bun:"over_allocated"`
}

// Renewals reads the RenewalReport for the window within (an ISO 8601
// duration of years, months, weeks and days, such as P90D or P1Y) in one
// statement.
func Renewals(ctx context.Context, sess *store.Session, within string) (*RenewalReport, error) {
	y, m, w, d, err := ParseDuration(within)
	if err != nil {
		return nil, problem.InvalidInput("within", err)
	}
	var rows []renewalRow
	err = sess.Read(ctx, func(s store.Scope) error {
		peak := s.Select((*models.LicenseSnapshot)(nil)).ColumnExpr("max(ls.seats_used)").
			Where("ls.license_id = l.id").
			Where("ls.day >= (now() AT TIME ZONE 'UTC')::date - ?", PeakDays)
		const (
			inWindow = "(l.renews_at >= now() AND l.renews_at < now() + make_interval(years => ?, months => ?, weeks => ?, days => ?))"
			over     = "(l.seats_waitlisted > 0 OR (l.total_seats > 0 AND l.seats_used * 100 >= l.total_seats * ?))"
		)
		// The licenses to report: renewing in the window, or over-allocated.
		wanted := func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("NOT l.is_deleted").Where("(l.expires_at IS NULL OR l.expires_at > now())").
				WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
					return q.Where(inWindow, y, m, w, d).WhereOr(over, OverAllocatedPercent)
				})
		}
		lic := wanted(s.Select((*models.License)(nil)).Column("l.id"))
		current := wanted(s.Select((*models.License)(nil)).ColumnExpr("l.*")).
			Join("LEFT JOIN (?) AS act ON act.license_id = l.id", activeHolders(s, lic, since(ActiveDays))).
			ColumnExpr("coalesce(act.n, 0) AS active").
			ColumnExpr("greatest(l.seats_used, (?)) AS peak_used", peak).
			ColumnExpr(inWindow+" AS in_window", y, m, w, d).
			ColumnExpr(over+" AS over_allocated", OverAllocatedPercent)
		return s.Compose().TableExpr("(?) AS l", current).ColumnExpr("l.*").
			ColumnExpr("(coalesce(l.total_seats, l.seats_used) * l.cost_per_seat)::text AS cost_at_renewal").
			ColumnExpr("((l.peak_used + l.seats_waitlisted) * l.cost_per_seat)::text AS suggested_cost").
			OrderExpr("l.renews_at, l.name, l.id").
			Scan(ctx, &rows)
	})
	if err != nil {
		return nil, err
	}
	out := &RenewalReport{Renewals: []Renewal{}, OverAllocated: []Renewal{}}
	for i := range rows {
		r := &rows[i]
		ren := Renewal{License: &r.License, SeatsActive: r.Active, PeakUsed: r.PeakUsed,
			SuggestedSeats: r.PeakUsed + r.SeatsWaitlisted, OverAllocated: r.OverAllocated,
			CostAtRenewal: money.Of(r.CostAtRenewal, r.CostCurrency), SuggestedCost: money.Of(r.SuggestedCost, r.CostCurrency)}
		if r.InWindow {
			out.Renewals = append(out.Renewals, ren)
		}
		if r.OverAllocated {
			out.OverAllocated = append(out.OverAllocated, ren)
		}
	}
	sortByName(out.OverAllocated)
	return out, nil
}

var durationRE = regexp.MustCompile(`^P(?:([0-9]{1,4})Y)?(?:([0-9]{1,5})M)?(?:([0-9]{1,5})W)?(?:([0-9]{1,5})D)?$`)

// ParseDuration reads an ISO 8601 duration of whole years, months, weeks
// and days (P90D, P3M, P1Y2M, P2W; no time part), of at most MaxWithinDays
// days (a month counted as 31 days, a year as 366).
func ParseDuration(s string) (years, months, weeks, days int, err error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil || s == "P" {
		return 0, 0, 0, 0, fmt.Errorf("%q is not an ISO 8601 duration of years, months, weeks and days, such as P90D, P3M or P1Y", s)
	}
	n := make([]int, 4)
	for i := range n {
		if m[i+1] != "" {
			n[i], _ = strconv.Atoi(m[i+1])
		}
	}
	if n[0]*366+n[1]*31+n[2]*7+n[3] > MaxWithinDays {
		return 0, 0, 0, 0, fmt.Errorf("%q is longer than %d days", s, MaxWithinDays)
	}
	return n[0], n[1], n[2], n[3], nil
}

// sortByName orders renewals by license name, then id.
func sortByName(rs []Renewal) {
	slices.SortStableFunc(rs, func(a, b Renewal) int {
		if c := strings.Compare(a.License.Name, b.License.Name); c != 0 {
			return c
		}
		return strings.Compare(a.License.ID.String(), b.License.ID.String())
	})
}
