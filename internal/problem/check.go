package problem

import (
	"encoding/json"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"seatgraph/internal/gid"
)

// Input limits that hold for every text and JSON value a mutation takes:
// bigger values are refused with INVALID.
const (
	MaxTextLength = 500
	MaxJSONBytes  = 16 << 10
	MaxURLLength  = 2048
)

// Check collects the problems of one input; field paths are prefixed with
// Prefix (for example "input." or "input.items[2].").
type Check struct {
	Prefix   string
	Problems List
}

// Add records a problem about field.
func (c *Check) Add(code Code, field, format string, args ...any) {
	c.Problems = append(c.Problems, New(code, c.Prefix+field, format, args...))
}

// Err is the problems found, or nil.
func (c *Check) Err() error { return c.Problems.Err() }

// ID parses a required TypeID of kind k.
func (c *Check) ID(k gid.Kind, field, s string) uuid.UUID {
	u, err := k.Parse(s)
	if err != nil {
		c.Add(Invalid, field, "%v", err)
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
		c.Add(Invalid, field, "must not be blank")
	case len(*s) > MaxTextLength:
		c.Add(Invalid, field, "is longer than %d bytes", MaxTextLength)
	}
}

// Email checks an email address.
func (c *Check) Email(field string, s *string) {
	if s == nil {
		return
	}
	a, err := mail.ParseAddress(*s)
	if err != nil || a.Address != strings.TrimSpace(*s) || len(*s) > MaxTextLength {
		c.Add(Invalid, field, "%q is not an email address", *s)
	}
}

// URL checks an absolute http(s) URL.
func (c *Check) URL(field string, s *string) {
	if s == nil {
		return
	}
	u, err := url.Parse(*s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(*s) > MaxURLLength {
		c.Add(Invalid, field, "must be an absolute http or https URL")
	}
}

// JSON checks the size of a JSON object.
func (c *Check) JSON(field string, m map[string]any) {
	if m == nil {
		return
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > MaxJSONBytes {
		c.Add(Invalid, field, "must be a JSON object of at most %d bytes", MaxJSONBytes)
	}
}

// Range checks that a whole number lies between lo and hi.
func (c *Check) Range(field string, n *int, lo, hi int) {
	if n != nil && (*n < lo || *n > hi) {
		c.Add(Invalid, field, "must be between %d and %d", lo, hi)
	}
}

// Future checks that a time is after now.
func (c *Check) Future(field string, t *time.Time, now time.Time) {
	if t != nil && !t.After(now) {
		c.Add(Invalid, field, "must be in the future")
	}
}

// Exactly checks that exactly one of the named values is given; the
// problem is reported on the first name.
func (c *Check) Exactly(names []string, values ...*string) {
	n := 0
	for _, v := range values {
		if v != nil {
			n++
		}
	}
	if n != 1 {
		c.Add(Invalid, names[0], "give exactly one of %s (got %d)", strings.Join(names, ", "), n)
	}
}
