package licensing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/store"
	"seatgraph/models"
)

// expiryLock is the advisory lock key that makes one server replica at a
// time run the expiry job.
const expiryLock = 7_406_221_001

// ExpireDue ends, in every tenant, the live grants whose end (or whose
// license's end) has passed: it records EXPIRED events and gives the
// freed seats to the waitlists. Only one replica runs it at a time; the
// others return at once. It returns how many assignments expired.
func ExpireDue(ctx context.Context, db *store.DB) (int, error) {
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var locked bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", expiryLock).Scan(&locked); err != nil || !locked {
		return 0, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", expiryLock) //nolint:errcheck

	var tenants []string
	if err := db.Bun().NewSelect().Table("tenants").Column("tenant_id").Order("tenant_id").Scan(ctx, &tenants); err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, tenant := range tenants {
		// One tenant failing must not stop the others' seats from expiring.
		n, err := ExpireTenant(ctx, db, tenant)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tenant, err))
		}
		total += n
	}
	return total, errors.Join(errs...)
}

// ExpireTenant is ExpireDue for one tenant, without the advisory lock.
func ExpireTenant(ctx context.Context, db *store.DB, tenant string) (int, error) {
	n := 0
	err := Write(ctx, db, System(tenant), false, func(t *Tx) error {
		due := func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where(liveSQL).Where("a.expires_at <= ? OR l.expires_at <= ?", t.now, t.now)
		}
		var licenses []uuid.UUID
		if err := due(joinLicenses(t.s)).ColumnExpr("DISTINCT a.license_id").Scan(t.ctx, &licenses); err != nil || len(licenses) == 0 {
			return err
		}
		// Lock the licenses first, like every writer, then the rows.
		if err := t.lockAny(licenses); err != nil {
			return err
		}
		var rows []*models.Assignment
		if err := due(selectAssignments(t.s)).OrderExpr("a.license_id, a.id").For("UPDATE OF a").Scan(t.ctx, &rows); err != nil {
			return err
		}
		n = len(rows)
		return t.expire(rows)
	})
	return n, err
}

// lockAny locks licenses, deleted or not, in id order.
func (t *Tx) lockAny(ids []uuid.UUID) error {
	var got []uuid.UUID
	return t.s.Select((*models.License)(nil)).Column("l.id").Where("l.id IN (?)", bun.List(ids)).
		OrderExpr("l.id").For("UPDATE").Scan(t.ctx, &got)
}

// firstEnd is when an assignment ended: its own end or its license's.
func firstEnd(a *models.Assignment) *time.Time {
	if a.ExpiresAt == nil || (a.LicenseExpiresAt != nil && a.LicenseExpiresAt.Before(*a.ExpiresAt)) {
		return a.LicenseExpiresAt
	}
	return a.ExpiresAt
}

// RunExpiry runs ExpireDue every interval until ctx ends.
func RunExpiry(ctx context.Context, db *store.DB, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		n, err := ExpireDue(ctx, db)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("expiry job failed", "error", err.Error())
		case n > 0:
			log.Info("expiry job", "expired", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
