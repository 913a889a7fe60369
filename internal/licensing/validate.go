package licensing

import (
	"encoding/json"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/gid"
	"seatgraph/internal/problem"
	"seatgraph/models"
)

// Input limits: bigger values are refused with INVALID.
const (
	MaxMetadataBytes = 16 << 10
	MaxTextLength    = 500
	MaxSeats         = 10_000_000
	MaxBulkItems     = 100
)

// Check collects input problems; field paths are prefixed with Prefix.
type Check struct {
	Prefix   string
	Problems problem.List
}

// Add records a problem about field.
func (c *Check) Add(code problem.Code, field, format string, args ...any) {
	c.Problems = append(c.Problems, problem.New(code, c.Prefix+field, format, args...))
}

// Err is the problems found, or nil.
func (c *Check) Err() error { return c.Problems.Err() }

// ID parses a required TypeID of kind k.
func (c *Check) ID(k gid.Kind, field, s string) uuid.UUID {
	u, err := k.Parse(s)
	if err != nil {
		c.Add(problem.Invalid, field, "%v", err)
	}
	return u
}

// OptID parses an optional TypeID of kind k.
func (c *Check) OptID(k gid.Kind, field string, s *string) *uuid.UUID {
	if s == nil {
		return nil
	}
	u := c.ID(k, field, *s)
	return &u
}

// Text checks a string's length (and, when required, that it is not blank).
func (c *Check) Text(field string, s *string, required bool) {
	switch {
	case s == nil:
	case required && strings.TrimSpace(*s) == "":
		c.Add(problem.Invalid, field, "must not be blank")
	case len(*s) > MaxTextLength:
		c.Add(problem.Invalid, field, "is longer than %d bytes", MaxTextLength)
	}
}

// Email checks an email address.
func (c *Check) Email(field string, s *string) {
	if s == nil {
		return
	}
	a, err := mail.ParseAddress(*s)
	if err != nil || a.Address != strings.TrimSpace(*s) || len(*s) > MaxTextLength {
		c.Add(problem.Invalid, field, "%q is not an email address", *s)
	}
}

// URL checks an absolute http(s) URL.
func (c *Check) URL(field string, s *string) {
	if s == nil {
		return
	}
	u, err := url.Parse(*s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(*s) > 2048 {
		c.Add(problem.Invalid, field, "must be an absolute http or https URL")
	}
}

// Metadata checks the size of a JSON object.
func (c *Check) Metadata(field string, m map[string]any) {
	if m == nil {
		return
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > MaxMetadataBytes {
		c.Add(problem.Invalid, field, "must be a JSON object of at most %d bytes", MaxMetadataBytes)
	}
}

// Seats checks a seat count.
func (c *Check) Seats(field string, n *int) {
	if n != nil && (*n < 0 || *n > MaxSeats) {
		c.Add(problem.Invalid, field, "must be between 0 and %d", MaxSeats)
	}
}

// Future checks that a time is after now.
func (c *Check) Future(field string, t *time.Time, now time.Time) {
	if t != nil && !t.After(now) {
		c.Add(problem.Invalid, field, "must be in the future")
	}
}

// SourceType refuses SYSTEM, which is reserved for the server's own jobs.
func (c *Check) SourceType(field string, t *models.SourceType) {
	if t != nil && *t == models.SourceSystem {
		c.Add(problem.Invalid, field, "SYSTEM is reserved for the server's own jobs")
	}
}
