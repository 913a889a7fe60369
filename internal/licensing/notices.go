package licensing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/lease"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// This file is the events job: the time-based notices of the outbox
// (license.expiring_soon and assignment.expiring_soon, once for each
// expiresAt, notice before it) and the pruning of events older than the
// retention. It is per-tenant work: each tenant in its own transaction,
// and the rows it notices are taken FOR UPDATE SKIP LOCKED, so replicas
// running it at once neither wait for nor repeat each other.

// noticeBatch bounds the notices of one tenant per run.
const noticeBatch = 500

// NoticeTenant sends tenant's due expiring_soon notices and returns how
// many it sent.
func NoticeTenant(ctx context.Context, db *store.DB, tenant string, notice time.Duration) (int, error) {
	n := 0
	err := Write(ctx, db, system(tenant), nil, func(t *Tx) error {
		n = 0
		until := t.now.Add(notice)
		var ls []*models.License
		err := selectLicenses(t.s.Tenantwide()).Where("NOT l.is_deleted").
			Where("l.expires_at > ? AND l.expires_at <= ?", t.now, until).
			Where("l.expiry_noticed_for IS DISTINCT FROM l.expires_at").OrderExpr("l.id").Limit(noticeBatch).
			For("UPDATE OF l SKIP LOCKED").Scan(t.ctx, &ls)
		if err != nil {
			return err
		}
		var ids []uuid.UUID
		for _, l := range ls {
			ids = append(ids, l.ID)
			t.noteNotice("license.expiring_soon", gid.License, l.ID, map[string]any{"expiresAt": l.ExpiresAt})
		}
		if len(ids) > 0 {
			if _, err := t.s.Update((*models.License)(nil)).Set("expiry_noticed_for = l.expires_at").
				Where("l.id IN (?)", bun.List(ids)).Exec(t.ctx); err != nil {
				return err
			}
		}
		var as []*models.Assignment
		err = selectAssignments(t.s.Tenantwide()).Where(liveSQL).
			Where("a.expires_at > ? AND a.expires_at <= ?", t.now, until).
			Where("a.expiry_noticed_for IS DISTINCT FROM a.expires_at").OrderExpr("a.id").Limit(noticeBatch).
			For("UPDATE OF a SKIP LOCKED").Scan(t.ctx, &as)
		if err != nil {
			return err
		}
		ids = ids[:0]
		for _, a := range as {
			ids = append(ids, a.ID)
			t.noteNotice("assignment.expiring_soon", gid.Assignment, a.ID, map[string]any{"expiresAt": a.ExpiresAt})
		}
		if len(ids) > 0 {
			// Only the notice mark changes: no stamp, no seat work.
			if _, err := t.s.Update((*models.Assignment)(nil)).Set("expiry_noticed_for = a.expires_at").
				Where("a.id IN (?)", bun.List(ids)).Exec(t.ctx); err != nil {
				return err
			}
		}
		n = len(ls) + len(as)
		return nil
	})
	return n, err
}

// PruneTenant deletes tenant's events (and their webhook deliveries) older
// than retention.
func PruneTenant(ctx context.Context, db *store.DB, tenant string, retention time.Duration) (int, error) {
	var n int64
	err := db.Write(ctx, store.Tenant{ID: tenant}, func(s store.Scope) error {
		res, err := s.Delete((*models.Event)(nil)).Where("ev.occurred_at < now() - ?::interval", retention.String()).Exec(ctx)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// EventJobs sends notices and prunes events in every tenant (each in its
// own transactions: one tenant failing does not stop the others) and
// returns how many notices it sent and events it pruned.
func EventJobs(ctx context.Context, db *store.DB, notice, retention time.Duration) (int, error) {
	return lease.EachTenant(ctx, db, func(ctx context.Context, tenant string) (int, error) {
		n, err := NoticeTenant(ctx, db, tenant, notice)
		if err != nil {
			err = fmt.Errorf("notices: %w", err)
		}
		m, perr := PruneTenant(ctx, db, tenant, retention)
		if perr != nil {
			err = errors.Join(err, fmt.Errorf("prune: %w", perr))
		}
		return n + m, err
	})
}
