package models

import (
	"fmt"
	"io"
	"strconv"
)

// SourceType says what kind of caller wrote a record.
type SourceType string

// The source types of SPEC §2.
const (
	SourceFrontend SourceType = "FRONTEND"
	SourceBackend  SourceType = "BACKEND"
	SourceServer   SourceType = "SERVER"
	SourceSystem   SourceType = "SYSTEM"
	SourceAPI      SourceType = "API"
)

// EventType is the kind of an AssignmentEvent.
type EventType string

// The assignment event types.
const (
	EventAssigned   EventType = "ASSIGNED"
	EventUpdated    EventType = "UPDATED"
	EventSuspended  EventType = "SUSPENDED"
	EventResumed    EventType = "RESUMED"
	EventFulfilled  EventType = "FULFILLED"
	EventWaitlisted EventType = "WAITLISTED"
	EventPromoted   EventType = "PROMOTED"
	EventExpired    EventType = "EXPIRED"
	EventRevoked    EventType = "REVOKED"
	EventDeleted    EventType = "DELETED"
	// EventDeactivated: the assignee person was deactivated; the grant
	// holds no seat until they are reactivated.
	EventDeactivated EventType = "DEACTIVATED"
	// EventReactivated: the person was reactivated and the grant got its
	// seat back (one that no longer fits is WAITLISTED instead).
	EventReactivated EventType = "REACTIVATED"
)

// Status is the derived state of an assignment.
type Status string

// The assignment statuses, in the order they are derived.
const (
	StatusRevoked Status = "REVOKED"
	StatusExpired Status = "EXPIRED"
	// StatusDeactivated: the assignee person is deactivated (seat rule 9).
	StatusDeactivated Status = "DEACTIVATED"
	StatusWaitlisted  Status = "WAITLISTED"
	StatusSuspended   Status = "SUSPENDED"
	StatusPending     Status = "PENDING"
	StatusActive      Status = "ACTIVE"
)

// BillingPeriod is how often a license's cost per seat is paid.
type BillingPeriod string

// The billing periods of SPEC §9.
const (
	BillingMonthly BillingPeriod = "MONTHLY"
	BillingAnnual  BillingPeriod = "ANNUAL"
	BillingOneTime BillingPeriod = "ONE_TIME"
)

var (
	billingPeriods = []BillingPeriod{BillingMonthly, BillingAnnual, BillingOneTime}
	sourceTypes    = []SourceType{SourceFrontend, SourceBackend, SourceServer, SourceSystem, SourceAPI}
	eventTypes     = []EventType{EventAssigned, EventUpdated, EventSuspended, EventResumed, EventFulfilled,
		EventWaitlisted, EventPromoted, EventExpired, EventRevoked, EventDeleted,
		EventDeactivated, EventReactivated, EventReclaimWarning, EventReclaimCancelled}
	statuses = []Status{StatusRevoked, StatusExpired, StatusDeactivated, StatusWaitlisted, StatusSuspended, StatusPending, StatusActive}
)

// MarshalGQL writes the enum value.
func (s SourceType) MarshalGQL(w io.Writer) { marshalEnum(w, string(s)) }

// UnmarshalGQL reads and checks an enum value.
func (s *SourceType) UnmarshalGQL(v any) error { return unmarshalEnum(v, s, sourceTypes) }

// MarshalGQL writes the enum value.
func (e EventType) MarshalGQL(w io.Writer) { marshalEnum(w, string(e)) }

// UnmarshalGQL reads and checks an enum value.
func (e *EventType) UnmarshalGQL(v any) error { return unmarshalEnum(v, e, eventTypes) }

// MarshalGQL writes the enum value.
func (s Status) MarshalGQL(w io.Writer) { marshalEnum(w, string(s)) }

// UnmarshalGQL reads and checks an enum value.
func (s *Status) UnmarshalGQL(v any) error { return unmarshalEnum(v, s, statuses) }

// MarshalGQL writes the enum value.
func (b BillingPeriod) MarshalGQL(w io.Writer) { marshalEnum(w, string(b)) }

// UnmarshalGQL reads and checks an enum value.
func (b *BillingPeriod) UnmarshalGQL(v any) error { return unmarshalEnum(v, b, billingPeriods) }

func marshalEnum(w io.Writer, s string) { _, _ = io.WriteString(w, strconv.Quote(s)) }

func unmarshalEnum[E ~string](v any, dst *E, valid []E) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("enum value must be a string, got %T", v)
	}
	for _, e := range valid {
		if string(e) == s {
			*dst = e
			return nil
		}
	}
	return fmt.Errorf("%q is not a valid value", s)
}

// AssigneeType says what an assignment is granted to.
type AssigneeType string

// The assignee types.
const (
	AssigneePerson AssigneeType = "PERSON"
	AssigneeGroup  AssigneeType = "GROUP"
	AssigneeEmail  AssigneeType = "EMAIL"
)

var assigneeTypes = []AssigneeType{AssigneePerson, AssigneeGroup, AssigneeEmail}

// MarshalGQL writes the enum value.
func (t AssigneeType) MarshalGQL(w io.Writer) { marshalEnum(w, string(t)) }

// UnmarshalGQL reads and checks an enum value.
func (t *AssigneeType) UnmarshalGQL(v any) error { return unmarshalEnum(v, t, assigneeTypes) }

// AssigneeType derives the kind of assignee from the foreign key that is set.
func (a *Assignment) AssigneeType() AssigneeType {
	switch {
	case a.GroupID != nil:
		return AssigneeGroup
	case a.PersonID != nil:
		return AssigneePerson
	default:
		return AssigneeEmail
	}
}
