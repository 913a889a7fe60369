package models

import (
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// ReclaimAction is what a reclaim policy does to a seat whose warning ran
// out: suspend it (it keeps its seat, active false) or revoke it.
type ReclaimAction string

// The actions of a reclaim policy.
const (
	ReclaimSuspend ReclaimAction = "SUSPEND"
	ReclaimRevoke  ReclaimAction = "REVOKE"
)

// The history rows of the reclaim job (internal/licensing/reclaimjob.go).
const (
	// EventReclaimWarning: the seat was unused for the policy's
	// inactiveDays; it is acted on when graceDays pass with no new usage.
	EventReclaimWarning EventType = "RECLAIM_WARNING"
	// EventReclaimCancelled: a warning no longer stands (the seat was
	// used, or no longer matches the policy, or the policy was disabled).
	EventReclaimCancelled EventType = "RECLAIM_CANCELLED"
)

var reclaimActions = []ReclaimAction{ReclaimSuspend, ReclaimRevoke}

// MarshalGQL writes the enum value.
func (a ReclaimAction) MarshalGQL(w io.Writer) { marshalEnum(w, string(a)) }

// UnmarshalGQL reads and checks an enum value.
func (a *ReclaimAction) UnmarshalGQL(v any) error { return unmarshalEnum(v, a, reclaimActions) }

// ReclaimPolicy is a license's reclaim policy (one per license).
type ReclaimPolicy struct {
	bun.BaseModel `bun:"table:reclaim_policies,alias:rp"`

	TenantID     string        `bun:"tenant_id,pk"`
	LicenseID    uuid.UUID     `bun:"license_id,pk,type:uuid"`
	AppID        *string       `bun:"app_id"`
	InactiveDays int           `bun:"inactive_days,notnull"`
	GraceDays    int           `bun:"grace_days,notnull"`
	Action       ReclaimAction `bun:"action,notnull"`
	// ExcludeGroupIDs are uuids (a uuid[] column, written as its text).
	ExcludeGroupIDs []string `bun:"exclude_group_ids,array,notnull"`
	Enabled         bool     `bun:"enabled,notnull"`
	// Terms counts the changes of the enabled policy's terms (disabled,
	// or a new action or grace period): a warning given under fewer no
	// longer stands. TermsReason says why (nil while Terms is 0).
	Terms       int       `bun:"terms,notnull"`
	TermsReason *string   `bun:"terms_reason"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
	CreatedBy   string    `bun:"created_by,notnull"`
	UpdatedBy   string    `bun:"updated_by,notnull"`
}

// ReclaimWarning is a seat's pending warning: it stands while the seat's
// coalesce(last_used_at, assigned_at) is still UnusedSince.
type ReclaimWarning struct {
	bun.BaseModel `bun:"table:reclaim_warnings,alias:rw"`

	TenantID     string    `bun:"tenant_id,pk"`
	AssignmentID uuid.UUID `bun:"assignment_id,pk,type:uuid"`
	LicenseID    uuid.UUID `bun:"license_id,notnull,type:uuid"`
	WarnedAt     time.Time `bun:"warned_at,notnull"`
	UnusedSince  time.Time `bun:"unused_since,notnull"`
	// Terms is the policy's Terms the warning was given under.
	Terms int `bun:"terms,notnull"`
}
