package paging

// The sort fields and direction of the API's order inputs (LicenseOrder,
// AssignmentOrder, PersonOrder, GroupOrder), as the schema spells them.
const (
	SortName     = "NAME"
	SortEmail    = "EMAIL"
	SortCreated  = "CREATED"
	SortUpdated  = "UPDATED"
	SortAssigned = "ASSIGNED"
	SortExpires  = "EXPIRES"
	SortLastUsed = "LAST_USED"
	SortRenews   = "RENEWS"
	Desc         = "DESC"
)

// Orders are the sort orders one list offers, keyed by the API's field
// name; Default is the field used when the caller names none (or one the
// list does not offer).
type Orders[T any] struct {
	List    string
	Default string
	By      map[string]Order[T]
}

// Pick is the order the caller asked for: field (empty for the default)
// in direction (ascending unless "DESC"), named for its cursors.
func (o Orders[T]) Pick(field string, direction *string) Order[T] {
	ord, ok := o.By[field]
	if !ok {
		field, ord = o.Default, o.By[o.Default]
	}
	return Named(ord, o.List, field, direction != nil && *direction == Desc)
}
