package problem

import (
	"strings"
	"testing"
	"time"

	"seatgraph/internal/gid"
)

func ptr[T any](v T) *T { return &v }

func TestCheck(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name  string
		check func(*Check)
		field string // "" when the input is fine
	}{
		{"a license id", func(c *Check) { c.ID(gid.License, "id", gid.License.Format(gid.New())) }, ""},
		{"a person id where a license id belongs", func(c *Check) { c.ID(gid.License, "id", gid.Person.Format(gid.New())) }, "input.id"},
		{"no optional id", func(c *Check) { c.OptID(gid.Group, "groupId", nil) }, ""},
		{"blank required text", func(c *Check) { c.Text("name", ptr("  "), true) }, "input.name"},
		{"blank optional text", func(c *Check) { c.Text("name", ptr(""), false) }, ""},
		{"text too long", func(c *Check) { c.Text("name", ptr(strings.Repeat("x", MaxTextLength+1)), false) }, "input.name"},
		{"an email", func(c *Check) { c.Email("email", ptr("ada@example.com")) }, ""},
		{"a name and address", func(c *Check) { c.Email("email", ptr("Ada <ada@example.com>")) }, "input.email"},
		{"not an email", func(c *Check) { c.Email("email", ptr("ada")) }, "input.email"},
		{"an https URL", func(c *Check) { c.URL("redirectTo", ptr("https://example.com/x")) }, ""},
		{"a javascript URL", func(c *Check) { c.URL("redirectTo", ptr("javascript:alert(1)")) }, "input.redirectTo"},
		{"a relative URL", func(c *Check) { c.URL("redirectTo", ptr("/x")) }, "input.redirectTo"},
		{"small JSON", func(c *Check) { c.JSON("metadata", map[string]any{"a": 1}) }, ""},
		{"JSON too big", func(c *Check) { c.JSON("metadata", map[string]any{"a": strings.Repeat("x", MaxJSONBytes)}) }, "input.metadata"},
		{"in range", func(c *Check) { c.Range("totalSeats", ptr(0), 0, 10) }, ""},
		{"below range", func(c *Check) { c.Range("totalSeats", ptr(-1), 0, 10) }, "input.totalSeats"},
		{"in the future", func(c *Check) { c.Future("expiresAt", ptr(now.Add(time.Hour)), now) }, ""},
		{"now is not the future", func(c *Check) { c.Future("expiresAt", &now, now) }, "input.expiresAt"},
		{"exactly one", func(c *Check) { c.Exactly([]string{"a", "b"}, ptr("x"), nil) }, ""},
		{"none of two", func(c *Check) { c.Exactly([]string{"a", "b"}, nil, nil) }, "input.a"},
		{"both of two", func(c *Check) { c.Exactly([]string{"a", "b"}, ptr("x"), ptr("y")) }, "input.a"},
	}
	for _, tc := range cases {
		c := Check{Prefix: "input."}
		tc.check(&c)
		switch {
		case tc.field == "" && c.Err() != nil:
			t.Errorf("%s: refused: %v", tc.name, c.Err())
		case tc.field != "" && (len(c.Problems) != 1 || c.Problems[0].Field != tc.field || c.Problems[0].Code != Invalid):
			t.Errorf("%s: problems %v, want one INVALID on %s", tc.name, c.Problems, tc.field)
		}
	}
}
