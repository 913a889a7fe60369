package economics

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/money"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// MaxInactiveDays bounds the inactivity window of usage and spend reads.
const MaxInactiveDays = 3660

// Usage is how a license's seats are used: its seat holders (people and
// pending invitations, each once, as seats.used counts them) split by the
// last usage recorded on any of their seat-holding grants.
type Usage struct {
	InactiveDays int
	Holders      int
	// Active: usage recorded in the last InactiveDays days.
	Active int
	// Inactive: usage recorded before, but not in the window.
	Inactive int
	// NeverUsed: no usage recorded at all.
	NeverUsed int
	// Spend is what the seats paid for cost per billing period: cost per
	// seat × totalSeats (× seats used when unlimited); nil without a cost.
	Spend *money.Money
	// WastedSpend is (Inactive + NeverUsed) × cost per seat, per billing
	// period; nil without a cost.
	WastedSpend *money.Money
}

// usageRow is one license's usage as read.
type usageRow struct {
	LicenseID uuid.UUID `bun:"license_id"`
	Holders   int       `bun:"holders"`
	Active    int       `bun:"active"`
	Inactive  int       `bun:"inactive"`
	NeverUsed int       `bun:"never_used"`
	Currency  *string   `bun:"currency"`
	Spend     *string   `bun:"spend"`
	Wasted    *string   `bun:"wasted"`
}

// checkInactiveDays refuses a window outside 1..MaxInactiveDays.
func checkInactiveDays(n int) error {
	if n < 1 || n > MaxInactiveDays {
		return problem.New(problem.Invalid, "inactiveDays", "must be between 1 and %d", MaxInactiveDays)
	}
	return nil
}

// LicenseUsage reads the usage of each license in ids the caller may read,
// in one statement, counting holders active in the last inactiveDays days.
func LicenseUsage(ctx context.Context, sess *store.Session, ids []uuid.UUID, inactiveDays int) (map[uuid.UUID]*Usage, error) {
	if err := checkInactiveDays(inactiveDays); err != nil {
		return nil, err
	}
	var rows []usageRow
	err := sess.Read(ctx, func(s store.Scope) error {
		perHolder := holdingGrants(s, "a.license_id", licenseIDs(s, ids, true)).
			ColumnExpr("a.license_id, max(a.last_used_at) AS last_used").
			GroupExpr("a.license_id, " + holderSQL)
		cutoff := since(inactiveDays)
		counts := s.Compose().TableExpr("(?) AS h", perHolder).
			ColumnExpr("h.license_id, count(*) AS holders").
			ColumnExpr("count(*) FILTER (WHERE h.last_used >= ?) AS active", cutoff).
			ColumnExpr("count(*) FILTER (WHERE h.last_used < ?) AS inactive", cutoff).
			ColumnExpr("count(*) FILTER (WHERE h.last_used IS NULL) AS never_used").
			GroupExpr("h.license_id")
		return s.Select((*models.License)(nil)).
			Join("LEFT JOIN (?) AS u ON u.license_id = l.id", counts).
			ColumnExpr("l.id AS license_id, coalesce(u.holders, 0) AS holders, coalesce(u.active, 0) AS active").
			ColumnExpr("coalesce(u.inactive, 0) AS inactive, coalesce(u.never_used, 0) AS never_used").
			ColumnExpr("l.cost_currency AS currency, (coalesce(l.total_seats, l.seats_used) * l.cost_per_seat)::text AS spend").
			ColumnExpr("((coalesce(u.inactive, 0) + coalesce(u.never_used, 0)) * l.cost_per_seat)::text AS wasted").
			Where("l.id IN (?)", bun.List(ids)).
			Scan(ctx, &rows)
	})
	out := make(map[uuid.UUID]*Usage, len(rows))
	for _, r := range rows {
		out[r.LicenseID] = &Usage{InactiveDays: inactiveDays, Holders: r.Holders, Active: r.Active, Inactive: r.Inactive,
			NeverUsed: r.NeverUsed, Spend: money.Of(r.Spend, r.Currency), WastedSpend: money.Of(r.Wasted, r.Currency)}
	}
	return out, err
}

// SpendSummary is what the tenant's licenses cost, per currency (amounts
// in different currencies are never added): recurring spend per year
// (MONTHLY × 12 plus ANNUAL), the part of it that pays for seats whose
// holders are inactive or never used them, and one-time purchases. Only
// licenses with a cost count; deleted and expired licenses do not.
type SpendSummary struct {
	InactiveDays int
	Annual       []money.Money
	WastedAnnual []money.Money
	OneTime      []money.Money
	ByVendor     []VendorSpend
}

// VendorSpend is SpendSummary's figures for one vendor.
type VendorSpend struct {
	Vendor       string
	Annual       []money.Money
	WastedAnnual []money.Money
	OneTime      []money.Money
}

type spendRow struct {
	AllVendors bool   `bun:"all_vendors"`
	Vendor     string `bun:"vendor"`
	Currency   string `bun:"currency"`
	OneTime    bool   `bun:"one_time"`
	Spend      string `bun:"spend"`
	Wasted     string `bun:"wasted"`
}

// Spend reads the tenant's SpendSummary in one statement. A license's
// wasted seats are its holders less those active in the last inactiveDays
// days (the same count as Usage's Inactive + NeverUsed).
func Spend(ctx context.Context, sess *store.Session, inactiveDays int) (*SpendSummary, error) {
	if err := checkInactiveDays(inactiveDays); err != nil {
		return nil, err
	}
	var rows []spendRow
	err := sess.Read(ctx, func(s store.Scope) error {
		costed := func() *bun.SelectQuery {
			return s.Select((*models.License)(nil)).Where("NOT l.is_deleted").Where("l.cost_per_seat IS NOT NULL").
				Where("(l.expires_at IS NULL OR l.expires_at > now())")
		}
		perLicense := costed().
			Join("LEFT JOIN (?) AS act ON act.license_id = l.id", activeHolders(s, costed().Column("l.id"), since(inactiveDays))).
			ColumnExpr("l.vendor, l.cost_currency AS currency, l.billing_period = 'ONE_TIME' AS one_time").
			ColumnExpr("CASE l.billing_period WHEN 'MONTHLY' THEN 12 ELSE 1 END AS per_year").
			ColumnExpr("coalesce(l.total_seats, l.seats_used) * l.cost_per_seat AS spend").
			ColumnExpr("greatest(l.seats_used - coalesce(act.n, 0), 0) * l.cost_per_seat AS wasted")
		return s.Compose().TableExpr("(?) AS p", perLicense).
			ColumnExpr("GROUPING(p.vendor) = 1 AS all_vendors, coalesce(p.vendor, '') AS vendor, p.currency, p.one_time").
			ColumnExpr("sum(p.spend * p.per_year)::text AS spend, sum(p.wasted * p.per_year)::text AS wasted").
			GroupExpr("GROUPING SETS ((p.vendor, p.currency, p.one_time), (p.currency, p.one_time))").
			OrderExpr("all_vendors DESC, vendor, p.currency").
			Scan(ctx, &rows)
	})
	if err != nil {
		return nil, err
	}
	out := &SpendSummary{InactiveDays: inactiveDays, Annual: []money.Money{}, WastedAnnual: []money.Money{}, OneTime: []money.Money{},
		ByVendor: []VendorSpend{}}
	for _, r := range rows {
		annual, wasted, oneTime := &out.Annual, &out.WastedAnnual, &out.OneTime
		if !r.AllVendors {
			if n := len(out.ByVendor); n == 0 || out.ByVendor[n-1].Vendor != r.Vendor {
				out.ByVendor = append(out.ByVendor, VendorSpend{Vendor: r.Vendor, Annual: []money.Money{},
					WastedAnnual: []money.Money{}, OneTime: []money.Money{}})
			}
			v := &out.ByVendor[len(out.ByVendor)-1]
			annual, wasted, oneTime = &v.Annual, &v.WastedAnnual, &v.OneTime
		}
		if r.OneTime {
			*oneTime = append(*oneTime, money.Money{Amount: r.Spend, Currency: r.Currency})
		} else {
			*annual = append(*annual, money.Money{Amount: r.Spend, Currency: r.Currency})
			*wasted = append(*wasted, money.Money{Amount: r.Wasted, Currency: r.Currency})
		}
	}
	return out, nil
}
