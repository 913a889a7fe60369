package licensing

import (
	"seatgraph/internal/paging"
	"seatgraph/models"
)

// LicenseOrder sorts licenses (by name unless told otherwise).
type LicenseOrder struct {
	Field     string
	Direction *string
}

// AssignmentOrder sorts assignments (oldest first unless told otherwise).
type AssignmentOrder struct {
	Field     string
	Direction *string
}

var licenseOrders = paging.Orders[*models.License]{List: "licenses", Default: paging.SortName,
	By: map[string]paging.Order[*models.License]{
		paging.SortName: {Expr: "l.name", Value: func(l *models.License) string { return l.Name }},
		paging.SortCreated: {Expr: "l.created_at",
			Value: func(l *models.License) string { return paging.TimeKey(&l.CreatedAt, "") }},
		paging.SortExpires: {Expr: "coalesce(l.expires_at, 'infinity'::timestamptz)",
			Value: func(l *models.License) string { return paging.TimeKey(l.ExpiresAt, "infinity") }},
		paging.SortRenews: {Expr: "coalesce(l.renews_at, 'infinity'::timestamptz)",
			Value: func(l *models.License) string { return paging.TimeKey(l.RenewsAt, "infinity") }},
	}}

func (o *LicenseOrder) order() paging.Order[*models.License] {
	if o == nil {
		return licenseOrders.Pick("", nil)
	}
	return licenseOrders.Pick(o.Field, o.Direction)
}

var assignmentOrders = paging.Orders[*models.Assignment]{List: "assignments", Default: paging.SortCreated,
	By: map[string]paging.Order[*models.Assignment]{
		paging.SortCreated: {Expr: "a.created_at",
			Value: func(a *models.Assignment) string { return paging.TimeKey(&a.CreatedAt, "") }},
		paging.SortUpdated: {Expr: "a.updated_at",
			Value: func(a *models.Assignment) string { return paging.TimeKey(&a.UpdatedAt, "") }},
		paging.SortAssigned: {Expr: "a.assigned_at",
			Value: func(a *models.Assignment) string { return paging.TimeKey(&a.AssignedAt, "") }},
		paging.SortExpires: {Expr: "coalesce(a.expires_at, 'infinity'::timestamptz)",
			Value: func(a *models.Assignment) string { return paging.TimeKey(a.ExpiresAt, "infinity") }},
		paging.SortLastUsed: {Expr: LastUseSQL,
			Value: func(a *models.Assignment) string { return paging.TimeKey(a.LastUsedAt, "-infinity") }},
	}}

// byLastUse says whether o orders by last use (read from assignment_use).
func (o *AssignmentOrder) byLastUse() bool { return o != nil && o.Field == paging.SortLastUsed }

func (o *AssignmentOrder) order() paging.Order[*models.Assignment] {
	if o == nil {
		return assignmentOrders.Pick("", nil)
	}
	return assignmentOrders.Pick(o.Field, o.Direction)
}
