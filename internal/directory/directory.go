// Package directory holds the people and groups that can hold seats.
package directory

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"seatgraph/internal/gid"
	"seatgraph/internal/paging"
	"seatgraph/internal/problem"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// PersonFilter narrows a list of people.
type PersonFilter struct {
	Search  *string
	Email   *string
	GroupID *string
	// Active keeps only active (true) or only deactivated (false) people.
	Active         *bool
	IncludeDeleted *bool
}

// GroupFilter narrows a list of groups.
type GroupFilter struct {
	Search         *string
	IncludeDeleted *bool
}

// PersonOrder sorts people (by name unless told otherwise).
type PersonOrder struct {
	Field     string
	Direction *string
}

// GroupOrder sorts groups (by name unless told otherwise).
type GroupOrder struct {
	Field     string
	Direction *string
}

// Parent columns by which people and groups are listed per parent.
const (
	// MembersOf lists a group's members.
	MembersOf = "gm.group_id"
	// GroupsOf lists a person's groups.
	GroupsOf = "gm.person_id"
)

// Member is a person listed as a member of a group, with that group.
type Member struct {
	models.Person
	Parent uuid.UUID `bun:"parent,scanonly"`
}

// Membership is a group listed as one of a person's, with that person.
type Membership struct {
	models.Group
	Parent uuid.UUID `bun:"parent,scanonly"`
}

// IncludesDeleted says whether the filter asks for deleted people too.
func (f *PersonFilter) IncludesDeleted() bool {
	return f != nil && f.IncludeDeleted != nil && *f.IncludeDeleted
}

// IncludesDeleted says whether the filter asks for deleted groups too.
func (f *GroupFilter) IncludesDeleted() bool {
	return f != nil && f.IncludeDeleted != nil && *f.IncludeDeleted
}

func (f *PersonFilter) apply(s store.Scope, q *bun.SelectQuery) (*bun.SelectQuery, error) {
	if !f.IncludesDeleted() {
		q = q.Where("NOT p.is_deleted")
	}
	if f == nil {
		return q, nil
	}
	if f.Search != nil {
		p := store.Contains(*f.Search)
		q = q.Where("(p.email ILIKE ? OR p.name ILIKE ? OR p.username ILIKE ?)", p, p, p)
	}
	if f.Email != nil {
		q = q.Where("p.email_normalized = lower(?)", *f.Email) // by index (migration 20261130000500)
	}
	if f.Active != nil {
		q = q.Where("p.active = ?", *f.Active)
	}
	if f.GroupID != nil {
		g, err := gid.Group.Parse(*f.GroupID)
		if err != nil {
			return nil, problem.InvalidInput("filter.groupId", err)
		}
		// Memberships belong to the group, whoever added them (as for Group.members).
		members := s.Tenantwide().Select((*models.GroupMember)(nil)).ColumnExpr("gm.person_id").Where("gm.group_id = ?", g)
		q = q.Where("p.id IN (?)", members)
	}
	return q, nil
}

func (f *GroupFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if !f.IncludesDeleted() {
		q = q.Where("NOT g.is_deleted")
	}
	if f != nil && f.Search != nil {
		p := store.Contains(*f.Search)
		q = q.Where("(g.name ILIKE ? OR g.description ILIKE ?)", p, p)
	}
	return q
}

var personOrders = paging.Orders[*models.Person]{List: "people", Default: paging.SortName,
	By: map[string]paging.Order[*models.Person]{
		paging.SortName:  {Expr: "p.name", Value: func(p *models.Person) string { return p.Name }},
		paging.SortEmail: {Expr: "lower(p.email)", Value: func(p *models.Person) string { return strings.ToLower(p.Email) }},
		paging.SortCreated: {Expr: "p.created_at",
			Value: func(p *models.Person) string { return paging.TimeKey(&p.CreatedAt, "") }},
	}}

func (o *PersonOrder) order() paging.Order[*models.Person] {
	if o == nil {
		return personOrders.Pick("", nil)
	}
	return personOrders.Pick(o.Field, o.Direction)
}

var groupOrders = paging.Orders[*models.Group]{List: "groups", Default: paging.SortName,
	By: map[string]paging.Order[*models.Group]{
		paging.SortName: {Expr: "g.name", Value: func(g *models.Group) string { return g.Name }},
		paging.SortCreated: {Expr: "g.created_at",
			Value: func(g *models.Group) string { return paging.TimeKey(&g.CreatedAt, "") }},
	}}

func (o *GroupOrder) order() paging.Order[*models.Group] {
	if o == nil {
		return groupOrders.Pick("", nil)
	}
	return groupOrders.Pick(o.Field, o.Direction)
}

// PersonList is the list of people matching f in order o.
func PersonList(f *PersonFilter, o *PersonOrder) paging.List[*models.Person] {
	return paging.List[*models.Person]{
		Order: o.order(), IDExpr: "p.id", ID: func(p *models.Person) uuid.UUID { return p.ID },
		Build: func(s store.Scope) (*bun.SelectQuery, error) {
			return f.apply(s, s.Select((*models.Person)(nil)))
		},
	}
}

// MemberList is, per group, the list of its members matching f in order o.
func MemberList(f *PersonFilter, o *PersonOrder) paging.List[*Member] {
	po := o.order()
	return paging.List[*Member]{
		Order: paging.Order[*Member]{Name: po.Name, Expr: po.Expr, Desc: po.Desc,
			Value: func(m *Member) string { return po.Value(&m.Person) }},
		IDExpr: "p.id", ID: func(m *Member) uuid.UUID { return m.ID },
		Build: func(s store.Scope) (*bun.SelectQuery, error) {
			q, err := f.apply(s, s.Select((*models.Person)(nil)))
			if err != nil {
				return nil, err
			}
			q = q.ColumnExpr("p.*").ColumnExpr(MembersOf + " AS parent").
				Join("JOIN group_members AS gm ON gm.tenant_id = p.tenant_id AND gm.person_id = p.id")
			return q, nil
		},
	}
}

// GroupList is the list of groups matching f in order o.
func GroupList(f *GroupFilter, o *GroupOrder) paging.List[*models.Group] {
	return paging.List[*models.Group]{
		Order: o.order(), IDExpr: "g.id", ID: func(g *models.Group) uuid.UUID { return g.ID },
		Build: func(s store.Scope) (*bun.SelectQuery, error) {
			return f.apply(s.Select((*models.Group)(nil))), nil
		},
	}
}

// GroupsOfList is, per person, the list of their groups matching f in order o.
func GroupsOfList(f *GroupFilter, o *GroupOrder) paging.List[*Membership] {
	g := o.order()
	return paging.List[*Membership]{
		Order: paging.Order[*Membership]{Name: g.Name, Expr: g.Expr, Desc: g.Desc,
			Value: func(m *Membership) string { return g.Value(&m.Group) }},
		IDExpr: "g.id", ID: func(m *Membership) uuid.UUID { return m.ID },
		Build: func(s store.Scope) (*bun.SelectQuery, error) {
			return f.apply(s.Select((*models.Group)(nil))).ColumnExpr("g.*").ColumnExpr(GroupsOf + " AS parent").
				Join("JOIN group_members AS gm ON gm.tenant_id = g.tenant_id AND gm.group_id = g.id"), nil
		},
	}
}

// MemberGroup reads the group a member was listed for.
func MemberGroup(m *Member) uuid.UUID { return m.Parent }

// MembershipPerson reads the person a group was listed for.
func MembershipPerson(m *Membership) uuid.UUID { return m.Parent }

// PeopleByID reads people by id (deleted ones included).
func PeopleByID(ctx context.Context, sess *store.Session, ids []uuid.UUID) (map[uuid.UUID]*models.Person, error) {
	return store.ByID(ctx, sess, ids, func(s store.Scope) *bun.SelectQuery { return s.Select((*models.Person)(nil)) },
		"p.id", func(p *models.Person) uuid.UUID { return p.ID })
}

// GroupsByID reads groups by id (deleted ones included).
func GroupsByID(ctx context.Context, sess *store.Session, ids []uuid.UUID) (map[uuid.UUID]*models.Group, error) {
	return store.ByID(ctx, sess, ids, func(s store.Scope) *bun.SelectQuery { return s.Select((*models.Group)(nil)) },
		"g.id", func(g *models.Group) uuid.UUID { return g.ID })
}

// PersonByEmail finds the (not deleted) person with this email, ignoring
// case; nil when there is none.
func PersonByEmail(ctx context.Context, sess *store.Session, email string) (*models.Person, error) {
	return findPerson(ctx, sess, "p.email_normalized = lower(?)", email)
}

// PersonByExternalID finds the (not deleted) person whose identity-provider
// id is externalID; nil when there is none.
func PersonByExternalID(ctx context.Context, sess *store.Session, externalID string) (*models.Person, error) {
	return findPerson(ctx, sess, "p.external_id = ?", externalID)
}

func findPerson(ctx context.Context, sess *store.Session, cond string, arg any) (*models.Person, error) {
	p := new(models.Person)
	err := sess.Read(ctx, func(s store.Scope) error {
		return s.Select(p).Where(cond, arg).Where("NOT p.is_deleted").OrderExpr("p.id").Limit(1).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return p, err
}
