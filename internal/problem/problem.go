// Package problem defines the business errors services return. The API
// layer maps them in one place: to userErrors in mutation payloads, and to
// GraphQL errors with extensions.code on queries.
package problem

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies a problem; the values are the API's UserError codes.
type Code string

// The problem codes of SPEC §3.
const (
	Invalid          Code = "INVALID"
	NotFound         Code = "NOT_FOUND"
	Conflict         Code = "CONFLICT"
	SeatLimitReached Code = "SEAT_LIMIT_REACHED"
	LicenseExpired   Code = "LICENSE_EXPIRED"
	AlreadyRevoked   Code = "ALREADY_REVOKED"
	StaleWrite       Code = "STALE_WRITE"
)

// Error is an expected business failure the caller can act on.
type Error struct {
	Code Code
	// Field is the input path the problem is about, when there is one
	// (for example "filter.licenseIds").
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// New makes a problem.
func New(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// InvalidInput wraps err as an INVALID problem about field.
func InvalidInput(field string, err error) *Error {
	return &Error{Code: Invalid, Field: field, Message: err.Error()}
}

// As finds a problem in err's chain.
func As(err error) (*Error, bool) {
	var p *Error
	ok := errors.As(err, &p)
	return p, ok
}

// List is several problems found at once, such as by input validation.
type List []*Error

func (l List) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Err returns l as an error, or nil when l is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// All returns the problems in err: one, several (a List), or none when
// err is not a business problem.
func All(err error) ([]*Error, bool) {
	var l List
	if errors.As(err, &l) {
		return l, true
	}
	if p, ok := As(err); ok {
		return []*Error{p}, true
	}
	return nil, false
}
