package licensing

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// This file holds the operations that end grants: revokeAssignment,
// reclaimUnusedSeats, and endGrants, which every ending goes through.

// RevokeInput is the input of revokeAssignment.
type RevokeInput struct {
	ID                string
	Reason            *string
	ExpectedUpdatedAt *time.Time
	DryRun            *bool
}

// Revoke ends a direct grant (a group grant ends its inherited grants
// too) and gives the freed seats to the waitlist.
func Revoke(ctx context.Context, db *store.DB, actor Actor, in RevokeInput) (*AssignResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.Assignment, "id", in.ID)
	c.Text("reason", in.Reason, false)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *AssignResult
	err := Write(ctx, db, actor, in.DryRun, func(t *Tx) error {
		a, l, err := t.lockLive(id, in.ExpectedUpdatedAt)
		if err != nil {
			return err
		}
		if a.ViaAssignmentID != nil {
			return problem.New(problem.Invalid, "input.id",
				"this seat is inherited through a group grant: revoke the group grant or remove the member from the group")
		}
		if err := t.endGrants([]*models.Assignment{a}, models.EventRevoked, opt.Or(in.Reason, "")); err != nil {
			return err
		}
		if err := t.promoteTouched(); err != nil {
			return err
		}
		l, err = t.reload(l.ID)
		res = &AssignResult{Assignment: withLicense(a, l), License: l}
		return err
	})
	return res, err
}

// ReclaimInput is the input of reclaimUnusedSeats.
type ReclaimInput struct {
	UnusedSince time.Time
	LicenseID   *string
	Reason      *string
	DryRun      *bool
}

// Reclaim revokes direct seats not used since in.UnusedSince (seats never
// used count from when they were assigned), and gives the freed seats to
// the waitlists.
func Reclaim(ctx context.Context, db *store.DB, actor Actor, in ReclaimInput) ([]*models.Assignment, error) {
	c := problem.Check{Prefix: "input."}
	license := c.OptID(gid.License, "licenseId", in.LicenseID)
	c.Text("reason", in.Reason, false)
	// A minute of tolerance, as for recordUsage's usedAt: a caller's
	// "now" read on its own clock may be a little ahead of the database's.
	if in.UnusedSince.After(db.Now().Add(time.Minute)) {
		c.Add(problem.Invalid, "unusedSince", "must not be in the future")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	reason := opt.Or(in.Reason, "unused since "+in.UnusedSince.UTC().Format(time.DateOnly))
	var out []*models.Assignment
	err := Write(ctx, db, actor, in.DryRun, func(t *Tx) error {
		if license != nil {
			if _, err := t.lockLicense(*license, "input.licenseId"); err != nil {
				return err
			}
		}
		// Direct seats only: a group grant is reclaimed member by member
		// by removing them from the group.
		unused, _, err := t.lockGrants(t.s, func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("a.via_assignment_id IS NULL AND a.group_id IS NULL AND a.waitlisted_at IS NULL").
				Where("a.deactivated_at IS NULL").
				Where("coalesce(a.last_used_at, a.assigned_at) < ?", in.UnusedSince)
			if license != nil {
				q = q.Where("a.license_id = ?", *license)
			}
			return q
		})
		if err != nil {
			return err
		}
		out = unused
		return t.endGrants(out, models.EventRevoked, reason)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inheritedOf reads (and locks) the live inherited grants of group grants.
func (t *Tx) inheritedOf(grants []uuid.UUID) ([]*models.Assignment, error) {
	if len(grants) == 0 {
		return nil, nil
	}
	var rows []*models.Assignment
	err := selectAssignments(t.s.Tenantwide()).Where("a.via_assignment_id IN (?)", bun.List(grants)).
		Where(liveSQL).OrderExpr("a.id").For("UPDATE OF a").Scan(t.ctx, &rows)
	return rows, err
}

// endGrants revokes (typ REVOKED) or deletes (typ DELETED) live assignments and
// the inherited grants of any group grant among them, and marks their
// licenses for waitlist promotion. The caller holds the licenses' locks.
func (t *Tx) endGrants(rows []*models.Assignment, typ models.EventType, reason string) error {
	for len(rows) > 0 {
		var events []*models.AssignmentEvent
		var grants []uuid.UUID
		for _, a := range rows {
			t.touched[a.LicenseID] = true
			if a.GroupID != nil {
				grants = append(grants, a.ID)
			}
			if typ == models.EventDeleted {
				a.IsDeleted, a.DeletedAt, a.DeletedBy = true, &t.now, &t.actor.Subject
			} else {
				a.RevokedAt, a.RevokedBy = &t.now, &t.actor.Subject
				if reason != "" {
					a.RevokeReason = &reason
				}
			}
			changes := map[string]any{}
			if reason != "" {
				changes["reason"] = reason
			}
			events = append(events, t.event(a, typ, changes))
		}
		cols := []string{"revoked_at", "revoked_by", "revoke_reason"}
		if typ == models.EventDeleted {
			cols = []string{"is_deleted", "deleted_at", "deleted_by"}
		}
		if err := t.updateAssignments(rows, cols...); err != nil {
			return err
		}
		if err := t.insertEvents(events); err != nil {
			return err
		}
		children, err := t.inheritedOf(grants)
		if err != nil {
			return err
		}
		rows, reason = children, "group grant ended"
	}
	return nil
}
