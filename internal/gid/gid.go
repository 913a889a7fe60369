// Package gid converts between the TypeIDs seatgraph shows on its API
// ("lic_01h…") and the UUIDv7 values stored in uuid columns.
package gid

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.jetify.com/typeid"
	"go.jetify.com/typeid/base32"
)

// Kind is the type prefix of a TypeID; it names what the id points at.
type Kind string

// The kinds of records that have ids on the API.
const (
	License    Kind = "lic"
	Assignment Kind = "asg"
	Person     Kind = "per"
	Group      Kind = "grp"
	Event      Kind = "evt"
	// Webhook endpoints and their deliveries (not Nodes).
	WebhookEndpoint Kind = "whe"
	WebhookDelivery Kind = "whd"
)

var kinds = map[string]Kind{
	string(License): License, string(Assignment): Assignment,
	string(Person): Person, string(Group): Group, string(Event): Event,
	string(WebhookEndpoint): WebhookEndpoint, string(WebhookDelivery): WebhookDelivery,
}

// ErrInvalid is wrapped by every parse failure.
var ErrInvalid = errors.New("invalid id")

// New returns a fresh UUIDv7: time-sortable, so newer records sort later.
func New() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}

// Format renders u as a TypeID of kind k: the kind, an underscore and the
// uuid in the typeid library's base32. (typeid.FromUUIDBytesWithPrefix
// gives the same string, but goes through the uuid's text and validates
// its own output: five allocations where this makes one; a list of 50
// grants formats 50 ids. TestFormatIsTypeID holds the two equal.)
func (k Kind) Format(u uuid.UUID) string {
	return string(k) + "_" + base32.Encode(u)
}

// FormatPtr is Format for an optional id.
func (k Kind) FormatPtr(u *uuid.UUID) *string {
	if u == nil {
		return nil
	}
	s := k.Format(*u)
	return &s
}

// Parse reads a TypeID that must be of kind k.
func (k Kind) Parse(s string) (uuid.UUID, error) {
	kind, u, err := Parse(s)
	if err != nil {
		return uuid.Nil, err
	}
	if kind != k {
		return uuid.Nil, fmt.Errorf("%w: %q is a %s id, expected a %s id", ErrInvalid, s, kind, k)
	}
	return u, nil
}

// ParseAll reads a list of TypeIDs that must all be of kind k.
func (k Kind) ParseAll(ss []string) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, 0, len(ss))
	for _, s := range ss {
		u, err := k.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// Parse reads a TypeID of any known kind.
func Parse(s string) (Kind, uuid.UUID, error) {
	tid, err := typeid.FromString(s)
	if err != nil {
		return "", uuid.Nil, fmt.Errorf("%w: %q is not a TypeID", ErrInvalid, s)
	}
	kind, ok := kinds[tid.Prefix()]
	if !ok {
		return "", uuid.Nil, fmt.Errorf("%w: %q has an unknown type prefix", ErrInvalid, s)
	}
	u, err := uuid.FromBytes(tid.UUIDBytes())
	if err != nil {
		return "", uuid.Nil, fmt.Errorf("%w: %q", ErrInvalid, s)
	}
	return kind, u, nil
}
