// Package models holds the bun structs that map seatgraph's tables, and
// the enums they store, which also marshal themselves as GraphQL enums
// (so gqlgen binds the schema's enums to them directly). It knows nothing
// of HTTP, transactions or the seat rules: the services above give the
// rows meaning.
package models

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Record holds the fields every stored record carries (SPEC §2).
type Record struct {
	TenantID      string     `bun:"tenant_id,notnull"`
	ID            uuid.UUID  `bun:"id,pk,type:uuid"`
	AppID         *string    `bun:"app_id"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
	CreatedBy     string     `bun:"created_by,notnull"`
	UpdatedBy     string     `bun:"updated_by,notnull"`
	Source        string     `bun:"source,notnull"`
	SourceType    SourceType `bun:"source_type,notnull"`
	IsDeleted     bool       `bun:"is_deleted,notnull"`
	DeletedAt     *time.Time `bun:"deleted_at"`
	DeletedBy     *string    `bun:"deleted_by"`
	SchemaVersion int        `bun:"schema_version,notnull"`
}

// Stamped is a record (a License, Person, Group or Assignment, or a bare
// Record): the unit of work stamps it, and tells changes apart by its type.
type Stamped interface{ Stamps() *Record }

// Stamps is the record's stamp fields.
func (r *Record) Stamps() *Record { return r }

// License is a purchased product whose seats are handed out.
type License struct {
	bun.BaseModel `bun:"table:licenses,alias:l"`
	Record

	Name       string         `bun:"name,notnull"`
	Vendor     string         `bun:"vendor,notnull"`
	ProgramKey *string        `bun:"program_key"`
	TotalSeats *int           `bun:"total_seats"`
	StartsAt   *time.Time     `bun:"starts_at"`
	ExpiresAt  *time.Time     `bun:"expires_at"`
	AssetID    *string        `bun:"asset_id"`
	Metadata   map[string]any `bun:"metadata,type:jsonb,notnull"`
	// Terms (SPEC §9): the cost per seat is an exact decimal string with
	// its ISO 4217 currency, paid per BillingPeriod.
	CostPerSeat   *string        `bun:"cost_per_seat"`
	CostCurrency  *string        `bun:"cost_currency"`
	BillingPeriod *BillingPeriod `bun:"billing_period"`
	RenewsAt      *time.Time     `bun:"renews_at"`
	// LowSeatsThreshold: license.seats_low is sent once each time the
	// available seats fall to or below it.
	LowSeatsThreshold *int `bun:"low_seats_threshold"`
	// The event outbox's once-only notice marks (licensing/outbox.go and
	// notices.go); never written from a License value.
	SeatsLowNoticed  bool       `bun:"seats_low_noticed,scanonly"`
	ExpiryNoticedFor *time.Time `bun:"expiry_noticed_for,scanonly"`
	SeatsUsed        int        `bun:"seats_used,notnull,scanonly"`
	SeatsPending     int        `bun:"seats_pending,notnull,scanonly"`
	SeatsWaitlisted  int        `bun:"seats_waitlisted,notnull,scanonly"`
}

// Free is how many seats of l are free; nil when l is unlimited. Its SQL
// twin, for the hasAvailableSeats filter, is licensing's hasFreeSQL.
func (l *License) Free() *int {
	if l.TotalSeats == nil {
		return nil
	}
	n := max(*l.TotalSeats-l.SeatsUsed, 0)
	return &n
}

// Seats is a license's seat usage (GraphQL Seats), read from its
// counters.
type Seats struct {
	Total      *int // nil when unlimited
	Used       int
	Pending    int
	Waitlisted int
	Available  *int // Free: nil when unlimited
}

// Seats is l's seat usage; nil for no license. A method without a
// context, so that GraphQL resolves it in its license's goroutine.
func (l *License) Seats() *Seats {
	if l == nil {
		return nil
	}
	return &Seats{Total: l.TotalSeats, Used: l.SeatsUsed, Pending: l.SeatsPending, Waitlisted: l.SeatsWaitlisted,
		Available: l.Free()}
}

// Person is someone who can hold a seat.
type Person struct {
	bun.BaseModel `bun:"table:people,alias:p"`
	Record

	Email string `bun:"email,notnull"`
	// EmailNormalized is Email in lower case, computed by PostgreSQL
	// (a generated column): what the email filters compare, by index.
	EmailNormalized string  `bun:"email_normalized,scanonly" json:"-"`
	Username        *string `bun:"username"`
	// UsernameNormalized is Username in lower case (a generated column):
	// what the look-ups by username compare, by index.
	UsernameNormalized *string `bun:"username_normalized,scanonly" json:"-"`
	Name               string  `bun:"name,notnull"`
	ExternalID         *string `bun:"external_id"`
	// Active is false when the person was deactivated (by the identity
	// provider or updatePerson): they hold no seat (seat rule 9).
	Active bool `bun:"active,notnull"`
}

// Group is a set of people.
type Group struct {
	bun.BaseModel `bun:"table:groups,alias:g"`
	Record

	Name        string  `bun:"name,notnull"`
	Description *string `bun:"description"`
	// ExternalID is the group's id in the customer's identity provider.
	ExternalID *string `bun:"external_id"`
}

// GroupMember says a person belongs to a group.
type GroupMember struct {
	bun.BaseModel `bun:"table:group_members,alias:gm"`

	TenantID string    `bun:"tenant_id,pk"`
	GroupID  uuid.UUID `bun:"group_id,pk,type:uuid"`
	PersonID uuid.UUID `bun:"person_id,pk,type:uuid"`
	AppID    *string   `bun:"app_id"`
	AddedAt  time.Time `bun:"added_at,notnull"`
	AddedBy  string    `bun:"added_by,notnull"`
}

// Assignment is a seat grant of a license to exactly one of a person, a
// group or an invited email address. Inherited grants (through a group
// grant) carry ViaAssignmentID and ViaGroupID.
type Assignment struct {
	bun.BaseModel `bun:"table:assignments,alias:a"`
	Record

	LicenseID uuid.UUID  `bun:"license_id,notnull,type:uuid"`
	PersonID  *uuid.UUID `bun:"person_id,type:uuid"`
	GroupID   *uuid.UUID `bun:"group_id,type:uuid"`
	Email     *string    `bun:"email"`
	// EmailNormalized is Email in lower case (a generated column).
	EmailNormalized    *string        `bun:"email_normalized,scanonly" json:"-"`
	ViaAssignmentID    *uuid.UUID     `bun:"via_assignment_id,type:uuid"`
	ViaGroupID         *uuid.UUID     `bun:"via_group_id,type:uuid"`
	AssetID            *string        `bun:"asset_id"`
	AssignedAt         time.Time      `bun:"assigned_at,notnull"`
	AssignedBy         string         `bun:"assigned_by,notnull"`
	AssignedByPersonID *uuid.UUID     `bun:"assigned_by_person_id,type:uuid"`
	ExpiresAt          *time.Time     `bun:"expires_at"`
	Active             bool           `bun:"active,notnull"`
	Fulfilled          bool           `bun:"fulfilled,notnull"`
	RedirectTo         *string        `bun:"redirect_to"`
	Metadata           map[string]any `bun:"metadata,type:jsonb,notnull"`
	LastUsedAt         *time.Time     `bun:"last_used_at"`
	WaitlistedAt       *time.Time     `bun:"waitlisted_at"`
	// DeactivatedAt is set while the assignee person is deactivated
	// (seat rule 9): the grant is kept but holds no seat.
	DeactivatedAt *time.Time `bun:"deactivated_at"`
	ExpiredAt     *time.Time `bun:"expired_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	RevokedBy     *string    `bun:"revoked_by"`
	RevokeReason  *string    `bun:"revoke_reason"`
	// The expiresAt an assignment.expiring_soon was sent for (notices.go).
	ExpiryNoticedFor *time.Time `bun:"expiry_noticed_for,scanonly"`

	// Read with the assignment (joined), for the list views and status.
	LicenseName      string     `bun:"license_name,scanonly"`
	ProgramKey       *string    `bun:"program_key,scanonly"`
	LicenseExpiresAt *time.Time `bun:"license_expires_at,scanonly"`
}

// AssignmentEvent is one change in an assignment's life.
type AssignmentEvent struct {
	bun.BaseModel `bun:"table:assignment_events,alias:e"`

	TenantID     string         `bun:"tenant_id,notnull"`
	ID           uuid.UUID      `bun:"id,pk,type:uuid"`
	AssignmentID uuid.UUID      `bun:"assignment_id,notnull,type:uuid"`
	Type         EventType      `bun:"type,notnull"`
	Actor        string         `bun:"actor,notnull"`
	ActorType    SourceType     `bun:"actor_type,notnull"`
	OccurredAt   time.Time      `bun:"occurred_at,notnull"`
	Changes      map[string]any `bun:"changes,type:jsonb,notnull"`

	// Set on events read from the outbox (the assignmentEvents
	// subscription): the outbox type and the event's data.
	EventType *string        `bun:"-"`
	Data      map[string]any `bun:"-"`
}

// NewRecord makes the Record fields of a new row written by actor.
func NewRecord(tenant string, app *string, actor, source string, sourceType SourceType, now time.Time) Record {
	return Record{
		TenantID: tenant, ID: uuid.Must(uuid.NewV7()), AppID: app,
		CreatedAt: now, UpdatedAt: now, CreatedBy: actor, UpdatedBy: actor,
		Source: source, SourceType: sourceType, SchemaVersion: 1,
	}
}

// SeatHolder is a person (or invited address) holding a seat of a license;
// rows are kept by a trigger on assignments, never written from Go.
type SeatHolder struct {
	bun.BaseModel `bun:"table:seat_holders,alias:sh"`

	TenantID        string    `bun:"tenant_id,pk"`
	LicenseID       uuid.UUID `bun:"license_id,pk,type:uuid"`
	Holder          string    `bun:"holder,pk"`
	Grants          int       `bun:"grants,notnull"`
	FulfilledGrants int       `bun:"fulfilled_grants,notnull"`
}

// Holder is the seat-holder key of an assignment: its person, or its
// invited address.
func (a *Assignment) Holder() string {
	if a.PersonID != nil {
		return a.PersonID.String()
	}
	if a.Email != nil {
		return "email:" + strings.ToLower(*a.Email)
	}
	return ""
}

// LicenseSnapshot is one license's seats on one UTC day, written by the
// snapshot job (internal/economics), never on the request path.
type LicenseSnapshot struct {
	bun.BaseModel `bun:"table:license_snapshots,alias:ls"`

	TenantID        string    `bun:"tenant_id,pk"`
	LicenseID       uuid.UUID `bun:"license_id,pk,type:uuid"`
	Day             time.Time `bun:"day,pk,type:date"`
	SeatsTotal      *int      `bun:"seats_total"`
	SeatsUsed       int       `bun:"seats_used,notnull"`
	SeatsPending    int       `bun:"seats_pending,notnull"`
	SeatsWaitlisted int       `bun:"seats_waitlisted,notnull"`
	HoldersActive   int       `bun:"holders_active,notnull"`
	TakenAt         time.Time `bun:"taken_at,notnull"`
}
