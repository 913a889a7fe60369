package graph

import (
	"context"

	"github.com/google/uuid"

	"seatgraph/graph/model"
	"seatgraph/internal/directory"
	"seatgraph/internal/licensing"
	"seatgraph/internal/loaders"
	"seatgraph/internal/paging"
	"seatgraph/models"
)

type counter = func(context.Context) (int, error)

// edges pairs a page's nodes with their cursors.
func edges[T, E any](p paging.Page[T], edge func(cursor string, node T) E) ([]E, *paging.PageInfo) {
	out := make([]E, len(p.Items))
	for i, n := range p.Items {
		out[i] = edge(p.Cursors[i], n)
	}
	return out, &p.PageInfo
}

func licenseConnection(p paging.Page[*models.License], count counter) *model.LicenseConnection {
	e, info := edges(p, func(c string, n *models.License) *model.LicenseEdge { return &model.LicenseEdge{Cursor: c, Node: n} })
	return &model.LicenseConnection{Edges: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func assignmentConnection(p paging.Page[*models.Assignment], count counter) *model.AssignmentConnection {
	e, info := edges(p, func(c string, n *models.Assignment) *model.AssignmentEdge {
		return &model.AssignmentEdge{Cursor: c, Node: n}
	})
	return &model.AssignmentConnection{Edges: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func eventConnection(p paging.Page[*models.AssignmentEvent], count counter) *model.AssignmentEventConnection {
	e, info := edges(p, func(c string, n *models.AssignmentEvent) *model.AssignmentEventEdge {
		return &model.AssignmentEventEdge{Cursor: c, Node: n}
	})
	return &model.AssignmentEventConnection{Edges: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func personConnection(p paging.Page[*models.Person], count counter) *model.PersonConnection {
	e, info := edges(p, func(c string, n *models.Person) *model.PersonEdge { return &model.PersonEdge{Cursor: c, Node: n} })
	return &model.PersonConnection{Edges: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func memberConnection(p paging.Page[*directory.Member], count counter) *model.PersonConnection {
	people := paging.Page[*models.Person]{Cursors: p.Cursors, PageInfo: p.PageInfo, Items: make([]*models.Person, len(p.Items))}
	for i, m := range p.Items {
		people.Items[i] = &m.Person
	}
	return personConnection(people, count)
}

func groupConnection(p paging.Page[*models.Group], count counter) *model.GroupConnection {
	e, info := edges(p, func(c string, n *models.Group) *model.GroupEdge { return &model.GroupEdge{Cursor: c, Node: n} })
	return &model.GroupConnection{Edges: e, Nodes: p.Items, PageInfo: info, Total: model.Total{Count: count}}
}

func membershipConnection(p paging.Page[*directory.Membership], count counter) *model.GroupConnection {
	groups := paging.Page[*models.Group]{Cursors: p.Cursors, PageInfo: p.PageInfo, Items: make([]*models.Group, len(p.Items))}
	for i, m := range p.Items {
		groups.Items[i] = &m.Group
	}
	return groupConnection(groups, count)
}

// assignmentsOf is the connection of one parent's assignments, loaded in a
// batch with its siblings'.
func assignmentsOf(ctx context.Context, by string, parent uuid.UUID, page paging.Args, f *licensing.AssignmentFilter, o *licensing.AssignmentOrder) (*model.AssignmentConnection, error) {
	if err := allowDeleted(ctx, f != nil && isTrue(f.IncludeDeleted)); err != nil {
		return nil, err
	}
	l := loaders.For(ctx)
	p, err := l.Assignments.Load(ctx, parent, loaders.AssignmentArgs{By: by, Filter: f, Order: o, Page: page})
	return assignmentConnection(p, func(ctx context.Context) (int, error) {
		return l.AssignmentCounts.Load(ctx, parent, loaders.AssignmentArgs{By: by, Filter: f})
	}), err
}
