package licensing

import (
	"seatgraph/internal/paging"
	"seatgraph/models"
)

// Sort fields and directions, as the API names them.
const (
	OrderName     = "NAME"
	OrderCreated  = "CREATED"
	OrderUpdated  = "UPDATED"
	OrderAssigned = "ASSIGNED"
	OrderExpires  = "EXPIRES"
	OrderLastUsed = "LAST_USED"
	Desc          = "DESC"
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

func (o *LicenseOrder) order() paging.Order[*models.License] {
	field, desc := OrderName, false
	if o != nil {
		field, desc = o.Field, o.Direction != nil && *o.Direction == Desc
	}
	var ord paging.Order[*models.License]
	switch field {
	case OrderCreated:
		ord = paging.Order[*models.License]{Expr: "l.created_at", Value: func(l *models.License) string { return paging.TimeKey(&l.CreatedAt, "") }}
	case OrderExpires:
		ord = paging.Order[*models.License]{Expr: "coalesce(l.expires_at, 'infinity'::timestamptz)", Value: func(l *models.License) string { return paging.TimeKey(l.ExpiresAt, "infinity") }}
	default:
		field = OrderName
		ord = paging.Order[*models.License]{Expr: "l.name", Value: func(l *models.License) string { return l.Name }}
	}
	return paging.Named(ord, "licenses", field, desc)
}

func (o *AssignmentOrder) order() paging.Order[*models.Assignment] {
	field, desc := OrderCreated, false
	if o != nil {
		field, desc = o.Field, o.Direction != nil && *o.Direction == Desc
	}
	type ord = paging.Order[*models.Assignment]
	var out ord
	switch field {
	case OrderUpdated:
		out = ord{Expr: "a.updated_at", Value: func(a *models.Assignment) string { return paging.TimeKey(&a.UpdatedAt, "") }}
	case OrderAssigned:
		out = ord{Expr: "a.assigned_at", Value: func(a *models.Assignment) string { return paging.TimeKey(&a.AssignedAt, "") }}
	case OrderExpires:
		out = ord{Expr: "coalesce(a.expires_at, 'infinity'::timestamptz)", Value: func(a *models.Assignment) string { return paging.TimeKey(a.ExpiresAt, "infinity") }}
	case OrderLastUsed:
		out = ord{Expr: "coalesce(a.last_used_at, '-infinity'::timestamptz)", Value: func(a *models.Assignment) string { return paging.TimeKey(a.LastUsedAt, "-infinity") }}
	default:
		field = OrderCreated
		out = ord{Expr: "a.created_at", Value: func(a *models.Assignment) string { return paging.TimeKey(&a.CreatedAt, "") }}
	}
	return paging.Named(out, "assignments", field, desc)
}
