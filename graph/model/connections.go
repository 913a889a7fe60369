// Package model holds the GraphQL-only types: the generated ones, and the
// connections, whose totalCount is computed only when a query selects it.
package model

import (
	"context"

	"seatgraph/internal/paging"
	"seatgraph/models"
)

// Total counts a connection's rows across all pages, on demand.
type Total struct {
	Count func(context.Context) (int, error)
}

// TotalCount runs the count; gqlgen calls it only when totalCount is selected.
func (t Total) TotalCount(ctx context.Context) (int, error) { return t.Count(ctx) }

// LicenseConnection is a page of licenses.
type LicenseConnection struct {
	Edges    []*LicenseEdge
	Nodes    []*models.License
	PageInfo *paging.PageInfo
	Total
}

// AssignmentConnection is a page of assignments.
type AssignmentConnection struct {
	Edges    []*AssignmentEdge
	Nodes    []*models.Assignment
	PageInfo *paging.PageInfo
	Total
}

// AssignmentEventConnection is a page of an assignment's history.
type AssignmentEventConnection struct {
	Edges    []*AssignmentEventEdge
	Nodes    []*models.AssignmentEvent
	PageInfo *paging.PageInfo
	Total
}

// PersonConnection is a page of people.
type PersonConnection struct {
	Edges    []*PersonEdge
	Nodes    []*models.Person
	PageInfo *paging.PageInfo
	Total
}

// GroupConnection is a page of groups.
type GroupConnection struct {
	Edges    []*GroupEdge
	Nodes    []*models.Group
	PageInfo *paging.PageInfo
	Total
}

// Node is any object with a global id; the resolver's type switch picks the
// GraphQL type from the model.
type Node interface{}

// Record is any stored record.
type Record interface{}

// Assignee is the Person or Group an assignment is granted to.
type Assignee interface{}
