package licensing

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// UsageInput is the input of recordUsage.
type UsageInput struct {
	AssignmentID *string
	LicenseID    *string
	PersonID     *string
	UsedAt       *time.Time
}

// RecordUsage moves lastUsedAt forward, in one statement, with no history
// row: it is telemetry, not an edit of the grant, so it leaves updatedAt
// (and so expectedUpdatedAt checks) alone. It returns how many live
// assignments moved.
func RecordUsage(ctx context.Context, db *store.DB, actor Actor, in UsageInput) (int, error) {
	c := problem.Check{Prefix: "input."}
	if in.UsedAt != nil && in.UsedAt.After(db.Now().Add(time.Minute)) {
		c.Add(problem.Invalid, "usedAt", "must not be in the future")
	}
	var cond string
	var args []any
	switch {
	case in.AssignmentID != nil && in.LicenseID == nil && in.PersonID == nil:
		cond, args = "a.id = ?", []any{c.ID(gid.Assignment, "assignmentId", *in.AssignmentID)}
	case in.AssignmentID == nil && in.LicenseID != nil && in.PersonID != nil:
		cond, args = "a.license_id = ? AND a.person_id = ?",
			[]any{c.ID(gid.License, "licenseId", *in.LicenseID), c.ID(gid.Person, "personId", *in.PersonID)}
	default:
		c.Add(problem.Invalid, "assignmentId", "give assignmentId, or licenseId and personId")
	}
	if err := c.Err(); err != nil {
		return 0, err
	}
	var found, moved int
	// One statement, one round trip: no transaction around it.
	err := db.WriteStatement(ctx, actor.Tenant, func(s store.Scope) error {
		// Without a time given, the database's clock, in the statement.
		var usedAt any = bun.Safe("now()")
		if in.UsedAt != nil {
			usedAt = in.UsedAt.UTC()
		}
		target := s.Select((*models.Assignment)(nil)).Column("a.id", "a.last_used_at").
			Where(cond, args...).Where(liveSQL)
		moves := s.Update((*models.Assignment)(nil)).Set("last_used_at = ?", usedAt).TableExpr("target").
			Where("a.id = target.id").Where("(target.last_used_at IS NULL OR target.last_used_at < ?)", usedAt).
			Returning("a.id")
		return s.Compose().With("target", target).With("moved", moves).
			ColumnExpr("(SELECT count(*) FROM target) AS found, (SELECT count(*) FROM moved) AS moved").
			Scan(ctx, &found, &moved)
	})
	if err != nil {
		return 0, err
	}
	if found == 0 {
		return 0, problem.New(problem.NotFound, "input", "no live assignment matches")
	}
	return moved, nil
}
