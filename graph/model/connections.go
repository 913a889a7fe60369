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
	// EdgesOf builds the edges (cursors and nodes) when they are selected.
	EdgesOf  func() []*LicenseEdge
	Nodes    []*models.License
	PageInfo *paging.PageInfo
	Total
}

// Edges are the page's items with their cursors.
func (c *LicenseConnection) Edges() []*LicenseEdge { return c.EdgesOf() }

// AssignmentConnection is a page of assignments.
type AssignmentConnection struct {
	// EdgesOf builds the edges (cursors and nodes) when they are selected.
	EdgesOf  func() []*AssignmentEdge
	Nodes    []*models.Assignment
	PageInfo *paging.PageInfo
	Total
}

// Edges are the page's items with their cursors.
func (c *AssignmentConnection) Edges() []*AssignmentEdge { return c.EdgesOf() }

// AssignmentEventConnection is a page of an assignment's history.
type AssignmentEventConnection struct {
	// EdgesOf builds the edges (cursors and nodes) when they are selected.
	EdgesOf  func() []*AssignmentEventEdge
	Nodes    []*models.AssignmentEvent
	PageInfo *paging.PageInfo
	Total
}

// Edges are the page's items with their cursors.
func (c *AssignmentEventConnection) Edges() []*AssignmentEventEdge { return c.EdgesOf() }

// PersonConnection is a page of people.
type PersonConnection struct {
	// EdgesOf builds the edges (cursors and nodes) when they are selected.
	EdgesOf  func() []*PersonEdge
	Nodes    []*models.Person
	PageInfo *paging.PageInfo
	Total
}

// Edges are the page's items with their cursors.
func (c *PersonConnection) Edges() []*PersonEdge { return c.EdgesOf() }

// GroupConnection is a page of groups.
type GroupConnection struct {
	// EdgesOf builds the edges (cursors and nodes) when they are selected.
	EdgesOf  func() []*GroupEdge
	Nodes    []*models.Group
	PageInfo *paging.PageInfo
	Total
}

// Edges are the page's items with their cursors.
func (c *GroupConnection) Edges() []*GroupEdge { return c.EdgesOf() }

// Node is any object with a global id; the resolver's type switch picks the
// GraphQL type from the model.
type Node interface{}

// Record is any stored record.
type Record interface{}

// Assignee is the Person or Group an assignment is granted to.
type Assignee interface{}
