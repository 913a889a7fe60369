package scim

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	"github.com/google/uuid"
	filter "github.com/scim2/filter-parser/v2"
	"github.com/uptrace/bun"

	"seatgraph/internal/directory"
	"seatgraph/internal/gid"
	"seatgraph/internal/store"
	"seatgraph/models"
)

// groups maps SCIM Groups to Groups: displayName → name, externalId →
// externalId, members → members. Membership changes reach seats at once
// through the seat engine; on a full license a newcomer is WAITLISTED, so
// an identity provider's request never fails for lack of seats.
type groups struct{ db *store.DB }

// member is one row of a group's member list.
type member struct {
	GroupID uuid.UUID `bun:"group_id"`
	ID      uuid.UUID `bun:"id"`
	Email   string    `bun:"email"`
	Name    string    `bun:"name"`
}

func groupResource(r *http.Request, g *models.Group, members []member) scim.Resource {
	attrs := scim.ResourceAttributes{"displayName": g.Name}
	if members != nil {
		list := make([]map[string]any, 0, len(members))
		for _, m := range members {
			display := m.Name
			if display == "" {
				display = m.Email
			}
			id := gid.Person.Format(m.ID)
			list = append(list, map[string]any{"value": id, "display": display, "type": "User",
				"$ref": baseURL(r) + "/Users/" + id})
		}
		attrs["members"] = list
	}
	res := scim.Resource{ID: gid.Group.Format(g.ID), Attributes: project(r, attrs), Meta: meta(&g.Record)}
	if g.ExternalID != nil {
		res.ExternalID = optional.NewString(*g.ExternalID)
	}
	return res
}

// members reads the live members of groups in one statement (nil when the
// request excludes members), in membership order.
func (h groups) members(r *http.Request, s store.Scope, ids []uuid.UUID) (map[uuid.UUID][]member, error) {
	if excluded(r, "members") || len(ids) == 0 {
		return nil, nil
	}
	var rows []member
	err := s.Tenantwide().Select((*models.Person)(nil)).ColumnExpr("gm.group_id, p.id, p.email, p.name").
		Join("JOIN group_members AS gm ON gm.tenant_id = p.tenant_id AND gm.person_id = p.id").
		Where("gm.group_id IN (?)", bun.List(ids)).Where("NOT p.is_deleted").
		OrderExpr("gm.added_at, gm.person_id").Scan(r.Context(), &rows)
	out := make(map[uuid.UUID][]member, len(ids))
	for _, id := range ids {
		out[id] = []member{}
	}
	for _, m := range rows {
		out[m.GroupID] = append(out[m.GroupID], m)
	}
	return out, err
}

func (h groups) Get(r *http.Request, id string) (scim.Resource, error) {
	gidv, err := gid.Group.Parse(id)
	if err != nil {
		return scim.Resource{}, notFound(id)
	}
	g := new(models.Group)
	var ms map[uuid.UUID][]member
	err = read(r, h.db, func(s store.Scope) error {
		if err := s.Select(g).Where("g.id = ?", gidv).Where("NOT g.is_deleted").Scan(r.Context()); err != nil {
			return err
		}
		ms, err = h.members(r, s, []uuid.UUID{g.ID})
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return scim.Resource{}, notFound(id)
	}
	if err != nil {
		return scim.Resource{}, scimError(r, err)
	}
	return groupResource(r, g, ms[g.ID]), nil
}

func (h groups) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	var rows []*models.Group
	var ms map[uuid.UUID][]member
	total, err := page(r, h.db, params, groupColumns, func(s store.Scope) *bun.SelectQuery {
		return s.Select((*models.Group)(nil)).Where("NOT g.is_deleted")
	}, "g.created_at, g.id", &rows, func(s store.Scope) (err error) {
		ids := make([]uuid.UUID, len(rows))
		for i, g := range rows {
			ids[i] = g.ID
		}
		ms, err = h.members(r, s, ids)
		return err
	})
	if err != nil {
		return scim.Page{}, scimError(r, err)
	}
	out := scim.Page{TotalResults: total, Resources: []scim.Resource{}}
	for _, g := range rows {
		out.Resources = append(out.Resources, groupResource(r, g, ms[g.ID]))
	}
	return out, nil
}

// memberIDs reads the value of each member object.
func memberIDs(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok && v != nil {
		list = []any{v}
	}
	out := []string{}
	for _, m := range list {
		obj, _ := m.(map[string]any)
		id, _ := str(obj["value"])
		if id == "" {
			return nil, badValue("each member needs a value (the user's id)")
		}
		out = append(out, id)
	}
	return out, nil
}

func (h groups) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	name, _ := str(attrs["displayName"])
	members, err := memberIDs(attrs["members"])
	if err != nil {
		return scim.Resource{}, err
	}
	in := directory.CreateGroupInput{Name: name, MemberIDs: members}
	if ext, _ := str(attrs["externalId"]); ext != "" {
		in.ExternalID = &ext
	}
	res, err := directory.CreateGroup(r.Context(), h.db, actor(r), in)
	if err != nil {
		return scim.Resource{}, scimError(r, err)
	}
	return h.Get(r, gid.Group.Format(res.Group.ID))
}

// change runs a GroupChange in one transaction. Newcomers on a full
// license wait for a seat: the identity provider's request never fails
// for lack of seats.
func (h groups) change(r *http.Request, in directory.GroupChange) error {
	if _, err := gid.Group.Parse(in.ID); err != nil {
		return notFound(in.ID)
	}
	wait := true
	in.Waitlist, in.ExpectedUpdatedAt = &wait, ifMatch(r)
	_, err := directory.ChangeGroup(r.Context(), h.db, actor(r), in)
	return scimError(r, err)
}

// Replace is PUT: the name and the whole member list.
func (h groups) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	name, _ := str(attrs["displayName"])
	members, err := memberIDs(attrs["members"])
	if err != nil {
		return scim.Resource{}, err
	}
	in := directory.GroupChange{ID: id, Name: &name, Members: members}
	if ext, _ := str(attrs["externalId"]); ext != "" {
		in.ExternalID = &ext
	}
	if err := h.change(r, in); err != nil {
		return scim.Resource{}, err
	}
	return h.Get(r, id)
}

func (h groups) Delete(r *http.Request, id string) error {
	if _, err := gid.Group.Parse(id); err != nil {
		return notFound(id)
	}
	_, err := directory.DeleteGroup(r.Context(), h.db, actor(r), directory.DeleteInput{ID: id, ExpectedUpdatedAt: ifMatch(r)})
	return scimError(r, err)
}

// Patch applies the operations in one transaction and answers 204 No
// Content (as Entra's and Okta's documented exchanges show).
func (h groups) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	var ch groupPatch
	for _, op := range ops {
		if err := ch.apply(op); err != nil {
			return scim.Resource{}, err
		}
	}
	in := directory.GroupChange{ID: id, Name: ch.name, ExternalID: ch.externalID, Members: ch.set, Add: ch.add, Remove: ch.remove}
	return scim.Resource{}, h.change(r, in)
}

// groupPatch is the net effect of PATCH operations on a group: in order,
// a replaced member list (set) or members added and removed (in request
// order, so that newcomers join, and queue for seats, in that order).
type groupPatch struct {
	name, externalID *string
	set              []string
	add, remove      []string
}

func (c *groupPatch) apply(op scim.PatchOperation) error {
	if op.Path == nil {
		m, ok := op.Value.(map[string]any)
		if !ok {
			return badValue("an operation without path takes an object of attributes")
		}
		for k, v := range m {
			if err := c.do(op.Op, strings.ToLower(k), nil, v); err != nil {
				return err
			}
		}
		return nil
	}
	return c.do(op.Op, strings.ToLower(op.Path.AttributePath.AttributeName), op.Path.ValueExpression, op.Value)
}

func (c *groupPatch) do(op, attr string, where filter.Expression, v any) error {
	switch attr {
	case "displayname":
		s, _ := str(v)
		if op == scim.PatchOperationRemove || s == "" {
			return badValue("displayName cannot be removed")
		}
		c.name = &s
	case "externalid":
		if s, _ := str(v); s != "" && op != scim.PatchOperationRemove {
			c.externalID = &s
		}
	case "members":
		ids, err := memberIDs(v)
		if err != nil {
			return err
		}
		if where != nil {
			// members[value eq "…"] (Okta's removal), possibly or-ed.
			if ids, err = valuesOf(where); err != nil {
				return err
			}
		}
		switch {
		case op == scim.PatchOperationReplace:
			c.set, c.add, c.remove = ids, nil, nil
		case op == scim.PatchOperationRemove && where == nil && v == nil:
			c.set, c.add, c.remove = []string{}, nil, nil
		case op == scim.PatchOperationRemove:
			c.move(ids, false)
		default:
			c.move(ids, true)
		}
	}
	return nil
}

// move adds (or removes) ids, in the member list when one was set; a
// later operation on an id undoes an earlier one.
func (c *groupPatch) move(ids []string, add bool) {
	for _, id := range ids {
		if c.set != nil {
			c.set = removeString(c.set, id)
			if add {
				c.set = append(c.set, id)
			}
			continue
		}
		c.add, c.remove = removeString(c.add, id), removeString(c.remove, id)
		if add {
			c.add = append(c.add, id)
		} else {
			c.remove = append(c.remove, id)
		}
	}
}

func removeString(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// valuesOf reads the member ids of a members[…] path filter: value eq
// "…", or several of them or-ed.
func valuesOf(e filter.Expression) ([]string, error) {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		s, ok := e.CompareValue.(string)
		if e.Operator == filter.EQ && ok && strings.EqualFold(e.AttributePath.AttributeName, "value") {
			return []string{s}, nil
		}
	case *filter.LogicalExpression:
		if e.Operator == filter.OR {
			l, err := valuesOf(e.Left)
			if err != nil {
				return nil, err
			}
			rt, err := valuesOf(e.Right)
			return append(l, rt...), err
		}
	}
	return nil, badValue(`a members path filter must be value eq "<user id>" (or several, or-ed)`)
}
