package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/google/uuid"

	"seatgraph/graph/model"
	"seatgraph/internal/directory"
	"seatgraph/internal/licensing"
	"seatgraph/internal/loaders"
	"seatgraph/internal/paging"
	"seatgraph/models"
)

type counter = func(context.Context) (int, error)

// edges pairs a page's nodes with their cursors, when called: a
// connection's edges (and the cursors they carry) are built only for a
// query that selects them.
func edges[T, E any](p paging.Page[T], edge func(cursor string, node T) E) (func() []E, *paging.PageInfo) {
	return func() []E {
		out := make([]E, len(p.Items))
		for i, n := range p.Items {
			out[i] = edge(p.Cursor(i), n)
		}
		return out
	}, &p.PageInfo
}

func licenseConnection(p paging.Page[*models.License], count counter) *model.LicenseConnection {
	e, info := edges(p, func(c string, n *models.License) *model.LicenseEdge { return &model.LicenseEdge{Cursor: c, Node: n} })
	return &model.LicenseConnection{EdgesOf: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func assignmentConnection(p paging.Page[*models.Assignment], count counter) *model.AssignmentConnection {
	e, info := edges(p, func(c string, n *models.Assignment) *model.AssignmentEdge {
		return &model.AssignmentEdge{Cursor: c, Node: n}
	})
	return &model.AssignmentConnection{EdgesOf: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func eventConnection(p paging.Page[*models.AssignmentEvent], count counter) *model.AssignmentEventConnection {
	e, info := edges(p, func(c string, n *models.AssignmentEvent) *model.AssignmentEventEdge {
		return &model.AssignmentEventEdge{Cursor: c, Node: n}
	})
	return &model.AssignmentEventConnection{EdgesOf: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func personConnection(p paging.Page[*models.Person], count counter) *model.PersonConnection {
	e, info := edges(p, func(c string, n *models.Person) *model.PersonEdge { return &model.PersonEdge{Cursor: c, Node: n} })
	return &model.PersonConnection{EdgesOf: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func memberConnection(p paging.Page[*directory.Member], count counter) *model.PersonConnection {
	people := paging.Page[*models.Person]{PageInfo: p.PageInfo, Items: make([]*models.Person, len(p.Items))}
	for i, m := range p.Items {
		people.Items[i] = &m.Person
	}
	return personConnection(people, count)
}

func groupConnection(p paging.Page[*models.Group], count counter) *model.GroupConnection {
	e, info := edges(p, func(c string, n *models.Group) *model.GroupEdge { return &model.GroupEdge{Cursor: c, Node: n} })
	return &model.GroupConnection{EdgesOf: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func membershipConnection(p paging.Page[*directory.Membership], count counter) *model.GroupConnection {
	groups := paging.Page[*models.Group]{PageInfo: p.PageInfo, Items: make([]*models.Group, len(p.Items))}
	for i, m := range p.Items {
		groups.Items[i] = &m.Group
	}
	return groupConnection(groups, count)
}

// assignmentsOf is the connection of one parent's assignments, loaded in a
// batch with its siblings'.
func assignmentsOf(ctx context.Context, by string, parent uuid.UUID, page paging.Args, f *licensing.AssignmentFilter, o *licensing.AssignmentOrder) (*model.AssignmentConnection, error) {
	l := loaders.For(ctx)
	args := loaders.AssignmentArgs{By: by, Filter: f, Order: o, Page: page, Prime: related(ctx)}
	p, err := l.Assignments.Load(ctx, parent, args)
	return assignmentConnection(p, func(ctx context.Context) (int, error) {
		return l.AssignmentCounts.Load(ctx, parent, loaders.AssignmentArgs{By: by, Filter: f})
	}), err
}

// primedBy says which related records each assignment field needs.
var primedBy = map[string]string{
	"assignee": "", "email": loaders.PrimePerson, "username": loaders.PrimePerson, "name": loaders.PrimePerson,
	"assignedBy": loaders.PrimePerson, "license": loaders.PrimeLicense, "viaGroup": loaders.PrimeGroup,
}

// related lists the records (Person, Group, License) that the query selects
// on the nodes of the assignment connection being resolved.
func related(ctx context.Context) []string {
	return relatedTo(graphql.GetOperationContext(ctx), graphql.CollectFieldsCtx(ctx, nil))
}

// relatedTo lists the records that the query selects on the nodes of an
// assignment connection whose own fields are connection.
func relatedTo(op *graphql.OperationContext, connection []graphql.CollectedField) []string {
	var want []string
	add := func(sel []graphql.CollectedField) {
		for _, f := range sel {
			kind, ok := primedBy[f.Name]
			switch {
			case !ok:
			case kind == "": // the assignee union: a person or a group
				want = append(want, loaders.PrimePerson, loaders.PrimeGroup)
			default:
				want = append(want, kind)
			}
		}
	}
	for _, f := range connection {
		switch f.Name {
		case "nodes":
			add(graphql.CollectFields(op, f.Selections, nil))
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, nil) {
				if e.Name == "node" {
					add(graphql.CollectFields(op, e.Selections, nil))
				}
			}
		}
	}
	slices.Sort(want)
	return slices.Compact(want)
}
