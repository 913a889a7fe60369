package licensing

import (
	"context"
	"time"

	"seatgraph/internal/gid"
	"seatgraph/internal/money"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// maxSeats is the largest totalSeats a license may have.
const maxSeats = 10_000_000

// CreateLicenseInput is the input of createLicense.
type CreateLicenseInput struct {
	Name       string
	Vendor     *string
	ProgramKey *string
	TotalSeats *int
	StartsAt   *time.Time
	ExpiresAt  *time.Time
	AssetID    *string
	Metadata   map[string]any
	// LowSeatsThreshold: license.seats_low is sent when the available
	// seats fall to or below it (once per crossing).
	LowSeatsThreshold *int
	Source            *string
	SourceType        *models.SourceType
	// Terms (SPEC §9), checked by checkTerms.
	CostPerSeat   *money.Money
	BillingPeriod *models.BillingPeriod
	RenewsAt      *time.Time
}

// UpdateLicenseInput is the input of updateLicense.
type UpdateLicenseInput struct {
	ID                string
	ExpectedUpdatedAt *time.Time
	Name              *string
	Vendor            *string
	ProgramKey        *string
	TotalSeats        *int
	Unlimited         *bool
	StartsAt          *time.Time
	ExpiresAt         *time.Time
	AssetID           *string
	Metadata          map[string]any
	LowSeatsThreshold *int
	DryRun            *bool
	CostPerSeat       *money.Money
	BillingPeriod     *models.BillingPeriod
	RenewsAt          *time.Time
}

// DeleteLicenseInput is the input of deleteLicense.
type DeleteLicenseInput struct {
	ID                string
	ExpectedUpdatedAt *time.Time
	Force             *bool
	DryRun            *bool
}

// LicenseResult is what a license mutation did.
type LicenseResult struct {
	License      *models.License
	RevokedCount int
}

func checkLicense(c *problem.Check, name, vendor, key, asset *string, seats *int, starts, expires *time.Time, meta map[string]any) {
	c.Text("name", name, true)
	c.Text("vendor", vendor, false)
	c.Text("programKey", key, false)
	c.Text("assetId", asset, true)
	c.Range("totalSeats", seats, 0, maxSeats)
	c.JSON("metadata", meta)
	if starts != nil && expires != nil && expires.Before(*starts) {
		c.Add(problem.Invalid, "expiresAt", "must not be before startsAt")
	}
}

// checkTerms checks a license's terms: an exact amount in an ISO 4217
// currency, and a threshold within the seat range.
func checkTerms(c *problem.Check, cost *money.Money, lowSeats *int) {
	c.Range("lowSeatsThreshold", lowSeats, 0, maxSeats)
	if cost != nil {
		if part, err := cost.Check(); err != nil {
			c.Add(problem.Invalid, "costPerSeat."+part, "%s", err.Error())
		}
	}
}

// costNeedsPeriod is the problem of a cost with no billing period.
func costNeedsPeriod(l *models.License) error {
	if l.CostPerSeat != nil && l.BillingPeriod == nil {
		return problem.New(problem.Invalid, "input.billingPeriod", "a license with a costPerSeat needs a billingPeriod")
	}
	return nil
}

// setCost copies a cost into the license's columns.
func setCost(l *models.License, m *money.Money) {
	if m != nil {
		l.CostPerSeat, l.CostCurrency = &m.Amount, &m.Currency
	}
}

// CreateLicense records a purchased license.
func CreateLicense(ctx context.Context, db *store.DB, actor Actor, in CreateLicenseInput) (*LicenseResult, error) {
	c := problem.Check{Prefix: "input."}
	checkLicense(&c, &in.Name, in.Vendor, in.ProgramKey, in.AssetID, in.TotalSeats, in.StartsAt, in.ExpiresAt, in.Metadata)
	checkTerms(&c, in.CostPerSeat, in.LowSeatsThreshold)
	CheckProvenance(&c, in.Source, in.SourceType)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *LicenseResult
	err := Write(ctx, db, actor, nil, func(t *Tx) error {
		l := &models.License{Record: t.NewRecord(in.Source, in.SourceType), Name: in.Name, Vendor: opt.Or(in.Vendor, ""),
			ProgramKey: in.ProgramKey, TotalSeats: in.TotalSeats, StartsAt: in.StartsAt, ExpiresAt: in.ExpiresAt,
			AssetID: in.AssetID, Metadata: metadata(in.Metadata), LowSeatsThreshold: in.LowSeatsThreshold,
			BillingPeriod: in.BillingPeriod, RenewsAt: in.RenewsAt}
		setCost(l, in.CostPerSeat)
		if err := costNeedsPeriod(l); err != nil {
			return err
		}
		if _, err := t.s.Insert(l).Exec(t.ctx); err != nil {
			return err
		}
		// The expiry job visits tenants listed here.
		if _, err := t.s.Exec(t.ctx, "INSERT INTO tenants (tenant_id) VALUES (?) ON CONFLICT DO NOTHING", t.actor.Tenant.ID); err != nil {
			return err
		}
		res = &LicenseResult{License: l}
		return nil
	})
	return res, err
}

// UpdateLicense changes a license. Lowering totalSeats below the seats in
// use is refused; raising it (or making it unlimited) promotes the
// waitlist in the same transaction.
func UpdateLicense(ctx context.Context, db *store.DB, actor Actor, in UpdateLicenseInput) (*LicenseResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.License, "id", in.ID)
	checkLicense(&c, in.Name, in.Vendor, in.ProgramKey, in.AssetID, in.TotalSeats, in.StartsAt, in.ExpiresAt, in.Metadata)
	checkTerms(&c, in.CostPerSeat, in.LowSeatsThreshold)
	if in.TotalSeats != nil && opt.True(in.Unlimited) {
		c.Add(problem.Invalid, "unlimited", "give totalSeats or unlimited, not both")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *LicenseResult
	err := Write(ctx, db, actor, in.DryRun, func(t *Tx) error {
		l, err := t.lockLicense(id, "input.id")
		if err != nil {
			return err
		}
		if err := CheckFresh(&l.Record, in.ExpectedUpdatedAt); err != nil {
			return err
		}
		var cols []string
		set := func(col string, apply bool, f func()) {
			if apply {
				f()
				cols = append(cols, col)
			}
		}
		set("name", in.Name != nil, func() { l.Name = *in.Name })
		set("vendor", in.Vendor != nil, func() { l.Vendor = *in.Vendor })
		set("program_key", in.ProgramKey != nil, func() { l.ProgramKey = in.ProgramKey })
		set("starts_at", in.StartsAt != nil, func() { l.StartsAt = in.StartsAt })
		set("expires_at", in.ExpiresAt != nil, func() { l.ExpiresAt = in.ExpiresAt })
		set("asset_id", in.AssetID != nil, func() { l.AssetID = in.AssetID })
		set("metadata", in.Metadata != nil, func() { l.Metadata = in.Metadata })
		set("low_seats_threshold", in.LowSeatsThreshold != nil, func() { l.LowSeatsThreshold = in.LowSeatsThreshold })
		set("cost_per_seat", in.CostPerSeat != nil, func() { setCost(l, in.CostPerSeat); cols = append(cols, "cost_currency") })
		set("billing_period", in.BillingPeriod != nil, func() { l.BillingPeriod = in.BillingPeriod })
		set("renews_at", in.RenewsAt != nil, func() { l.RenewsAt = in.RenewsAt })
		if err := costNeedsPeriod(l); err != nil {
			return err
		}
		if opt.True(in.Unlimited) || in.TotalSeats != nil {
			if in.TotalSeats != nil && *in.TotalSeats < l.SeatsUsed {
				return problem.New(problem.Conflict, "input.totalSeats",
					"%d seats are in use: revoke seats before lowering totalSeats to %d", l.SeatsUsed, *in.TotalSeats)
			}
			l.TotalSeats = in.TotalSeats
			cols = append(cols, "total_seats")
			t.touched[l.ID] = true
		}
		if l.StartsAt != nil && l.ExpiresAt != nil && l.ExpiresAt.Before(*l.StartsAt) {
			return problem.New(problem.Invalid, "input.expiresAt", "must not be before startsAt")
		}
		if len(cols) > 0 {
			t.Touch(l)
			if _, err := t.s.Update(l).Column(append(cols, "updated_at", "updated_by")...).WherePK().Exec(t.ctx); err != nil {
				return err
			}
		}
		if err := t.promoteTouched(); err != nil {
			return err
		}
		l, err = t.reload(l.ID)
		res = &LicenseResult{License: l}
		return err
	})
	return res, err
}

// DeleteLicense soft-deletes a license. A license with live seats (or a
// waitlist) is refused unless in.Force, which revokes them first.
func DeleteLicense(ctx context.Context, db *store.DB, actor Actor, in DeleteLicenseInput) (*LicenseResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.License, "id", in.ID)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *LicenseResult
	err := Write(ctx, db, actor, in.DryRun, func(t *Tx) error {
		l, err := t.lockLicense(id, "input.id")
		if err != nil {
			return err
		}
		if err := CheckFresh(&l.Record, in.ExpectedUpdatedAt); err != nil {
			return err
		}
		var live []*models.Assignment
		err = selectAssignments(t.s.Tenantwide()).Where("a.license_id = ?", l.ID).Where(liveSQL).
			Where("a.via_assignment_id IS NULL").OrderExpr("a.id").For("UPDATE OF a").Scan(t.ctx, &live)
		if err != nil {
			return err
		}
		if len(live) > 0 && !opt.True(in.Force) {
			return problem.New(problem.Conflict, "input.force",
				"license %q has %d live grant(s) holding %d seat(s); pass force: true to revoke them", l.Name, len(live), l.SeatsUsed)
		}
		if err := t.endGrants(live, models.EventRevoked, "license deleted"); err != nil {
			return err
		}
		delete(t.touched, l.ID)
		if _, err := t.s.Update(l).Column(t.SoftDelete(l)...).WherePK().Exec(t.ctx); err != nil {
			return err
		}
		l, err = t.reload(l.ID)
		res = &LicenseResult{License: l, RevokedCount: len(live)}
		return err
	})
	return res, err
}
