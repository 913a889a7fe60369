package licensing

import (
	"context"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/gid"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// This file holds updateAssignment and the changes assignLicense makes to
// a live grant it finds.

// settable are the fields of an assignment a caller may change.
type settable struct {
	AssetID        *string
	ExpiresAt      *time.Time
	ClearExpiresAt bool
	Active         *bool
	Fulfilled      *bool
	RedirectTo     *string
	Metadata       map[string]any
}

func (ch settable) check(c *problem.Check, now time.Time) {
	c.Text("assetId", ch.AssetID, true)
	c.Future("expiresAt", ch.ExpiresAt, now)
	c.URL("redirectTo", ch.RedirectTo)
	c.JSON("metadata", ch.Metadata)
}

// change applies ch to a live assignment, with one event per kind of
// change; suspending, resuming and the end date of a group grant carry
// over to its inherited grants.
func (t *Tx) change(a *models.Assignment, ch settable) error {
	var cols []string
	var events []*models.AssignmentEvent
	updated := map[string]any{}
	if ch.AssetID != nil && !eq(a.AssetID, ch.AssetID) {
		a.AssetID, updated["assetId"] = ch.AssetID, *ch.AssetID
		cols = append(cols, "asset_id")
	}
	if ch.ClearExpiresAt || (ch.ExpiresAt != nil && !eqTime(a.ExpiresAt, ch.ExpiresAt)) {
		a.ExpiresAt, updated["expiresAt"] = ch.ExpiresAt, ch.ExpiresAt
		cols = append(cols, "expires_at")
	}
	if ch.RedirectTo != nil && !eq(a.RedirectTo, ch.RedirectTo) {
		a.RedirectTo, updated["redirectTo"] = ch.RedirectTo, *ch.RedirectTo
		cols = append(cols, "redirect_to")
	}
	if ch.Metadata != nil {
		a.Metadata, updated["metadata"] = ch.Metadata, ch.Metadata
		cols = append(cols, "metadata")
	}
	if len(updated) > 0 {
		events = append(events, t.event(a, models.EventUpdated, updated))
	}
	// toggle flips a flag, with the event its new value means.
	toggle := func(want *bool, cur *bool, col string, on, off models.EventType) {
		if want == nil || *want == *cur {
			return
		}
		*cur = *want
		cols = append(cols, col)
		typ := off
		if *cur {
			typ = on
		}
		events = append(events, t.event(a, typ, map[string]any{col: *cur}))
	}
	toggle(ch.Active, &a.Active, "active", models.EventResumed, models.EventSuspended)
	toggle(ch.Fulfilled, &a.Fulfilled, "fulfilled", models.EventFulfilled, models.EventUpdated)
	if len(cols) == 0 {
		return nil
	}
	if err := t.updateAssignments([]*models.Assignment{a}, cols...); err != nil {
		return err
	}
	if err := t.insertEvents(events); err != nil {
		return err
	}
	if a.GroupID == nil || (ch.Active == nil && ch.ExpiresAt == nil && !ch.ClearExpiresAt) {
		return nil
	}
	inherited, err := t.inheritedOf([]uuid.UUID{a.ID})
	if err != nil {
		return err
	}
	for _, child := range inherited {
		if err := t.change(child, settable{Active: ch.Active, ExpiresAt: ch.ExpiresAt, ClearExpiresAt: ch.ClearExpiresAt}); err != nil {
			return err
		}
	}
	return nil
}

// UpdateAssignmentInput is the input of updateAssignment.
type UpdateAssignmentInput struct {
	ID                string
	ExpectedUpdatedAt *time.Time
	AssetID           *string
	ExpiresAt         *time.Time
	ClearExpiresAt    *bool
	Active            *bool
	Fulfilled         *bool
	RedirectTo        *string
	Metadata          map[string]any
	DryRun            *bool
}

// UpdateAssignment changes the settable fields of a live assignment.
func UpdateAssignment(ctx context.Context, db *store.DB, actor Actor, in UpdateAssignmentInput) (*AssignResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.Assignment, "id", in.ID)
	ch := settable{AssetID: in.AssetID, ExpiresAt: in.ExpiresAt, ClearExpiresAt: opt.True(in.ClearExpiresAt),
		Active: in.Active, Fulfilled: in.Fulfilled, RedirectTo: in.RedirectTo, Metadata: in.Metadata}
	ch.check(&c, db.Now())
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *AssignResult
	err := Write(ctx, db, actor, in.DryRun, func(t *Tx) error {
		a, l, err := t.lockLive(id, in.ExpectedUpdatedAt)
		if err != nil {
			return err
		}
		if err := t.change(a, ch); err != nil {
			return err
		}
		l, err = t.reload(l.ID)
		res = &AssignResult{Assignment: withLicense(a, l), License: l}
		return err
	})
	return res, err
}

// lockLive locks an assignment the caller wants to change: it must be
// live (not deleted, revoked or expired) and, when the caller says which
// version it read, still at that version.
func (t *Tx) lockLive(id uuid.UUID, expected *time.Time) (*models.Assignment, *models.License, error) {
	a, l, err := t.lockAssignment(id, "input.id")
	if err != nil {
		return nil, nil, err
	}
	if err := t.checkLive(a); err != nil {
		return nil, nil, err
	}
	if err := CheckFresh(&a.Record, expected); err != nil {
		return nil, nil, err
	}
	return a, l, nil
}

// checkLive refuses to change a revoked or expired assignment.
func (t *Tx) checkLive(a *models.Assignment) error {
	switch {
	case a.IsDeleted:
		return problem.New(problem.NotFound, "input.id", "assignment not found")
	case a.RevokedAt != nil:
		return problem.New(problem.AlreadyRevoked, "input.id", "the assignment was revoked at %s", a.RevokedAt.Format(time.RFC3339))
	}
	if Status(a, t.now) == models.StatusExpired {
		return problem.New(problem.Invalid, "input.id", "the assignment has expired; assign the license again")
	}
	return nil
}

func eq(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func eqTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
