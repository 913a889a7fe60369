package licensing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// AssignInput is the input of assignLicense: a license and exactly one
// assignee (person, group, email or username), and the grant's settings.
type AssignInput struct {
	LicenseID         string
	PersonID          *string
	GroupID           *string
	Email             *string
	Username          *string
	AssetID           *string
	ExpiresAt         *time.Time
	Active            *bool
	Fulfilled         *bool
	RedirectTo        *string
	Metadata          map[string]any
	Source            *string
	SourceType        *models.SourceType
	Waitlist          *bool
	ExpectedUpdatedAt *time.Time
	DryRun            *bool
}

// AssignResult is what an assign did.
type AssignResult struct {
	Assignment *models.Assignment
	// Created is false when the live grant there already was got updated.
	Created bool
	// License is the license after the change, with its seat counters.
	License *models.License
}

// Assign grants a license, or updates the one live grant of that license
// to that assignee (SPEC §3: create or update).
func Assign(ctx context.Context, db *store.DB, actor Actor, in AssignInput) (*AssignResult, error) {
	var res *AssignResult
	err := Write(ctx, db, actor, isTrue(in.DryRun), func(tx *Tx) (err error) {
		res, err = tx.Assign(in, "input.")
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// AssignManyInput is the input of assignLicenses.
type AssignManyInput struct {
	Items  []*AssignInput
	DryRun *bool
}

// AssignMany assigns every item in one transaction: all or nothing.
func AssignMany(ctx context.Context, db *store.DB, actor Actor, in AssignManyInput) ([]*AssignResult, error) {
	if len(in.Items) > MaxBulkItems {
		return nil, problem.New(problem.Invalid, "input.items", "at most %d items per call", MaxBulkItems)
	}
	var out []*AssignResult
	err := Write(ctx, db, actor, isTrue(in.DryRun), func(tx *Tx) error {
		out = out[:0]
		if err := tx.lockAhead(in.Items); err != nil {
			return err
		}
		var problems problem.List
		for i, item := range in.Items {
			r, err := tx.Assign(*item, fmt.Sprintf("input.items[%d].", i))
			if ps, ok := problem.All(err); ok {
				problems = append(problems, ps...)
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return problems.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockAhead takes, in the global lock order, the locks a batch of assigns
// will need (addresses, groups and their members, people, licenses), so that concurrent batches
// naming the same things in other orders queue instead of deadlocking.
// Ids that are malformed or name nothing are left to each item to report.
func (t *Tx) lockAhead(items []*AssignInput) error {
	var emails []string
	var groups, licenses []uuid.UUID
	var people []uuid.UUID
	var usernames []string
	for _, in := range items {
		if in.Email != nil {
			emails = append(emails, strings.ToLower(*in.Email))
		}
		if in.Username != nil {
			usernames = append(usernames, strings.ToLower(*in.Username))
		}
		if in.PersonID != nil {
			if p, err := gid.Person.Parse(*in.PersonID); err == nil {
				people = append(people, p)
			}
		}
		if in.GroupID != nil {
			if g, err := gid.Group.Parse(*in.GroupID); err == nil {
				groups = append(groups, g)
			}
		}
		if l, err := gid.License.Parse(in.LicenseID); err == nil {
			licenses = append(licenses, l)
		}
	}
	slices.Sort(emails)
	for _, e := range slices.Compact(emails) {
		if err := t.LockEmail(e); err != nil {
			return err
		}
	}
	var locked []uuid.UUID
	if len(groups) > 0 {
		err := t.s.Select((*models.Group)(nil)).Column("g.id").Where("g.id IN (?)", bun.List(groups)).
			OrderExpr("g.id").For("NO KEY UPDATE").Scan(t.ctx, &locked)
		if err != nil {
			return err
		}
		for _, g := range sortedIDs(groups) {
			if err := t.shareLockMembers(g); err != nil {
				return err
			}
		}
	}
	if len(people)+len(usernames)+len(emails) > 0 {
		q := t.s.Tenantwide().Select((*models.Person)(nil)).Column("p.id").Where("NOT p.is_deleted").
			WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Where("p.id IN (?)", bun.List(append(people, uuid.Nil))).
					WhereOr("lower(p.username) IN (?)", bun.List(append(usernames, ""))).
					WhereOr("lower(p.email) IN (?)", bun.List(append(emails, "")))
			})
		if err := q.OrderExpr("p.id").For("SHARE").Scan(t.ctx, &locked); err != nil {
			return err
		}
	}
	if len(licenses) > 0 {
		err := t.s.Select((*models.License)(nil)).Column("l.id").Where("l.id IN (?)", bun.List(licenses)).
			OrderExpr("l.id").For("UPDATE").Scan(t.ctx, &locked)
		if err != nil {
			return err
		}
	}
	return nil
}

// Assign is Assign inside a transaction; prefix is the input path for
// problems.
func (t *Tx) Assign(in AssignInput, prefix string) (*AssignResult, error) {
	c := Check{Prefix: prefix}
	licenseID := c.ID(gid.License, "licenseId", in.LicenseID)
	if n := countSet(in.PersonID, in.GroupID, in.Email, in.Username); n != 1 {
		c.Add(problem.Invalid, "personId", "give exactly one of personId, groupId, email, username (got %d)", n)
	}
	personID := c.OptID(gid.Person, "personId", in.PersonID)
	groupID := c.OptID(gid.Group, "groupId", in.GroupID)
	c.Email("email", in.Email)
	c.Text("username", in.Username, true)
	ch := Changes{AssetID: in.AssetID, ExpiresAt: in.ExpiresAt, Active: in.Active, Fulfilled: in.Fulfilled,
		RedirectTo: in.RedirectTo, Metadata: in.Metadata}
	ch.check(&c, t.now)
	c.Text("source", in.Source, true)
	c.SourceType("sourceType", in.SourceType)
	if err := c.Err(); err != nil {
		return nil, err
	}

	// Lock order: the address or the group or the person, then the license.
	var group *models.Group
	var person *models.Person
	var email *string
	var err error
	if groupID != nil {
		if group, err = t.LockGroup(*groupID, prefix+"groupId"); err != nil {
			return nil, err
		}
		// The members too, so none is deleted under their inherited grant.
		if err := t.shareLockMembers(group.ID); err != nil {
			return nil, err
		}
	} else if person, email, err = t.resolvePerson(in, personID, prefix); err != nil {
		return nil, err
	}
	l, err := t.lockLicense(licenseID, prefix+"licenseId")
	if err != nil {
		return nil, err
	}
	if t.expired(l) {
		return nil, problem.New(problem.LicenseExpired, prefix+"licenseId", "license %q expired at %s; it grants no new seats",
			l.Name, l.ExpiresAt.Format(time.RFC3339))
	}

	existing, err := t.liveGrant(l.ID, person, group, email)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if err := CheckFresh(&existing.Record, in.ExpectedUpdatedAt); err != nil {
			return nil, err
		}
		if err := t.change(existing, ch); err != nil {
			return nil, err
		}
		l, err = t.reload(l.ID)
		return &AssignResult{Assignment: withLicense(existing, l), License: l}, err
	}

	a := &models.Assignment{Record: t.NewRecord(in.Source, in.SourceType), LicenseID: l.ID, AssignedAt: t.now,
		AssignedBy: t.actor.Subject, ExpiresAt: in.ExpiresAt, Active: deref(in.Active, true),
		Fulfilled: deref(in.Fulfilled, email == nil), RedirectTo: in.RedirectTo, AssetID: in.AssetID, Metadata: metadata(in.Metadata)}
	if a.AssignedByPersonID, err = t.assignedBy(); err != nil {
		return nil, err
	}
	switch {
	case group != nil:
		a.GroupID = &group.ID
		members, err := t.Members(group.ID, nil)
		if err != nil {
			return nil, err
		}
		if err := t.grantGroup(l, a, members, isTrue(in.Waitlist), prefix); err != nil {
			return nil, err
		}
	default:
		if person != nil {
			a.PersonID = &person.ID
		} else {
			a.Email = email
		}
		if err := t.grant(l, a, isTrue(in.Waitlist), prefix); err != nil {
			return nil, err
		}
	}
	l, err = t.reload(l.ID)
	return &AssignResult{Assignment: withLicense(a, l), Created: true, License: l}, err
}

// resolvePerson finds (and share-locks, so it cannot be deleted under the
// grant) the person an assign names by id, username or email. An email
// with no person yet is an invitation: it returns the address instead,
// holding the address's lock until commit so that a person created with
// it meanwhile binds the invitation. By email the whole tenant is
// searched: an address that belongs to a person is a grant to that person.
func (t *Tx) resolvePerson(in AssignInput, personID *uuid.UUID, prefix string) (*models.Person, *string, error) {
	var cond, field string
	var arg any
	s := t.s
	switch {
	case personID != nil:
		cond, arg, field = "p.id = ?", *personID, "personId"
	case in.Username != nil:
		cond, arg, field = "lower(p.username) = lower(?)", *in.Username, "username"
	case in.Email != nil:
		if err := t.LockEmail(*in.Email); err != nil {
			return nil, nil, err
		}
		cond, arg, field, s = "lower(p.email) = lower(?)", *in.Email, "email", s.Tenantwide()
	default:
		return nil, nil, nil
	}
	p := new(models.Person)
	err := s.Select(p).Where(cond, arg).Where("NOT p.is_deleted").Limit(1).For("SHARE").Scan(t.ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows) && in.Email != nil:
		return nil, in.Email, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil, problem.New(problem.NotFound, prefix+field, "person not found")
	case err != nil:
		return nil, nil, err
	}
	return p, nil, nil
}

// liveGrant finds the live direct grant of license to the assignee.
func (t *Tx) liveGrant(license uuid.UUID, p *models.Person, g *models.Group, email *string) (*models.Assignment, error) {
	q := selectAssignments(t.s).Where("a.license_id = ?", license).Where(liveSQL).Where("a.via_assignment_id IS NULL")
	switch {
	case p != nil:
		q = q.Where("a.person_id = ?", p.ID)
	case g != nil:
		q = q.Where("a.group_id = ?", g.ID)
	default:
		q = q.Where("lower(a.email) = lower(?)", *email)
	}
	var rows []*models.Assignment
	if err := q.For("UPDATE OF a").Scan(t.ctx, &rows); err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// grant inserts a person or invitation grant: it takes a free seat unless
// the holder already has one, waits for one when waitlist is set, and
// fails with SEAT_LIMIT_REACHED otherwise.
func (t *Tx) grant(l *models.License, a *models.Assignment, waitlist bool, prefix string) error {
	held, err := t.holding(l.ID, []string{a.Holder()})
	if err != nil {
		return err
	}
	ev := t.event(a, models.EventAssigned, grantChanges(a))
	if f := free(l); f != nil && *f == 0 && !held[a.Holder()] {
		if !waitlist {
			return seatLimit(l, 1, prefix+"licenseId")
		}
		queued, err := t.queueTime()
		if err != nil {
			return err
		}
		a.WaitlistedAt, ev.Type, ev.OccurredAt = &queued, models.EventWaitlisted, queued
	}
	return t.insertAssignments([]*models.Assignment{a}, []*models.AssignmentEvent{ev})
}

// grantGroup inserts a group grant and an inherited grant per member.
// Members who hold no seat yet need one each; when fewer are free, the
// grant fails, or with waitlist the members beyond the free seats wait,
// in membership order.
func (t *Tx) grantGroup(l *models.License, grant *models.Assignment, members []*models.Person, waitlist bool, prefix string) error {
	rows := []*models.Assignment{grant}
	events := []*models.AssignmentEvent{t.event(grant, models.EventAssigned, grantChanges(grant))}
	inherited, evs, err := t.inherit(l, grant, members, waitlist, prefix+"licenseId")
	if err != nil {
		return err
	}
	return t.insertAssignments(append(rows, inherited...), append(events, evs...))
}

// inherit makes the inherited grants of members through grant, deciding
// who takes a seat and who waits.
// A refusal is reported on field.
func (t *Tx) inherit(l *models.License, grant *models.Assignment, members []*models.Person, waitlist bool, field string) ([]*models.Assignment, []*models.AssignmentEvent, error) {
	holders := make([]string, len(members))
	for i, m := range members {
		holders[i] = m.ID.String()
	}
	held, err := t.holding(l.ID, holders)
	if err != nil {
		return nil, nil, err
	}
	needed := 0
	for _, h := range holders {
		if !held[h] {
			needed++
		}
	}
	f := free(l)
	if f != nil && needed > *f && !waitlist {
		return nil, nil, seatLimit(l, needed, field)
	}
	left := needed
	if f != nil {
		left = *f
	}
	var queued time.Time
	if left < needed {
		if queued, err = t.queueTime(); err != nil {
			return nil, nil, err
		}
	}
	var rows []*models.Assignment
	var events []*models.AssignmentEvent
	for _, m := range members {
		a := &models.Assignment{Record: t.NewRecord(&grant.Source, &grant.SourceType), LicenseID: l.ID,
			PersonID: &m.ID, ViaAssignmentID: &grant.ID, ViaGroupID: grant.GroupID, AssignedAt: t.now,
			AssignedBy: grant.AssignedBy, AssignedByPersonID: grant.AssignedByPersonID, ExpiresAt: grant.ExpiresAt,
			Active: grant.Active, Fulfilled: true, RedirectTo: grant.RedirectTo, Metadata: map[string]any{}}
		ev := t.event(a, models.EventAssigned, map[string]any{"viaGroupId": gid.Group.FormatPtr(grant.GroupID)})
		switch {
		case held[m.ID.String()]:
		case left > 0:
			left--
		default:
			a.WaitlistedAt, ev.Type, ev.OccurredAt = &queued, models.EventWaitlisted, queued
		}
		rows = append(rows, a)
		events = append(events, ev)
	}
	return rows, events, nil
}

func seatLimit(l *models.License, needed int, field string) error {
	f := free(l)
	return problem.New(problem.SeatLimitReached, field,
		"license %q needs %d more seat(s) but has %d free of %d; revoke seats, raise totalSeats or pass waitlist: true",
		l.Name, needed, *f, *l.TotalSeats)
}

// Changes are the settable fields of an assignment.
type Changes struct {
	AssetID        *string
	ExpiresAt      *time.Time
	ClearExpiresAt bool
	Active         *bool
	Fulfilled      *bool
	RedirectTo     *string
	Metadata       map[string]any
}

func (ch Changes) check(c *Check, now time.Time) {
	c.Text("assetId", ch.AssetID, true)
	c.Future("expiresAt", ch.ExpiresAt, now)
	c.URL("redirectTo", ch.RedirectTo)
	c.Metadata("metadata", ch.Metadata)
}

// change applies ch to a live assignment, with one event per kind of
// change; suspending, resuming and the end date of a group grant carry
// over to its inherited grants.
func (t *Tx) change(a *models.Assignment, ch Changes) error {
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
		if err := t.change(child, Changes{Active: ch.Active, ExpiresAt: ch.ExpiresAt, ClearExpiresAt: ch.ClearExpiresAt}); err != nil {
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
	c := Check{Prefix: "input."}
	id := c.ID(gid.Assignment, "id", in.ID)
	ch := Changes{AssetID: in.AssetID, ExpiresAt: in.ExpiresAt, ClearExpiresAt: isTrue(in.ClearExpiresAt),
		Active: in.Active, Fulfilled: in.Fulfilled, RedirectTo: in.RedirectTo, Metadata: in.Metadata}
	ch.check(&c, time.Now())
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *AssignResult
	err := Write(ctx, db, actor, isTrue(in.DryRun), func(t *Tx) error {
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
	c := Check{Prefix: "input."}
	id := c.ID(gid.Assignment, "id", in.ID)
	c.Text("reason", in.Reason, false)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *AssignResult
	err := Write(ctx, db, actor, isTrue(in.DryRun), func(t *Tx) error {
		a, l, err := t.lockLive(id, in.ExpectedUpdatedAt)
		if err != nil {
			return err
		}
		if a.ViaAssignmentID != nil {
			return problem.New(problem.Invalid, "input.id",
				"this seat is inherited through a group grant: revoke the group grant or remove the member from the group")
		}
		if err := t.End([]*models.Assignment{a}, models.EventRevoked, deref(in.Reason, "")); err != nil {
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

// lockAssignment locks an assignment (not deleted) after its license.
func (t *Tx) lockAssignment(id uuid.UUID) (*models.Assignment, *models.License, error) {
	var lic []uuid.UUID
	err := t.s.Select((*models.Assignment)(nil)).Column("a.license_id").Where("a.id = ?", id).
		Where("NOT a.is_deleted").Scan(t.ctx, &lic)
	if err != nil {
		return nil, nil, err
	}
	if len(lic) == 0 {
		return nil, nil, problem.New(problem.NotFound, "input.id", "assignment not found")
	}
	l, err := t.lockLicense(lic[0], "input.id")
	if err != nil {
		return nil, nil, err
	}
	// Read again under the license's lock: a writer that held it may have
	// deleted the assignment meanwhile.
	var rows []*models.Assignment
	if err := selectAssignments(t.s).Where("a.id = ?", id).Where("NOT a.is_deleted").For("UPDATE OF a").Scan(t.ctx, &rows); err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, problem.New(problem.NotFound, "input.id", "assignment not found")
	}
	return rows[0], l, nil
}

// lockLive locks an assignment the caller wants to change: it must be
// live (not deleted, revoked or expired) and, when the caller says which
// version it read, still at that version.
func (t *Tx) lockLive(id uuid.UUID, expected *time.Time) (*models.Assignment, *models.License, error) {
	a, l, err := t.lockAssignment(id)
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
	switch Status(a, t.now) {
	case models.StatusExpired:
		return problem.New(problem.Invalid, "input.id", "the assignment has expired; assign the license again")
	}
	return nil
}

// End revokes (typ REVOKED) or deletes (typ DELETED) live assignments and
// the inherited grants of any group grant among them, and marks their
// licenses for waitlist promotion. The caller holds the licenses' locks.
func (t *Tx) End(rows []*models.Assignment, typ models.EventType, reason string) error {
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
	c := Check{Prefix: "input."}
	now := time.Now().UTC()
	usedAt := now
	if in.UsedAt != nil {
		usedAt = in.UsedAt.UTC()
		if usedAt.After(now.Add(time.Minute)) {
			c.Add(problem.Invalid, "usedAt", "must not be in the future")
		}
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
	err := db.WriteRetrying(ctx, actor.Tenant, func(s store.Scope) error {
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
	c := Check{Prefix: "input."}
	license := c.OptID(gid.License, "licenseId", in.LicenseID)
	c.Text("reason", in.Reason, false)
	if in.UnusedSince.After(time.Now()) {
		c.Add(problem.Invalid, "unusedSince", "must not be in the future")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	reason := deref(in.Reason, "unused since "+in.UnusedSince.UTC().Format(time.DateOnly))
	var out []*models.Assignment
	err := Write(ctx, db, actor, isTrue(in.DryRun), func(t *Tx) error {
		if license != nil {
			if _, err := t.lockLicense(*license, "input.licenseId"); err != nil {
				return err
			}
		}
		q := func(base func(store.Scope) *bun.SelectQuery) *bun.SelectQuery {
			q := base(t.s).Where(liveSQL).
				Where("a.via_assignment_id IS NULL AND a.group_id IS NULL AND a.waitlisted_at IS NULL").
				Where("coalesce(a.last_used_at, a.assigned_at) < ?", in.UnusedSince)
			if license != nil {
				q = q.Where("a.license_id = ?", *license)
			}
			return q
		}
		var ids []uuid.UUID
		if err := q(joinLicenses).ColumnExpr("DISTINCT a.license_id").Scan(t.ctx, &ids); err != nil {
			return err
		}
		if _, err := t.LockLicenses(ids...); err != nil {
			return err
		}
		out = nil
		if err := q(selectAssignments).OrderExpr("a.license_id, a.id").For("UPDATE OF a").Scan(t.ctx, &out); err != nil {
			return err
		}
		return t.End(out, models.EventRevoked, reason)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// withLicense fills the license fields an assignment is read with.
func withLicense(a *models.Assignment, l *models.License) *models.Assignment {
	a.LicenseName, a.ProgramKey, a.LicenseExpiresAt = l.Name, l.ProgramKey, l.ExpiresAt
	return a
}

func grantChanges(a *models.Assignment) map[string]any {
	m := map[string]any{"active": a.Active, "fulfilled": a.Fulfilled}
	switch {
	case a.PersonID != nil:
		m["personId"] = gid.Person.Format(*a.PersonID)
	case a.GroupID != nil:
		m["groupId"] = gid.Group.Format(*a.GroupID)
	case a.Email != nil:
		m["email"] = *a.Email
	}
	if a.ExpiresAt != nil {
		m["expiresAt"] = a.ExpiresAt
	}
	return m
}

func metadata(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func countSet(ps ...*string) int {
	n := 0
	for _, p := range ps {
		if p != nil {
			n++
		}
	}
	return n
}

func isTrue(b *bool) bool { return b != nil && *b }

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func eq(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func eqTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
