package economics_test

import (
	"testing"
	"time"

	"seatgraph/internal/apitest"
)

// TestBatching: License.usage and License.utilization over a page of
// licenses cost the same statements for 2 licenses as for 12 (one batch
// per field, whatever the list's length). Each count is the least of
// three runs: on a loaded machine a resolver can miss its loader's batch
// window now and then, which costs a statement, not a batch per license.
func TestBatching(t *testing.T) {
	srv := apitest.NewServer(t)
	from := time.Now().UTC().AddDate(0, 0, -7).Format(time.RFC3339)
	statements := func(n int) int64 {
		c := newClient(t, srv, apitest.Tenant("batch"))
		for i := range n {
			l := c.license(map[string]any{"name": "L" + string(rune('a'+i)), "totalSeats": 5})
			c.assign(map[string]any{"licenseId": l, "email": "x@b.example"})
		}
		least := int64(-1)
		for range 3 {
			before := srv.DB.Statements()
			d := c.do(`query($from: DateTime!) { licenses(first: 50) { nodes { name usage { holders neverUsed }
				utilization(from: $from) { used } week: utilization(from: $from, interval: WEEK) { used } } } }`, map[string]any{"from": from})
			if got := len(at(d, "licenses", "nodes").([]any)); got != n {
				t.Fatalf("%d licenses, want %d", got, n)
			}
			for _, l := range at(d, "licenses", "nodes").([]any) {
				if num(at(l, "usage", "holders")) != 1 || len(at(l, "utilization").([]any)) != 1 {
					t.Errorf("license %v", l)
				}
			}
			if d := srv.DB.Statements() - before; least < 0 || d < least {
				least = d
			}
		}
		return least
	}
	few, many := statements(2), statements(12)
	if few != many {
		t.Errorf("2 licenses: %d statements, 12 licenses: %d; want the same", few, many)
	}
	t.Logf("%d statements for 2 or 12 licenses", many)
}
