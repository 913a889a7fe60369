package licensing

import (
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

// This file is the seat engine: how a write takes its locks, who holds a
// seat, who takes a free one and who waits, and how freed seats (by
// revocation or by time) go to the waitlist.
//
// Lock order. Every writer locks in one global order, so concurrent
// writers on any number of replicas serialise per license instead of
// racing or deadlocking:
//
//  1. an email address (LockEmail), a group (LockGroup, then its members
//     share-locked) or a person (share-locked by the operation);
//  2. licenses, by id (lockLicenses, the one way to lock licenses);
//  3. assignments of the locked licenses (lockGrants, lockAssignment).
//
// The seat invariant itself lives in the database (a CHECK on the license
// row, kept by the assignments_seats trigger); the engine's checks come
// first only so the caller gets a useful SEAT_LIMIT_REACHED.

// LockEmail takes, until commit, the tenant's lock on an email address:
// inviting an address and creating (or renaming) a person to it serialise
// on it, so an invitation is always bound to its person. The lock is the
// address's row in email_locks (a row lock holds on whichever node a
// replica reaches, an advisory lock would not on Citus). An existing row
// is locked by ON CONFLICT DO UPDATE even though its WHERE false updates
// nothing, so locking writes no new row version; the expiry job prunes
// rows no transaction holds (pruneEmailLocks).
func (t *Tx) LockEmail(email string) error {
	_, err := t.s.Exec(t.ctx, `INSERT INTO email_locks (tenant_id, email) VALUES (?, ?)
		ON CONFLICT (tenant_id, email) DO UPDATE SET email = excluded.email WHERE false`,
		t.actor.Tenant.ID, strings.ToLower(email))
	return err
}

// LockGroup locks a live group; every change to a group's grants or
// members takes this lock first.
func (t *Tx) LockGroup(id uuid.UUID, field string) (*models.Group, error) {
	locked, err := t.lockGroups([]uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	if len(locked) == 0 {
		return nil, problem.New(problem.NotFound, field, "group not found")
	}
	return locked[0], nil
}

// lockGroups locks the live groups ids (those the caller sees) in id
// order. Every group lock is taken here.
func (t *Tx) lockGroups(ids []uuid.UUID) ([]*models.Group, error) {
	var rows []*models.Group
	err := t.s.Select(&rows).Where("g.id IN (?)", bun.List(sortedIDs(ids))).Where("NOT g.is_deleted").
		OrderExpr("g.id").For("NO KEY UPDATE").Scan(t.ctx)
	return rows, err
}

// shareLockMembers share-locks a group's live members in id order, so
// that none is deleted while the group's grants reach them.
func (t *Tx) shareLockMembers(group uuid.UUID) error {
	var ids []uuid.UUID
	return t.s.Tenantwide().Select((*models.Person)(nil)).Column("p.id").
		Join("JOIN group_members AS gm ON gm.tenant_id = p.tenant_id AND gm.person_id = p.id").
		Where("gm.group_id = ?", group).Where("NOT p.is_deleted").OrderExpr("p.id").
		For("SHARE OF p").Scan(t.ctx, &ids)
}

// lockLicenses locks the licenses ids in id order (only the live ones
// when liveOnly, else deleted ones too), and returns those s sees, with
// their seat counters. Every license lock is taken here.
func (t *Tx) lockLicenses(s store.Scope, ids []uuid.UUID, liveOnly bool) (map[uuid.UUID]*models.License, error) {
	return t.lockLicensesFor(s, ids, liveOnly, "UPDATE")
}

// lockLicensesFor is lockLicenses in lock mode (UPDATE, or KEY SHARE for
// lockLicenseToGrant).
func (t *Tx) lockLicensesFor(s store.Scope, ids []uuid.UUID, liveOnly bool, mode string) (map[uuid.UUID]*models.License, error) {
	ids = sortedIDs(ids)
	out := make(map[uuid.UUID]*models.License, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []*models.License
	q := selectLicenses(s).Where("l.id IN (?)", bun.List(ids))
	if liveOnly {
		q = q.Where("NOT l.is_deleted")
	}
	err := q.OrderExpr("l.id").For(mode).Scan(t.ctx, &rows)
	for _, l := range rows {
		out[l.ID] = l
	}
	return out, err
}

// lockReached locks licenses reached as a consequence of a write (through
// a group, a person, an invitation), so it sees the whole tenant, not only
// the caller's app; a missing one is NOT_FOUND. A license deleted
// meanwhile is locked and returned too (callers skip it): the
// consequence, not the license, is what the write is about.
func (t *Tx) lockReached(ids ...uuid.UUID) (map[uuid.UUID]*models.License, error) {
	locked, err := t.lockLicenses(t.s.Tenantwide(), ids, false)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if locked[id] == nil {
			return nil, problem.New(problem.NotFound, "", "license %s not found", gid.License.Format(id))
		}
	}
	return locked, nil
}

// lockLicense locks one live license the caller names (so an application
// caller reaches only its own), and first ends its grants whose time has
// come, so that a write never competes with seats that already expired.
func (t *Tx) lockLicense(id uuid.UUID, field string) (*models.License, error) {
	locked, err := t.lockLicenses(t.s, []uuid.UUID{id}, true)
	if err != nil {
		return nil, err
	}
	if locked[id] == nil {
		return nil, problem.New(problem.NotFound, field, "license %s not found", gid.License.Format(id))
	}
	// The locked row is current; it is read again only when ending due
	// grants changed its counters (one round trip less under the lock).
	if ended, err := t.expireDue(id); err != nil || !ended {
		return locked[id], err
	}
	return t.reload(id)
}

// lockLicenseToGrant is lockLicense for a write that only adds a grant
// (assignLicense). An unlimited license has no seat to run out of, so
// such writes need not wait for each other: it is locked FOR KEY SHARE,
// which keeps out every writer that takes the license's exclusive lock
// (an update of totalSeats, a delete, a revoke) until this one commits,
// and lets other grants to it go on at once. Its counters stay exact: the
// seat trigger's UPDATE of the license row serialises their increments
// (for the few statements from the insert to the commit), and the CHECK
// still refuses a count over a limit set meanwhile. A limited license is
// locked exclusively, as by lockLicense.
func (t *Tx) lockLicenseToGrant(id uuid.UUID, field string) (*models.License, error) {
	var seen []*models.License
	err := t.s.Select(&seen).Column("l.id", "l.total_seats").Where("l.id = ?", id).Where("NOT l.is_deleted").Scan(t.ctx)
	if err != nil {
		return nil, err
	}
	if len(seen) == 0 || seen[0].TotalSeats != nil {
		return t.lockLicense(id, field)
	}
	locked, err := t.lockLicensesFor(t.s, []uuid.UUID{id}, true, "KEY SHARE")
	switch {
	case err != nil:
		return nil, err
	case locked[id] == nil:
		// Deleted between the read and the lock (and so not locked).
		return t.lockLicense(id, field)
	case locked[id].TotalSeats != nil:
		// Given a limit between the read and the lock: the share lock
		// must not be upgraded in place (two writes upgrading at once
		// deadlock); the transaction starts again and, reading the
		// limit, takes the exclusive lock at once.
		return nil, store.ErrRestart
	}
	if ended, err := t.expireDue(id); err != nil || !ended {
		return locked[id], err
	}
	return t.reload(id)
}

// lockGrants locks the licenses of the live assignments match selects in
// s, then those assignments, and returns them in license and id order with
// the licenses. It is how a write reaches the grants that a change of
// something else touches: a group's grants, a deleted person's, the
// invitations to an address, unused seats, grants whose time has come.
func (t *Tx) lockGrants(s store.Scope, match func(*bun.SelectQuery) *bun.SelectQuery) ([]*models.Assignment, map[uuid.UUID]*models.License, error) {
	var ids []uuid.UUID
	if err := match(joinLicenses(s)).Where(liveSQL).ColumnExpr("DISTINCT a.license_id").Scan(t.ctx, &ids); err != nil || len(ids) == 0 {
		return nil, nil, err
	}
	licenses, err := t.lockReached(ids...)
	if err != nil {
		return nil, nil, err
	}
	var rows []*models.Assignment
	err = match(selectAssignments(s)).Where(liveSQL).OrderExpr("a.license_id, a.id").For("UPDATE OF a").Scan(t.ctx, &rows)
	return rows, licenses, err
}

// lockAssignment locks an assignment (not deleted) after its license.
func (t *Tx) lockAssignment(id uuid.UUID, field string) (*models.Assignment, *models.License, error) {
	var lic []uuid.UUID
	err := t.s.Select((*models.Assignment)(nil)).Column("a.license_id").Where("a.id = ?", id).
		Where("NOT a.is_deleted").Scan(t.ctx, &lic)
	if err != nil {
		return nil, nil, err
	}
	if len(lic) == 0 {
		return nil, nil, problem.New(problem.NotFound, field, "assignment not found")
	}
	l, err := t.lockLicense(lic[0], field)
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
		return nil, nil, problem.New(problem.NotFound, field, "assignment not found")
	}
	return rows[0], l, nil
}

// liveGrant finds (and locks) the live direct grant of license to the
// assignee: a person, a group, or an invited address. There is at most
// one: assigning again updates it.
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

// expireDue ends the live grants of a locked license whose end has come,
// as the expiry job would, and gives the freed seats to the waitlist
// before the write that found them expired can take one. It reports
// whether it ended any.
func (t *Tx) expireDue(license uuid.UUID) (ended bool, err error) {
	var rows []*models.Assignment
	err = selectAssignments(t.s.Tenantwide()).Where("a.license_id = ?", license).Where(liveSQL).
		Where(endedSQL("a.expires_at"), t.now).OrderExpr("a.id").For("UPDATE OF a").Scan(t.ctx, &rows)
	if err != nil || len(rows) == 0 {
		return false, err
	}
	if err := t.expire(rows); err != nil {
		return true, err
	}
	return true, t.promote(license)
}

// expire ends rows as EXPIRED (the caller holds their licenses' locks)
// and marks the licenses for waitlist promotion. Time ended them, not the
// caller whose write noticed: the events and stamps name the system.
func (t *Tx) expire(rows []*models.Assignment) error {
	if len(rows) == 0 {
		return nil
	}
	sys := system(t.actor.Tenant.ID)
	events := make([]*models.AssignmentEvent, len(rows))
	for i, a := range rows {
		a.ExpiredAt, a.UpdatedAt, a.UpdatedBy = &t.now, t.now, sys.Subject
		ev := t.event(a, models.EventExpired, map[string]any{"expiresAt": firstEnd(a)})
		ev.Actor, ev.ActorType = sys.Subject, sys.SourceType
		events[i] = ev
		t.touched[a.LicenseID] = true
		if _, err := t.s.Update(a).Column("expired_at", "updated_at", "updated_by").WherePK().Exec(t.ctx); err != nil {
			return err
		}
	}
	return t.insertEvents(events)
}

// reload reads a license's current counters (the caller holds its lock).
func (t *Tx) reload(id uuid.UUID) (*models.License, error) {
	l := new(models.License)
	err := selectLicenses(t.s.Tenantwide()).Where("l.id = ?", id).Scan(t.ctx, l)
	return l, err
}

// holding returns which of holders already hold a seat of license.
func (t *Tx) holding(license uuid.UUID, holders []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(holders) == 0 {
		return out, nil
	}
	var rows []string
	err := t.s.Select((*models.SeatHolder)(nil)).Column("sh.holder").
		Where("sh.license_id = ?", license).Where("sh.holder IN (?)", bun.List(holders)).Scan(t.ctx, &rows)
	for _, h := range rows {
		out[h] = true
	}
	return out, err
}

// queueTime is the database's clock now. Taken while the license lock is
// held, it orders the waitlist exactly as the lock ordered the writers,
// whichever replica (and clock) each ran on.
func (t *Tx) queueTime() (time.Time, error) {
	var now time.Time
	err := t.s.Compose().ColumnExpr("clock_timestamp()").Scan(t.ctx, &now)
	return now.UTC(), err
}

// seatLimit is the refusal of a grant that needs more seats than are free.
func seatLimit(l *models.License, needed int, field string) error {
	return problem.New(problem.SeatLimitReached, field,
		"license %q needs %d more seat(s) but has %d free of %d; revoke seats, raise totalSeats or pass waitlist: true",
		l.Name, needed, *l.Free(), *l.TotalSeats)
}

// takeSeat inserts a person or invitation grant a of the locked license l:
// it takes a free seat unless the holder already has one, waits for one
// when waitlist is set, and fails with SEAT_LIMIT_REACHED otherwise. A
// grant to a deactivated person (DeactivatedAt set by the caller) needs
// no seat: it is kept for their return (rule 9).
func (t *Tx) takeSeat(l *models.License, a *models.Assignment, waitlist bool, field string) error {
	ev := t.event(a, models.EventAssigned, grantChanges(a))
	// Whether the holder already has a seat matters only when none is
	// free (an unlimited license, or one with room, asks nothing more).
	full := false
	if a.DeactivatedAt != nil {
		ev.Changes["deactivated"] = true
	} else if f := l.Free(); f != nil && *f == 0 {
		held, err := t.holding(l.ID, []string{a.Holder()})
		if err != nil {
			return err
		}
		full = !held[a.Holder()]
	}
	if full {
		if !waitlist {
			return seatLimit(l, 1, field)
		}
		queued, err := t.queueTime()
		if err != nil {
			return err
		}
		a.WaitlistedAt, ev.Type, ev.OccurredAt = &queued, models.EventWaitlisted, queued
	}
	return t.insertAssignments([]*models.Assignment{a}, []*models.AssignmentEvent{ev})
}

// inherit makes the inherited grants of members through a group grant of
// the locked license l, deciding who takes a seat and who waits: members
// who hold no seat yet need one each; when fewer are free, it fails, or
// with waitlist the members beyond the free seats wait, in membership
// order. A refusal is reported on field.
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
	for i, h := range holders {
		if !held[h] && members[i].Active {
			needed++
		}
	}
	f := l.Free()
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
		case !m.Active:
			// Rule 9: kept for the member's return, holding no seat.
			a.DeactivatedAt, ev.Changes["deactivated"] = &t.now, true
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

// promoteTouched promotes the waitlists of every license whose seats this
// transaction may have freed, in license order.
func (t *Tx) promoteTouched() error {
	ids := make([]uuid.UUID, 0, len(t.touched))
	for id := range t.touched {
		ids = append(ids, id)
	}
	for _, id := range sortedIDs(ids) {
		if err := t.promote(id); err != nil {
			return err
		}
	}
	return nil
}

// promote gives free seats of license to its waitlist, first in first out.
// A waitlisted person who meanwhile got a seat through another grant is
// promoted at no cost.
func (t *Tx) promote(id uuid.UUID) error {
	l, err := t.reload(id)
	if err != nil || l.IsDeleted || Expired(l, t.now) || l.SeatsWaitlisted == 0 {
		return err
	}
	for {
		f := l.Free()
		var next []*models.Assignment
		err := selectAssignments(t.s.Tenantwide()).Where("a.license_id = ?", id).Where(liveSQL).
			Where("a.waitlisted_at IS NOT NULL AND a.deactivated_at IS NULL").OrderExpr("a.waitlisted_at, a.id").Limit(1).
			For("UPDATE OF a").Scan(t.ctx, &next)
		if err != nil || len(next) == 0 {
			return err
		}
		a := next[0]
		held, err := t.holding(id, []string{a.Holder()})
		if err != nil {
			return err
		}
		if f != nil && *f == 0 && !held[a.Holder()] {
			return nil
		}
		a.WaitlistedAt = nil
		if err := t.updateAssignments([]*models.Assignment{a}, "waitlisted_at"); err != nil {
			return err
		}
		ev := t.event(a, models.EventPromoted, nil)
		if ev.OccurredAt, err = t.queueTime(); err != nil {
			return err
		}
		if err := t.insertEvents([]*models.AssignmentEvent{ev}); err != nil {
			return err
		}
		if l, err = t.reload(id); err != nil {
			return err
		}
	}
}

// sortedIDs is ids sorted (the lock order) without repeats.
func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return slices.Compact(ids)
}
