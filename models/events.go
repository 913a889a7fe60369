package models

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Event is one row of the event outbox (SPEC §7): a change, written in
// the same transaction as the change. Seq orders a tenant's events in
// commit order.
type Event struct {
	bun.BaseModel `bun:"table:events,alias:ev"`

	TenantID   string          `bun:"tenant_id,pk"`
	Seq        int64           `bun:"seq,pk"`
	ID         uuid.UUID       `bun:"id,notnull,type:uuid"`
	AppID      *string         `bun:"app_id"`
	Type       string          `bun:"type,notnull"`
	OccurredAt time.Time       `bun:"occurred_at,notnull"`
	Actor      string          `bun:"actor,notnull"`
	ActorType  SourceType      `bun:"actor_type,notnull"`
	SubjectID  uuid.UUID       `bun:"subject_id,notnull,type:uuid"`
	LicenseID  *uuid.UUID      `bun:"license_id,type:uuid"`
	AssigneeID *uuid.UUID      `bun:"assignee_id,type:uuid"`
	History    *EventType      `bun:"history"`
	Data       json.RawMessage `bun:"data,type:jsonb,notnull"`
}

// WebhookEndpoint is a URL that receives a tenant's events, signed with
// its secret.
type WebhookEndpoint struct {
	bun.BaseModel `bun:"table:webhook_endpoints,alias:we"`

	TenantID                string     `bun:"tenant_id,pk"`
	ID                      uuid.UUID  `bun:"id,pk,type:uuid"`
	AppID                   *string    `bun:"app_id"`
	URL                     string     `bun:"url,notnull"`
	Description             *string    `bun:"description"`
	EventTypes              []string   `bun:"event_types,array,notnull"`
	Secret                  string     `bun:"secret,notnull"`
	PreviousSecret          *string    `bun:"previous_secret"`
	PreviousSecretExpiresAt *time.Time `bun:"previous_secret_expires_at"`
	Enabled                 bool       `bun:"enabled,notnull"`
	DisabledAt              *time.Time `bun:"disabled_at"`
	DisabledReason          *string    `bun:"disabled_reason"`
	FailingSince            *time.Time `bun:"failing_since"`
	CreatedAt               time.Time  `bun:"created_at,notnull"`
	UpdatedAt               time.Time  `bun:"updated_at,notnull"`
	CreatedBy               string     `bun:"created_by,notnull"`
	UpdatedBy               string     `bun:"updated_by,notnull"`
	IsDeleted               bool       `bun:"is_deleted,notnull"`
	DeletedAt               *time.Time `bun:"deleted_at"`
}

// The states of a webhook delivery.
const (
	DeliveryPending   = "PENDING"
	DeliveryDelivered = "DELIVERED"
	DeliveryFailing   = "FAILING"
	DeliveryFailed    = "FAILED"
)

// WebhookDelivery is one event to send to one endpoint, with the outcome
// of its last attempt.
type WebhookDelivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries,alias:wd"`

	TenantID       string     `bun:"tenant_id,pk"`
	ID             uuid.UUID  `bun:"id,pk,type:uuid"`
	EndpointID     uuid.UUID  `bun:"endpoint_id,notnull,type:uuid"`
	EventSeq       int64      `bun:"event_seq,notnull"`
	Status         string     `bun:"status,notnull"`
	Attempts       int        `bun:"attempts,notnull"`
	NextAttemptAt  *time.Time `bun:"next_attempt_at"`
	LastAttemptAt  *time.Time `bun:"last_attempt_at"`
	LastStatus     *int       `bun:"last_status"`
	LastError      *string    `bun:"last_error"`
	LastDurationMS *int       `bun:"last_duration_ms"`
	CreatedAt      time.Time  `bun:"created_at,notnull"`
}

// EventStream numbers a tenant's events: its row is locked by each
// writer from the end of its work to its commit.
type EventStream struct {
	bun.BaseModel `bun:"table:event_streams,alias:es"`

	TenantID string `bun:"tenant_id,pk"`
	LastSeq  int64  `bun:"last_seq,notnull"`
}
