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
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// maxBulkItems is the most items one assignLicenses call takes.
const maxBulkItems = 100

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
	for attempt := 0; ; attempt++ {
		raced := false
		err := Write(ctx, db, actor, in.DryRun, func(tx *Tx) (err error) {
			res, err = tx.assign(in, "input.")
			// Two grants of an unlimited license to one assignee at once
			// (lockLicenseToGrant lets them run together): the second
			// insert meets the first's live grant; run again, it finds
			// that grant and updates it, as if they had queued.
			_, constraint, _ := store.Violation(err)
			raced = attempt == 0 && strings.HasPrefix(constraint, "assignments_live_")
			return err
		})
		if raced {
			continue
		}
		if err != nil {
			return nil, err
		}
		return res, nil
	}
}

// AssignManyInput is the input of assignLicenses.
type AssignManyInput struct {
	Items  []*AssignInput
	DryRun *bool
}

// AssignMany assigns every item in one transaction: all or nothing.
func AssignMany(ctx context.Context, db *store.DB, actor Actor, in AssignManyInput) ([]*AssignResult, error) {
	if len(in.Items) > maxBulkItems {
		return nil, problem.New(problem.Invalid, "input.items", "at most %d items per call", maxBulkItems)
	}
	var out []*AssignResult
	err := Write(ctx, db, actor, in.DryRun, func(tx *Tx) error {
		out = out[:0]
		if err := tx.lockAhead(in.Items); err != nil {
			return err
		}
		var problems problem.List
		for i, item := range in.Items {
			r, err := tx.assign(*item, fmt.Sprintf("input.items[%d].", i))
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
	if len(groups) > 0 {
		locked, err := t.lockGroups(groups)
		if err != nil {
			return err
		}
		for _, g := range locked {
			if err := t.shareLockMembers(g.ID); err != nil {
				return err
			}
		}
	}
	if len(people)+len(usernames)+len(emails) > 0 {
		// Only the kinds of key the batch names (a list must not be
		// empty); each arm is an index condition, so the OR is one.
		q := t.s.Tenantwide().Select((*models.Person)(nil)).Column("p.id").Where("NOT p.is_deleted").
			WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
				if len(people) > 0 {
					q = q.WhereOr("p.id IN (?)", bun.List(people))
				}
				if len(usernames) > 0 {
					q = q.WhereOr("p.username_normalized IN (?)", bun.List(usernames))
				}
				if len(emails) > 0 {
					q = q.WhereOr("p.email_normalized IN (?)", bun.List(emails))
				}
				return q
			})
		var locked []uuid.UUID
		if err := q.OrderExpr("p.id").For("SHARE").Scan(t.ctx, &locked); err != nil {
			return err
		}
	}
	_, err := t.lockLicenses(t.s, licenses, false)
	return err
}

// assign is Assign inside a transaction; prefix is the input path for
// problems.
func (t *Tx) assign(in AssignInput, prefix string) (*AssignResult, error) {
	c := problem.Check{Prefix: prefix}
	licenseID := c.ID(gid.License, "licenseId", in.LicenseID)
	c.Exactly([]string{"personId", "groupId", "email", "username"}, in.PersonID, in.GroupID, in.Email, in.Username)
	personID := c.OptID(gid.Person, "personId", in.PersonID)
	groupID := c.OptID(gid.Group, "groupId", in.GroupID)
	c.Email("email", in.Email)
	c.Text("username", in.Username, true)
	ch := settable{AssetID: in.AssetID, ExpiresAt: in.ExpiresAt, Active: in.Active, Fulfilled: in.Fulfilled,
		RedirectTo: in.RedirectTo, Metadata: in.Metadata}
	ch.check(&c, t.now)
	CheckProvenance(&c, in.Source, in.SourceType)
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
	// Who assigns does not depend on the license: asked before its lock.
	byWhom, err := t.assignedBy()
	if err != nil {
		return nil, err
	}
	l, err := t.lockLicenseToGrant(licenseID, prefix+"licenseId")
	if err != nil {
		return nil, err
	}
	if Expired(l, t.now) {
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
		AssignedBy: t.actor.Subject, ExpiresAt: in.ExpiresAt, Active: opt.Or(in.Active, true),
		Fulfilled: opt.Or(in.Fulfilled, email == nil), RedirectTo: in.RedirectTo, AssetID: in.AssetID, Metadata: metadata(in.Metadata)}
	a.AssignedByPersonID = byWhom
	switch {
	case group != nil:
		a.GroupID = &group.ID
		members, err := t.Members(group.ID, nil)
		if err != nil {
			return nil, err
		}
		if err := t.grantGroup(l, a, members, opt.True(in.Waitlist), prefix); err != nil {
			return nil, err
		}
	default:
		if person != nil {
			a.PersonID = &person.ID
			if !person.Active {
				a.DeactivatedAt = &t.now
			}
		} else {
			a.Email = email
		}
		if err := t.takeSeat(l, a, opt.True(in.Waitlist), prefix+"licenseId"); err != nil {
			return nil, err
		}
	}
	l, err = t.reload(l.ID)
	return &AssignResult{Assignment: withLicense(a, l), Created: true, License: l}, err
}

// resolvePerson finds (and share-locks, so it cannot be deleted under the
// grant) the person an assign names by id, username or email, among the
// people the caller sees. An email of no such person is an invitation: it
// returns the address instead, holding the address's lock until commit so
// that a person created with it meanwhile binds the invitation. For an
// application caller, an address of a person outside its app is such an
// invitation too: the app may neither reach that person nor learn, from
// any difference in the answer, that the address is theirs.
func (t *Tx) resolvePerson(in AssignInput, personID *uuid.UUID, prefix string) (*models.Person, *string, error) {
	var cond, field string
	var arg any
	// By username and email through their generated lower-case columns:
	// lower(p.email) = … is not leakproof, so under row-level security it
	// could not be an index condition and read every person.
	switch {
	case personID != nil:
		cond, arg, field = "p.id = ?", *personID, "personId"
	case in.Username != nil:
		cond, arg, field = "p.username_normalized = lower(?)", *in.Username, "username"
	case in.Email != nil:
		if err := t.LockEmail(*in.Email); err != nil {
			return nil, nil, err
		}
		cond, arg, field = "p.email_normalized = lower(?)", *in.Email, "email"
	default:
		return nil, nil, nil
	}
	p := new(models.Person)
	err := t.s.Select(p).Where(cond, arg).Where("NOT p.is_deleted").Limit(1).For("SHARE").Scan(t.ctx)
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

// withLicense fills the license fields an assignment is read with.
func withLicense(a *models.Assignment, l *models.License) *models.Assignment {
	a.LicenseName, a.ProgramKey, a.LicenseExpiresAt = l.Name, l.ProgramKey, l.ExpiresAt
	return a
}

func metadata(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
