package licensing

import (
	"slices"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/opt"
	"seatgraph/models"
)

// This file holds the cascade hooks: what the directory's writes (people
// and groups) do to seats, inside the directory's own transaction.

// Members reads a group's live members in membership order (all of them,
// or those among only).
func (t *Tx) Members(group uuid.UUID, only []uuid.UUID) ([]*models.Person, error) {
	q := t.s.Tenantwide().Select((*models.Person)(nil)).ColumnExpr("p.*").
		Join("JOIN group_members AS gm ON gm.tenant_id = p.tenant_id AND gm.person_id = p.id").
		Where("gm.group_id = ?", group).Where("NOT p.is_deleted").OrderExpr("gm.added_at, gm.person_id")
	if only != nil {
		q = q.Where("p.id IN (?)", bun.List(only))
	}
	var rows []*models.Person
	err := q.Scan(t.ctx, &rows)
	return rows, err
}

// groupGrants reads (and locks, after locking their licenses) the live
// grants made to a group.
func (t *Tx) groupGrants(group uuid.UUID) ([]*models.Assignment, map[uuid.UUID]*models.License, error) {
	return t.lockGrants(t.s.Tenantwide(), func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("a.group_id = ?", group)
	})
}

// MembersAdded gives people who just joined a group an inherited grant of
// every license granted to the group. When a license runs out of seats
// the whole change fails, or with waitlist the newcomers wait.
func (t *Tx) MembersAdded(group *models.Group, people []*models.Person, waitlist *bool) error {
	added := make([]uuid.UUID, len(people))
	for i, p := range people {
		added[i] = p.ID
	}
	t.noteMembers(group, added, nil)
	grants, licenses, err := t.groupGrants(group.ID)
	if err != nil || len(people) == 0 {
		return err
	}
	for _, g := range grants {
		l := licenses[g.LicenseID]
		if l.IsDeleted || Expired(l, t.now) {
			continue
		}
		rows, events, err := t.inherit(l, g, people, opt.True(waitlist), "input.personIds")
		if err != nil {
			return err
		}
		if err := t.insertAssignments(rows, events); err != nil {
			return err
		}
	}
	return nil
}

// MembersRemoved ends the inherited grants of people who left a group.
func (t *Tx) MembersRemoved(group *models.Group, people []uuid.UUID) error {
	if len(people) == 0 {
		return nil
	}
	t.noteMembers(group, nil, people)
	grants, _, err := t.groupGrants(group.ID)
	if err != nil || len(grants) == 0 {
		return err
	}
	ids := make([]uuid.UUID, len(grants))
	for i, g := range grants {
		ids[i] = g.ID
	}
	inherited, err := t.inheritedOf(ids)
	if err != nil {
		return err
	}
	inherited = slices.DeleteFunc(inherited, func(a *models.Assignment) bool {
		return !slices.Contains(people, *a.PersonID)
	})
	return t.endGrants(inherited, models.EventRevoked, "removed from group "+group.Name)
}

// GroupDeleted ends the grants made to a deleted group and their
// inherited grants.
func (t *Tx) GroupDeleted(group *models.Group) error {
	grants, _, err := t.groupGrants(group.ID)
	if err != nil {
		return err
	}
	return t.endGrants(grants, models.EventDeleted, "group deleted")
}

// PersonDeleted ends every live grant of a deleted person.
func (t *Tx) PersonDeleted(person uuid.UUID) error {
	rows, _, err := t.lockGrants(t.s.Tenantwide(), func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("a.person_id = ?", person)
	})
	if err != nil {
		return err
	}
	return t.endGrants(rows, models.EventDeleted, "person deleted")
}

// BindInvitations turns the live email invitations to a person's address
// into grants to the person, fulfilled (SPEC §2 rule 7). An invitation to
// a license the person already holds directly is revoked instead. It
// returns how many invitations were bound.
func (t *Tx) BindInvitations(p *models.Person) (int, error) {
	invites, _, err := t.lockGrants(t.s.Tenantwide(), func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("lower(a.email) = lower(?)", p.Email)
	})
	if err != nil {
		return 0, err
	}
	bound := 0
	for _, a := range invites {
		existing, err := t.liveGrant(a.LicenseID, p, nil, nil)
		if err != nil {
			return bound, err
		}
		if existing != nil {
			if err := t.endGrants([]*models.Assignment{a}, models.EventRevoked, "merged into the person's own grant"); err != nil {
				return bound, err
			}
			continue
		}
		// The person may hold the license already: binding can free a seat.
		t.touched[a.LicenseID] = true
		a.PersonID, a.Email, a.Fulfilled = &p.ID, nil, true
		cols := []string{"person_id", "email", "fulfilled"}
		if !p.Active {
			// Rule 9: the invitation becomes a deactivated person's grant.
			a.DeactivatedAt, a.WaitlistedAt = &t.now, nil
			cols = append(cols, "deactivated_at", "waitlisted_at")
		}
		if err := t.updateAssignments([]*models.Assignment{a}, cols...); err != nil {
			return bound, err
		}
		ev := t.event(a, models.EventFulfilled, map[string]any{"personId": gid.Person.Format(p.ID), "email": p.Email})
		if err := t.insertEvents([]*models.AssignmentEvent{ev}); err != nil {
			return bound, err
		}
		bound++
	}
	return bound, nil
}

// personGrants locks (after their licenses) a person's live grants, direct
// and inherited, that are deactivated or not, in license and id order:
// ids are UUIDv7, so within a license that is the order they were made.
func (t *Tx) personGrants(person uuid.UUID, deactivated bool) ([]*models.Assignment, map[uuid.UUID]*models.License, error) {
	return t.lockGrants(t.s.Tenantwide(), func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("a.person_id = ?", person)
		if deactivated {
			return q.Where("a.deactivated_at IS NOT NULL")
		}
		return q.Where("a.deactivated_at IS NULL")
	})
}

// PersonDeactivated applies seat rule 9 to a person just deactivated: each
// live grant is kept but reads DEACTIVATED, holds no seat and leaves the
// waitlist; the seats freed go to the waitlists before commit.
func (t *Tx) PersonDeactivated(person uuid.UUID) error {
	rows, _, err := t.personGrants(person, false)
	if err != nil || len(rows) == 0 {
		return err
	}
	events := make([]*models.AssignmentEvent, len(rows))
	for i, a := range rows {
		t.touched[a.LicenseID] = true
		was := Status(a, t.now)
		a.DeactivatedAt, a.WaitlistedAt = &t.now, nil
		events[i] = t.event(a, models.EventDeactivated, map[string]any{"previousStatus": was})
	}
	if err := t.updateAssignments(rows, "deactivated_at", "waitlisted_at"); err != nil {
		return err
	}
	return t.insertEvents(events)
}

// PersonReactivated restores a reactivated person's grants (rule 9), in
// the order they were made: each takes its seat back when the person
// still holds one or one is free, and otherwise joins the end of the
// waitlist. Grants whose end came meanwhile expire instead.
func (t *Tx) PersonReactivated(person uuid.UUID) error {
	rows, licenses, err := t.personGrants(person, true)
	if err != nil || len(rows) == 0 {
		return err
	}
	var over []*models.Assignment
	for _, a := range rows {
		if ended(a.ExpiresAt, t.now) || Expired(licenses[a.LicenseID], t.now) {
			over = append(over, a)
		}
	}
	if err := t.expire(over); err != nil {
		return err
	}
	for _, a := range rows {
		if slices.Contains(over, a) {
			continue
		}
		l, err := t.reload(a.LicenseID)
		if err != nil {
			return err
		}
		held, err := t.holding(l.ID, []string{a.Holder()})
		if err != nil {
			return err
		}
		a.DeactivatedAt = nil
		ev := t.event(a, models.EventReactivated, nil)
		if f := l.Free(); a.GroupID == nil && f != nil && *f == 0 && !held[a.Holder()] {
			queued, err := t.queueTime()
			if err != nil {
				return err
			}
			a.WaitlistedAt, ev.Type, ev.OccurredAt = &queued, models.EventWaitlisted, queued
			ev.Changes["reason"] = "reactivated with no seat free"
		}
		if err := t.updateAssignments([]*models.Assignment{a}, "deactivated_at", "waitlisted_at"); err != nil {
			return err
		}
		if err := t.insertEvents([]*models.AssignmentEvent{ev}); err != nil {
			return err
		}
	}
	return nil
}
