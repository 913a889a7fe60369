package directory

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/gid"
	"seatgraph/internal/licensing"
	"seatgraph/internal/opt"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// CreatePersonInput is the input of createPerson.
type CreatePersonInput struct {
	Email      string
	Username   *string
	Name       *string
	ExternalID *string
	// Active is false to create a deactivated person (SCIM may); default true.
	Active     *bool
	Source     *string
	SourceType *models.SourceType
}

// UpdatePersonInput is the input of updatePerson.
type UpdatePersonInput struct {
	ID                string
	ExpectedUpdatedAt *time.Time
	Email             *string
	Username          *string
	Name              *string
	ExternalID        *string
	// Active false deactivates the person (seat rule 9: their seats are
	// freed, their grants kept); true reactivates them.
	Active *bool
}

// DeleteInput is the input of deletePerson and deleteGroup.
type DeleteInput struct {
	ID                string
	ExpectedUpdatedAt *time.Time
	DryRun            *bool
}

// PersonResult is what a person mutation did.
type PersonResult struct {
	Person *models.Person
	// Fulfilled counts the email invitations bound to the person.
	Fulfilled int
}

func checkPerson(c *problem.Check, email, username, name, external *string) {
	c.Email("email", email)
	c.Text("username", username, true)
	c.Text("name", name, false)
	c.Text("externalId", external, true)
}

// CreatePerson adds a person and binds the pending email invitations to
// their address (they become fulfilled grants to the person).
func CreatePerson(ctx context.Context, db *store.DB, actor licensing.Actor, in CreatePersonInput) (*PersonResult, error) {
	c := problem.Check{Prefix: "input."}
	checkPerson(&c, &in.Email, in.Username, in.Name, in.ExternalID)
	licensing.CheckProvenance(&c, in.Source, in.SourceType)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *PersonResult
	err := licensing.Write(ctx, db, actor, nil, func(t *licensing.Tx) error {
		if err := t.LockEmail(in.Email); err != nil {
			return err
		}
		if err := emailFree(t, in.Email, nil); err != nil {
			return err
		}
		if err := usernameFree(t, in.Username, nil); err != nil {
			return err
		}
		p := &models.Person{Record: t.NewRecord(in.Source, in.SourceType), Email: in.Email, Username: in.Username,
			Name: opt.Or(in.Name, ""), ExternalID: in.ExternalID, Active: opt.Or(in.Active, true)}
		if _, err := t.Scope().Insert(p).Exec(t.Context()); err != nil {
			return err
		}
		n, err := t.BindInvitations(p)
		res = &PersonResult{Person: p, Fulfilled: n}
		return err
	})
	return res, err
}

// emailFree refuses an email another live person of the tenant has. It
// compares email_normalized, the generated lower(email): lower(p.email)
// is not leakproof, so under forced row-level security it could not be an
// index condition and a new address was looked for in every person.
func emailFree(t *licensing.Tx, email string, self *uuid.UUID) error {
	q := t.Scope().Tenantwide().Select((*models.Person)(nil)).Where("p.email_normalized = lower(?)", email).Where("NOT p.is_deleted")
	if self != nil {
		q = q.Where("p.id <> ?", *self)
	}
	taken, err := q.Exists(t.Context())
	if err != nil {
		return err
	}
	if taken {
		return problem.New(problem.Conflict, "input.email", "a person with email %q already exists", email)
	}
	return nil
}

// usernameFree refuses a username another live person of the tenant has
// (case-insensitively): assignLicense and SCIM find people by it.
func usernameFree(t *licensing.Tx, username *string, self *uuid.UUID) error {
	if username == nil {
		return nil
	}
	q := t.Scope().Tenantwide().Select((*models.Person)(nil)).Where("p.username_normalized = lower(?)", *username).
		Where("NOT p.is_deleted")
	if self != nil {
		q = q.Where("p.id <> ?", *self)
	}
	taken, err := q.Exists(t.Context())
	if err != nil {
		return err
	}
	if taken {
		return problem.New(problem.Conflict, "input.username", "a person with username %q already exists", *username)
	}
	return nil
}

// UpdatePerson changes a person; a new email binds the invitations to it.
func UpdatePerson(ctx context.Context, db *store.DB, actor licensing.Actor, in UpdatePersonInput) (*PersonResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.Person, "id", in.ID)
	checkPerson(&c, in.Email, in.Username, in.Name, in.ExternalID)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *PersonResult
	err := licensing.Write(ctx, db, actor, nil, func(t *licensing.Tx) error {
		p, err := lockPerson(t, id)
		if err != nil {
			return err
		}
		if err := licensing.CheckFresh(&p.Record, in.ExpectedUpdatedAt); err != nil {
			return err
		}
		var cols []string
		if in.Email != nil && *in.Email != p.Email {
			if err := t.LockEmail(*in.Email); err != nil {
				return err
			}
			if err := emailFree(t, *in.Email, &p.ID); err != nil {
				return err
			}
			p.Email, cols = *in.Email, append(cols, "email")
		}
		if in.Username != nil && !eqFold(p.Username, *in.Username) {
			if err := usernameFree(t, in.Username, &p.ID); err != nil {
				return err
			}
		}
		if in.Username != nil {
			p.Username, cols = in.Username, append(cols, "username")
		}
		if in.Name != nil {
			p.Name, cols = *in.Name, append(cols, "name")
		}
		if in.ExternalID != nil {
			p.ExternalID, cols = in.ExternalID, append(cols, "external_id")
		}
		toggled := in.Active != nil && *in.Active != p.Active
		if toggled {
			p.Active, cols = *in.Active, append(cols, "active")
		}
		res = &PersonResult{Person: p}
		if len(cols) == 0 {
			return nil
		}
		t.Touch(p)
		if _, err := t.Scope().Update(p).Column(append(cols, "updated_at", "updated_by")...).WherePK().Exec(t.Context()); err != nil {
			return err
		}
		switch {
		case toggled && p.Active:
			err = t.PersonReactivated(p.ID)
		case toggled:
			err = t.PersonDeactivated(p.ID)
		}
		if err != nil {
			return err
		}
		res.Fulfilled, err = t.BindInvitations(p)
		return err
	})
	return res, err
}

// DeletePerson soft-deletes a person, ends their seats and memberships.
func DeletePerson(ctx context.Context, db *store.DB, actor licensing.Actor, in DeleteInput) (*PersonResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.Person, "id", in.ID)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *PersonResult
	err := licensing.Write(ctx, db, actor, in.DryRun, func(t *licensing.Tx) error {
		p, err := lockPerson(t, id)
		if err != nil {
			return err
		}
		if err := licensing.CheckFresh(&p.Record, in.ExpectedUpdatedAt); err != nil {
			return err
		}
		if err := t.PersonDeleted(p.ID); err != nil {
			return err
		}
		if _, err := t.Scope().Delete((*models.GroupMember)(nil)).Where("gm.person_id = ?", p.ID).Exec(t.Context()); err != nil {
			return err
		}
		if _, err := t.Scope().Update(p).Column(t.SoftDelete(p)...).WherePK().Exec(t.Context()); err != nil {
			return err
		}
		res = &PersonResult{Person: p}
		return nil
	})
	return res, err
}

func lockPerson(t *licensing.Tx, id uuid.UUID) (*models.Person, error) {
	var rows []*models.Person
	err := t.Scope().Select(&rows).Where("p.id = ?", id).Where("NOT p.is_deleted").For("NO KEY UPDATE").Scan(t.Context())
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, problem.New(problem.NotFound, "input.id", "person not found")
	}
	return rows[0], nil
}

// CreateGroupInput is the input of createGroup.
type CreateGroupInput struct {
	Name        string
	Description *string
	// ExternalID is the group's id in the identity provider (SCIM).
	ExternalID *string
	MemberIDs  []string
	Source     *string
	SourceType *models.SourceType
}

// UpdateGroupInput is the input of updateGroup.
type UpdateGroupInput struct {
	ID                string
	ExpectedUpdatedAt *time.Time
	Name              *string
	Description       *string
}

// MembersInput is the input of addGroupMembers and removeGroupMembers.
type MembersInput struct {
	GroupID   string
	PersonIDs []string
	Waitlist  *bool
	DryRun    *bool
}

// GroupResult is what a group mutation did.
type GroupResult struct {
	Group   *models.Group
	Changed int
}

// CreateGroup adds a group, with its first members.
func CreateGroup(ctx context.Context, db *store.DB, actor licensing.Actor, in CreateGroupInput) (*GroupResult, error) {
	c := problem.Check{Prefix: "input."}
	c.Text("name", &in.Name, true)
	c.Text("description", in.Description, false)
	members := parseIDs(&c, "memberIds", in.MemberIDs)
	licensing.CheckProvenance(&c, in.Source, in.SourceType)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *GroupResult
	err := licensing.Write(ctx, db, actor, nil, func(t *licensing.Tx) error {
		g := &models.Group{Record: t.NewRecord(in.Source, in.SourceType), Name: in.Name, Description: in.Description,
			ExternalID: in.ExternalID}
		if _, err := t.Scope().Insert(g).Exec(t.Context()); err != nil {
			return err
		}
		n, err := addMembers(t, g, members, nil, "input.memberIds")
		res = &GroupResult{Group: g, Changed: n}
		return err
	})
	return res, err
}

// UpdateGroup renames or redescribes a group.
func UpdateGroup(ctx context.Context, db *store.DB, actor licensing.Actor, in UpdateGroupInput) (*GroupResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.Group, "id", in.ID)
	c.Text("name", in.Name, true)
	c.Text("description", in.Description, false)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *GroupResult
	err := licensing.Write(ctx, db, actor, nil, func(t *licensing.Tx) error {
		g, err := t.LockGroup(id, "input.id")
		if err != nil {
			return err
		}
		if err := licensing.CheckFresh(&g.Record, in.ExpectedUpdatedAt); err != nil {
			return err
		}
		var cols []string
		if in.Name != nil {
			g.Name, cols = *in.Name, append(cols, "name")
		}
		if in.Description != nil {
			g.Description, cols = in.Description, append(cols, "description")
		}
		res = &GroupResult{Group: g}
		if len(cols) == 0 {
			return nil
		}
		t.Touch(g)
		_, err = t.Scope().Update(g).Column(append(cols, "updated_at", "updated_by")...).WherePK().Exec(t.Context())
		return err
	})
	return res, err
}

// DeleteGroup soft-deletes a group: its grants and their inherited seats
// end and its memberships go.
func DeleteGroup(ctx context.Context, db *store.DB, actor licensing.Actor, in DeleteInput) (*GroupResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.Group, "id", in.ID)
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *GroupResult
	err := licensing.Write(ctx, db, actor, in.DryRun, func(t *licensing.Tx) error {
		g, err := t.LockGroup(id, "input.id")
		if err != nil {
			return err
		}
		if err := licensing.CheckFresh(&g.Record, in.ExpectedUpdatedAt); err != nil {
			return err
		}
		if err := t.GroupDeleted(g); err != nil {
			return err
		}
		if _, err := t.Scope().Delete((*models.GroupMember)(nil)).Where("gm.group_id = ?", g.ID).Exec(t.Context()); err != nil {
			return err
		}
		_, err = t.Scope().Update(g).Column(t.SoftDelete(g)...).WherePK().Exec(t.Context())
		res = &GroupResult{Group: g}
		return err
	})
	return res, err
}

// AddMembers adds people to a group; each gets an inherited seat of every
// license granted to the group (or waits for one, with waitlist).
func AddMembers(ctx context.Context, db *store.DB, actor licensing.Actor, in MembersInput) (*GroupResult, error) {
	return changeMembers(ctx, db, actor, in, true)
}

// RemoveMembers removes people from a group, ending their inherited seats.
func RemoveMembers(ctx context.Context, db *store.DB, actor licensing.Actor, in MembersInput) (*GroupResult, error) {
	return changeMembers(ctx, db, actor, in, false)
}

func changeMembers(ctx context.Context, db *store.DB, actor licensing.Actor, in MembersInput, add bool) (*GroupResult, error) {
	c := problem.Check{Prefix: "input."}
	id := c.ID(gid.Group, "groupId", in.GroupID)
	people := parseIDs(&c, "personIds", in.PersonIDs)
	if len(in.PersonIDs) == 0 {
		c.Add(problem.Invalid, "personIds", "must name at least one person")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	var res *GroupResult
	err := licensing.Write(ctx, db, actor, in.DryRun, func(t *licensing.Tx) error {
		g, err := t.LockGroup(id, "input.groupId")
		if err != nil {
			return err
		}
		var n int
		if add {
			n, err = addMembers(t, g, people, in.Waitlist, "input.personIds")
		} else {
			n, err = removeMembers(t, g, people)
		}
		if err != nil {
			return err
		}
		if n > 0 {
			t.Touch(g)
			if _, err := t.Scope().Update(g).Column("updated_at", "updated_by").WherePK().Exec(t.Context()); err != nil {
				return err
			}
		}
		res = &GroupResult{Group: g, Changed: n}
		return nil
	})
	return res, err
}

func parseIDs(c *problem.Check, field string, ss []string) []uuid.UUID {
	out := make([]uuid.UUID, 0, len(ss))
	for i, s := range ss {
		out = append(out, c.ID(gid.Person, field+"["+strconv.Itoa(i)+"]", s))
	}
	return out
}

func eqFold(a *string, b string) bool { return a != nil && strings.EqualFold(*a, b) }

func uniq(ids []uuid.UUID) map[uuid.UUID]bool {
	m := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
